import BrookRecords
import NIOCore
import PropertyBased
import Testing

@Suite struct RecordBatchRecompressionTests {
    @Test func recompressionKeepsRecordsAndHeaderFields() async {
        await propertyCheck(count: 60, input: Generators.batchSpec(), Gen.int(in: 0...4)) { spec, target in
            let codec = CompressionCodec.allCases[target]
            let original = try RecordBatch(try spec.build())
            let converted = try original.recompressed(to: codec)
            try converted.validate()
            #expect(converted.compression == codec)
            #expect(try converted.records() == spec.expectedRecords)
            #expect(converted.baseOffset == original.baseOffset)
            #expect(converted.partitionLeaderEpoch == original.partitionLeaderEpoch)
            #expect(converted.lastOffsetDelta == original.lastOffsetDelta)
            #expect(converted.baseTimestamp == original.baseTimestamp)
            #expect(converted.maxTimestamp == original.maxTimestamp)
            #expect(converted.producerId == original.producerId)
            #expect(converted.producerEpoch == original.producerEpoch)
            #expect(converted.baseSequence == original.baseSequence)
            #expect(converted.recordCount == original.recordCount)
            var otherBits = converted.attributes
            otherBits.compression = original.compression
            #expect(otherBits == original.attributes)
            #expect(try converted.uncompressedRecordsSection() == original.uncompressedRecordsSection())
        }
    }

    @Test func aBatchInTheTargetCodecIsReturnedWithoutACopy() throws {
        var builder = RecordBatchBuilder(configuration: .init(compression: .gzip))
        builder.append(timestamp: 5, key: ByteBuffer(string: "k"), value: ByteBuffer(string: "v"))
        let batch = try RecordBatch(try builder.build())
        let same = try batch.recompressed(to: .gzip)
        #expect(same == batch)
        let address = { (buffer: ByteBuffer) in buffer.withUnsafeReadableBytes { $0.baseAddress } }
        #expect(address(same.bytes) == address(batch.bytes))
    }

    @Test func aGivenUncompressedSectionIsUsedAsIs() throws {
        var builder = RecordBatchBuilder(configuration: .init(compression: .zstd))
        for index in 0..<20 {
            builder.append(timestamp: Int64(index), key: nil, value: ByteBuffer(string: "value-\(index)-value-\(index)"))
        }
        let batch = try RecordBatch(try builder.build())
        let plain = try batch.uncompressedRecordsSection()
        #expect(plain.readableBytes == builder.recordsSize)
        let converted = try batch.recompressed(to: .snappy, uncompressedRecords: plain)
        try converted.validate()
        #expect(try converted.records() == batch.records())
    }

    @Test func codecLevelsApply() throws {
        var builder = RecordBatchBuilder(configuration: .init(compression: .none))
        for index in 0..<200 {
            builder.append(timestamp: 0, key: nil, value: ByteBuffer(string: String(repeating: "kafka-\(index % 7) ", count: 20)))
        }
        let batch = try RecordBatch(try builder.build())
        let fast = try batch.recompressed(to: .zstd, level: 1)
        let strong = try batch.recompressed(to: .zstd, level: 19)
        #expect(strong.sizeInBytes <= fast.sizeInBytes)
        #expect(try strong.records() == batch.records())
    }

    @Test func unknownCodecsAndCorruptSectionsThrow() throws {
        let unknownCodec = try RecordBatch(rawBatch(records: [], recordCount: 0, lastOffsetDelta: 0, attributes: 5))
        #expect(throws: RecordBatchError.unsupportedCompression(5)) { try unknownCodec.recompressed(to: .gzip) }

        let notGzip = try RecordBatch(rawBatch(records: [1, 2, 3, 4], recordCount: 1, lastOffsetDelta: 0, attributes: 1))
        let error = #expect(throws: RecordBatchError.self) { try notGzip.recompressed(to: .none) }
        guard case .decompressionFailed(codec: .gzip, _)? = error else {
            Issue.record("expected a gzip decompression failure, got \(String(describing: error))")
            return
        }
    }

    @Test func anEmptyCleanedBatchKeepsItsEmptySection() throws {
        let cleaned = try RecordBatch(rawBatch(records: [], recordCount: 0, lastOffsetDelta: 3, attributes: 4))
        #expect(try cleaned.uncompressedRecordsSection().readableBytes == 0)
    }
}
