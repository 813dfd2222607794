// Brook's micro-benchmarks for the foundation layer: CRC-32C, record-batch validation and the
// encode/decode of a Produce request carrying 1 MiB of records, each beside a memcpy of the same
// bytes measured in the same run. Run with `make bench`; figures go into BENCHMARKS.md.
import Benchmark
import BrookProtocol
import BrookRecords
import NIOCore

let mebibyte = 1 << 20

/// 1 MiB of pseudo-random bytes (fixed seed, so every run hashes the same input).
let randomMebibyte: ByteBuffer = {
    var state: UInt64 = 0x2545_F491_4F6C_DD1D
    var buffer = ByteBuffer()
    buffer.reserveCapacity(mebibyte)
    for _ in 0..<(mebibyte / 8) {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        buffer.writeInteger(state)
    }
    return buffer
}()

/// Concatenated batches of 100 records of 100 bytes each (a typical producer batch, ~11 KB),
/// filling about 1 MiB, as a Produce request's `records` field carries them.
let producedBatches: ByteBuffer = {
    var output = ByteBuffer()
    let value = ByteBuffer(repeating: 0x61, count: 100)
    var offset: Int64 = 0
    while output.readableBytes < mebibyte {
        var builder = RecordBatchBuilder(configuration: .init(baseOffset: offset))
        for index in 0..<100 {
            builder.append(timestamp: 1_700_000_000_000 + Int64(index), key: nil, value: value)
        }
        var batch = try! builder.build()
        output.writeBuffer(&batch)
        offset += 100
    }
    return output
}()

let batchCount = (try? RecordBatchReader.batches(in: producedBatches).count) ?? 0

let produceRequest = ProduceRequest(
    transactionalId: nil, acks: -1, timeoutMs: 30_000,
    topicData: [.init(name: "bench", partitionData: [.init(index: 0, records: producedBatches)])]
)
let encodedProduceRequest: ByteBuffer = try! produceRequest.encoded(version: 9)

/// The value bytes of every record of `producedBatches`, each batch's records counted by `count`.
func valueBytesOfEveryRecord(_ count: (inout RecordIterator) -> Int) -> Int {
    var reader = RecordBatchReader(producedBatches)
    var bytes = 0
    while let batch = try! reader.next() {
        var records = try! batch.makeRecordIterator()
        bytes &+= count(&records)
    }
    return bytes
}

nonisolated(unsafe) let throughput = Benchmark.Configuration(
    metrics: [.wallClock, .throughput],
    warmupIterations: 10,
    scalingFactor: .one,
    maxDuration: .seconds(3),
    maxIterations: 1_000_000
)

let benchmarks: @Sendable () -> Void = {
    // Read once, before any benchmark runs; never mutated.
    Benchmark("memcpy 1 MiB (reference)", configuration: throughput) { benchmark in
        let destination = UnsafeMutableRawBufferPointer.allocate(byteCount: mebibyte, alignment: 64)
        defer { destination.deallocate() }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            randomMebibyte.withUnsafeReadableBytes { source in
                destination.copyMemory(from: source)
            }
            blackHole(destination.baseAddress)
        }
    }

    Benchmark("CRC-32C 1 MiB (SSE4.2)", configuration: throughput) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(CRC32C.checksum(randomMebibyte))
        }
    }

    Benchmark("CRC-32C 1 MiB (portable)", configuration: throughput) { benchmark in
        for _ in benchmark.scaledIterations {
            randomMebibyte.withUnsafeReadableBytes { bytes in
                blackHole(CRC32C.portableUpdate(0, bytes))
            }
        }
    }

    Benchmark("Validate 1 MiB of 100x100 B batches (header + CRC)", configuration: throughput) { benchmark in
        for _ in benchmark.scaledIterations {
            var reader = RecordBatchReader(producedBatches)
            while let batch = try! reader.next() {
                try! batch.validate()
            }
        }
    }

    Benchmark("Read 1 MiB of batch headers (no CRC)", configuration: throughput) { benchmark in
        for _ in benchmark.scaledIterations {
            var reader = RecordBatchReader(producedBatches)
            var records: Int32 = 0
            while let batch = try! reader.next() {
                records &+= batch.recordCount
            }
            blackHole(records)
        }
    }

    Benchmark("Decode every record of 1 MiB of 100x100 B batches", configuration: throughput) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(valueBytesOfEveryRecord { records in
                var bytes = 0
                while let record = try! records.next() { bytes &+= record.value?.readableBytes ?? 0 }
                return bytes
            })
        }
    }

    Benchmark("Decode every record of 1 MiB of 100x100 B batches, whole batches", configuration: throughput) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(valueBytesOfEveryRecord { records in
                var bytes = 0
                try! records.forEachRemaining { record in bytes &+= record.value?.readableBytes ?? 0 }
                return bytes
            })
        }
    }

    Benchmark("Decode Produce v9 carrying 1 MiB of records", configuration: throughput) { benchmark in
        for _ in benchmark.scaledIterations {
            var buffer = encodedProduceRequest
            blackHole(try! ProduceRequest(from: &buffer, version: 9))
        }
    }

    Benchmark("Encode Produce v9 carrying 1 MiB of records", configuration: throughput) { benchmark in
        var buffer = ByteBuffer()
        buffer.reserveCapacity(2 * mebibyte)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            buffer.clear()
            try! produceRequest.write(to: &buffer, version: 9)
            blackHole(buffer.readableBytes)
        }
    }
}
