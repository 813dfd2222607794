import BrookRecords
import NIOCore
import PropertyBased
import Testing

@Suite struct RecordBatchMutationTests {
    @Test func settingOffsetsAndEpochKeepsTheBatchValid() async {
        await propertyCheck(count: 50, input: Generators.batchSpec(), Gen.int64(in: 0...Int64.max / 2), Gen.int32()) {
            spec, newBase, epoch in
            var batch = try RecordBatch(try spec.build())
            let crc = batch.crc
            batch.setBaseOffset(newBase)
            batch.setPartitionLeaderEpoch(epoch)
            try batch.validate()
            #expect(batch.crc == crc)
            #expect(batch.baseOffset == newBase)
            #expect(batch.partitionLeaderEpoch == epoch)
            let shift = newBase - spec.configuration.baseOffset
            #expect(try batch.records().map(\.offset) == spec.records.map { $0.offset + shift })
        }
    }

    @Test func logAppendTimeRewritesTimestampsAndCRC() async {
        await propertyCheck(count: 50, input: Generators.batchSpec(), Gen.int64(in: 0...4_000_000_000_000)) { spec, now in
            var batch = try RecordBatch(try spec.build())
            batch.setMaxTimestamp(now, timestampType: .logAppendTime)
            try batch.validate()
            #expect(batch.timestampType == .logAppendTime)
            #expect(batch.maxTimestamp == now)
            #expect(batch.compression == spec.configuration.compression)
            #expect(try batch.records().allSatisfy { $0.timestamp == now })

            batch.setMaxTimestamp(12, timestampType: .createTime)
            try batch.validate()
            #expect(batch.timestampType == .createTime)
        }
    }

    @Test func staticPatchesWorkInPlaceOnAMultiBatchBuffer() throws {
        var buffer = ByteBuffer()
        for _ in 0..<3 {
            buffer.writeImmutableBuffer(try RecordBatchCorruptionTests.smallBatch())
        }
        let storage = buffer.withUnsafeReadableBytes { $0.baseAddress! }
        var reader = RecordBatchReader(buffer)
        var located: [(index: Int, size: Int)] = []
        while true {
            let index = reader.position
            guard let batch = try reader.next() else { break }
            located.append((index, batch.sizeInBytes))
        }
        reader = RecordBatchReader(ByteBuffer())  // drop the reader's reference to the storage

        var nextOffset: Int64 = 1_000
        for (index, size) in located {
            RecordBatch.setBaseOffset(nextOffset, ofBatchAt: index, in: &buffer)
            RecordBatch.setPartitionLeaderEpoch(7, ofBatchAt: index, in: &buffer)
            RecordBatch.setMaxTimestamp(99, timestampType: .logAppendTime, ofBatchAt: index, size: size, in: &buffer)
            nextOffset += 2
        }
        #expect(buffer.withUnsafeReadableBytes { $0.baseAddress! } == storage)

        let batches = try RecordBatchReader.batches(in: buffer)
        #expect(batches.map(\.baseOffset) == [1_000, 1_002, 1_004])
        for batch in batches {
            try batch.validate()
            #expect(batch.partitionLeaderEpoch == 7)
            #expect(try batch.records().map(\.timestamp) == [99, 99])
        }
    }

    @Test func mutatingACopyLeavesTheOriginalAlone() throws {
        let original = try RecordBatch(RecordBatchCorruptionTests.smallBatch())
        var copy = original
        copy.setBaseOffset(123)
        #expect(original.baseOffset == 5)
        #expect(copy.baseOffset == 123)
    }
}
