import BrookRecords
import Foundation
import NIOCore
import PropertyBased

/// Byte helpers shared by the tests.
extension ByteBuffer {
    init(bytes: [UInt8]) {
        self = ByteBufferAllocator().buffer(capacity: bytes.count)
        writeBytes(bytes)
    }

    var bytesArray: [UInt8] { getBytes(at: readerIndex, length: readableBytes) ?? [] }
}

/// Loads a file from the test bundle's Fixtures folder.
func fixture(_ path: String) throws -> ByteBuffer {
    guard let base = Bundle.module.resourceURL else { throw FixtureError.missing(path) }
    let url = base.appendingPathComponent("Fixtures").appendingPathComponent(path)
    let data = try Data(contentsOf: url)
    return ByteBuffer(bytes: [UInt8](data))
}

enum FixtureError: Error {
    case missing(String)
}

/// Random payloads: sometimes incompressible noise, sometimes repetitive text, sometimes empty.
func randomPayload(using rng: inout some RandomNumberGenerator, maxLength: Int) -> [UInt8] {
    let length = Int.random(in: 0...maxLength, using: &rng)
    switch Int.random(in: 0..<3, using: &rng) {
    case 0:
        return (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
    case 1:
        let word = Array("kafka-\(Int.random(in: 0...99, using: &rng)) ".utf8)
        return (0..<length).map { word[$0 % word.count] }
    default:
        let alphabet = Array("abc".utf8)
        return (0..<length).map { _ in alphabet[Int.random(in: 0..<3, using: &rng)] }
    }
}

/// A random batch description: builder configuration plus the records it should hold.
struct BatchSpec: Sendable, CustomStringConvertible {
    var configuration: RecordBatchBuilder.Configuration
    var records: [Record]

    var description: String {
        "BatchSpec(\(configuration.compression), \(configuration.timestampType), records: \(records.count), "
            + "transactional: \(configuration.isTransactional), control: \(configuration.isControlBatch))"
    }

    func build() throws -> ByteBuffer {
        var builder = RecordBatchBuilder(configuration: configuration)
        for record in records {
            try builder.append(record)
        }
        return try builder.build()
    }

    /// The records a reader should report: LogAppendTime replaces every timestamp.
    var expectedRecords: [Record] {
        guard configuration.timestampType == .logAppendTime, let append = configuration.maxTimestamp else {
            return records
        }
        return records.map { record in
            var record = record
            record.timestamp = append
            return record
        }
    }

    static func random(
        using rng: inout some RandomNumberGenerator,
        codecs: [CompressionCodec] = CompressionCodec.allCases,
        allowLogAppendTime: Bool = true
    ) -> BatchSpec {
        var configuration = RecordBatchBuilder.Configuration(
            baseOffset: Int64.random(in: 0...Int64(Int32.max) * 4, using: &rng),
            compression: codecs.randomElement(using: &rng)!)
        configuration.partitionLeaderEpoch = Int32.random(in: -1...1000, using: &rng)
        if Bool.random(using: &rng) {
            configuration.producerId = Int64.random(in: 0...1_000_000, using: &rng)
            configuration.producerEpoch = Int16.random(in: 0...Int16.max, using: &rng)
            configuration.baseSequence = Int32.random(in: 0...Int32.max, using: &rng)
            configuration.isTransactional = Bool.random(using: &rng)
        }
        if Int.random(in: 0..<8, using: &rng) == 0 {
            configuration.deleteHorizonMs = Int64.random(in: 0...2_000_000_000_000, using: &rng)
        }
        let baseTime = Int64.random(in: 0...2_000_000_000_000, using: &rng)
        var records: [Record] = []
        var offset = configuration.baseOffset + Int64.random(in: 0...3, using: &rng)
        for _ in 0..<Int.random(in: 1...12, using: &rng) {
            let key = Int.random(in: 0..<4, using: &rng) == 0 ? nil : randomPayload(using: &rng, maxLength: 40)
            let value = Int.random(in: 0..<6, using: &rng) == 0 ? nil : randomPayload(using: &rng, maxLength: 600)
            var headers: [Record.Header] = []
            for index in 0..<Int.random(in: 0...3, using: &rng) {
                let headerValue = Bool.random(using: &rng) ? randomPayload(using: &rng, maxLength: 20) : nil
                headers.append(.init(key: "h\(index)-é\(Int.random(in: 0...9, using: &rng))", value: headerValue.map { ByteBuffer(bytes: $0) }))
            }
            records.append(Record(
                offset: offset,
                timestamp: baseTime + Int64.random(in: -5_000...50_000, using: &rng),
                key: key.map { ByteBuffer(bytes: $0) },
                value: value.map { ByteBuffer(bytes: $0) },
                headers: headers))
            offset += Int.random(in: 0..<4, using: &rng) == 0 ? Int64.random(in: 2...5, using: &rng) : 1
        }
        if allowLogAppendTime && Int.random(in: 0..<5, using: &rng) == 0 {
            configuration.timestampType = .logAppendTime
            configuration.maxTimestamp = baseTime + 100_000
        }
        return BatchSpec(configuration: configuration, records: records)
    }
}

/// Generators for `propertyCheck`.
enum Generators {
    static func batchSpec(
        codecs: [CompressionCodec] = CompressionCodec.allCases,
        allowLogAppendTime: Bool = true
    ) -> Generator<BatchSpec, Shrink.None<BatchSpec>> {
        Generator { rng in BatchSpec.random(using: &rng, codecs: codecs, allowLogAppendTime: allowLogAppendTime) }
    }

    static func payload(maxLength: Int) -> Generator<[UInt8], Shrink.None<[UInt8]>> {
        Generator { rng in randomPayload(using: &rng, maxLength: maxLength) }
    }
}

/// A batch with a hand-written records section and header fields; CRC computed.
func rawBatch(
    records: [UInt8],
    recordCount: Int32,
    lastOffsetDelta: Int32,
    attributes: Int16 = 0,
    baseOffset: Int64 = 0
) -> ByteBuffer {
    var buffer = ByteBufferAllocator().buffer(capacity: 61 + records.count)
    buffer.writeInteger(baseOffset)
    buffer.writeInteger(Int32(49 + records.count))
    buffer.writeInteger(Int32(0))
    buffer.writeInteger(Int8(2))
    buffer.writeInteger(UInt32(0))
    buffer.writeInteger(attributes)
    buffer.writeInteger(lastOffsetDelta)
    buffer.writeInteger(Int64(1_000))
    buffer.writeInteger(Int64(1_000))
    buffer.writeInteger(Int64(-1))
    buffer.writeInteger(Int16(-1))
    buffer.writeInteger(Int32(-1))
    buffer.writeInteger(recordCount)
    buffer.writeBytes(records)
    RecordBatch.updateChecksum(ofBatchAt: 0, size: buffer.readableBytes, in: &buffer)
    return buffer
}
