import BrookRecords
import NIOCore
import PropertyBased
import Testing

@Suite struct RecordBatchKeyScanTests {
    @Test func findsExactlyTheRecordsWithoutKey() async {
        await propertyCheck(count: 80, input: Generators.batchSpec()) { spec in
            let batch = try RecordBatch(try spec.build())
            let expected = spec.records.indices.filter { spec.records[$0].key == nil }
            #expect(try batch.indexesOfRecordsWithoutKey() == expected)
        }
    }

    @Test func anEmptyKeyIsAKey() throws {
        var builder = RecordBatchBuilder(configuration: .init(compression: .lz4))
        builder.append(timestamp: 1, key: ByteBuffer(), value: nil)
        builder.append(timestamp: 2, key: nil, value: ByteBuffer(string: "v"), headers: [.init(key: "h", value: nil)])
        builder.append(timestamp: 3, key: ByteBuffer(string: "k"), value: nil)
        let batch = try RecordBatch(try builder.build())
        #expect(try batch.indexesOfRecordsWithoutKey() == [1])
        #expect(try batch.indexesOfRecordsWithoutKey(uncompressedRecords: batch.uncompressedRecordsSection()) == [1])
    }

    @Test func malformedSectionsThrow() throws {
        // One record: length 6, attributes, timestampDelta 0, offsetDelta 0, null key, null value, no headers.
        let record: [UInt8] = [12, 0, 0, 0, 1, 1, 0]
        let valid = try RecordBatch(rawBatch(records: record, recordCount: 1, lastOffsetDelta: 0))
        #expect(try valid.indexesOfRecordsWithoutKey() == [0])

        let missing = try RecordBatch(rawBatch(records: record, recordCount: 2, lastOffsetDelta: 1))
        #expect(throws: RecordBatchError.recordCountMismatch(declared: 2, decoded: 1)) {
            try missing.indexesOfRecordsWithoutKey()
        }
        let extra = try RecordBatch(rawBatch(records: record + record, recordCount: 1, lastOffsetDelta: 0))
        #expect(throws: RecordBatchError.corruptRecord(reason: "7 bytes remain after the last declared record")) {
            try extra.indexesOfRecordsWithoutKey()
        }
        let truncated = try RecordBatch(rawBatch(records: Array(record.dropLast()), recordCount: 1, lastOffsetDelta: 0))
        #expect(throws: RecordBatchError.self) { try truncated.indexesOfRecordsWithoutKey() }
        let nullHeaderKey = try RecordBatch(rawBatch(records: [16, 0, 0, 0, 1, 1, 2, 1, 1], recordCount: 1, lastOffsetDelta: 0))
        #expect(throws: RecordBatchError.corruptRecord(reason: "null header key")) {
            try nullHeaderKey.indexesOfRecordsWithoutKey()
        }
    }

    @Test func scanRefusesEveryTruncationOfARecordsSectionAsTheIteratorDoes() throws {
        var builder = RecordBatchBuilder()
        builder.append(timestamp: 10, key: ByteBuffer(string: "key"), value: ByteBuffer(string: "value"), headers: [.init(key: "h", value: ByteBuffer(string: "x"))])
        builder.append(timestamp: 11, key: nil, value: nil)
        let full = try RecordBatch(try builder.build())
        let section = full.recordsSection.bytesArray
        for length in 0..<section.count {
            let batch = try RecordBatch(rawBatch(records: Array(section[0..<length]), recordCount: 2, lastOffsetDelta: 1))
            #expect((try? batch.indexesOfRecordsWithoutKey()) == nil)
            #expect((try? batch.records()) == nil)
        }
    }
}
