import BrookRecords
import NIOCore
import PropertyBased
import Testing

@Suite struct RecordBatchReaderTests {
    @Test func walksConcatenatedBatchesWithoutCopying() async {
        await propertyCheck(count: 50, input: Generators.batchSpec().array(of: 1...6)) { specs in
            let built = try specs.map { try $0.build() }
            var all = ByteBuffer()
            var starts: [Int] = []
            for bytes in built {
                starts.append(all.writerIndex)
                all.writeImmutableBuffer(bytes)
            }
            var reader = RecordBatchReader(all)
            var seen: [RecordBatch] = []
            var positions: [Int] = []
            while true {
                let position = reader.position
                guard let batch = try reader.next() else { break }
                positions.append(position)
                seen.append(batch)
            }
            #expect(positions == starts)
            #expect(seen.map(\.bytes) == built)
            #expect(reader.truncatedTail == nil)
            for batch in seen {
                try batch.validate()
            }
            // Zero copy: each batch points into the concatenated buffer.
            let base = all.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress!) }
            for (batch, start) in zip(seen, starts) {
                let address = batch.bytes.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress!) }
                #expect(address == base + UInt(start))
            }
        }
    }

    @Test func trailingPartialBatchIsReportedDistinctly() throws {
        var builder = RecordBatchBuilder()
        builder.append(timestamp: 1, key: nil, value: ByteBuffer(string: "complete"))
        let complete = try builder.build()
        var buffer = complete
        buffer.writeImmutableBuffer(complete.getSlice(at: 0, length: 30)!)

        var fetch = RecordBatchReader(buffer, allowsTruncatedTail: true)
        #expect(try fetch.next() == RecordBatch(complete))
        #expect(try fetch.next() == nil)
        #expect(fetch.truncatedTail == complete.getSlice(at: 0, length: 30))
        #expect(try fetch.next() == nil)

        var produce = RecordBatchReader(buffer)
        #expect(try produce.next() == RecordBatch(complete))
        #expect(throws: RecordBatchError.truncated(needed: complete.readableBytes, available: 30)) {
            try produce.next()
        }

        // Fewer bytes than a batch length field.
        var tiny = complete
        tiny.writeBytes([0, 0, 0])
        #expect(throws: RecordBatchError.truncated(needed: 61, available: 3)) {
            try RecordBatchReader.batches(in: tiny)
        }
        #expect(try RecordBatchReader.batches(in: tiny, allowsTruncatedTail: true).count == 1)
    }

    @Test func badMagicInALaterBatchIsRejected() throws {
        let first = try RecordBatchCorruptionTests.smallBatch()
        var second = first
        second.setInteger(Int8(1), at: 16)
        var buffer = first
        buffer.writeImmutableBuffer(second)
        var reader = RecordBatchReader(buffer)
        _ = try reader.next()
        #expect(throws: RecordBatchError.invalidMagic(1)) { try reader.next() }
        // Even in a partial tail, a wrong magic is corruption, not truncation.
        #expect(throws: RecordBatchError.invalidMagic(1)) {
            try RecordBatchReader.batches(in: second.getSlice(at: 0, length: 20)!, allowsTruncatedTail: true)
        }
    }

    @Test func emptyBufferHasNoBatches() throws {
        #expect(try RecordBatchReader.batches(in: ByteBuffer()).isEmpty)
    }
}
