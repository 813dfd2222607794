import BrookRecords
import NIOCore
import PropertyBased
import Testing

@Suite struct RecordBatchCorruptionTests {
    static func smallBatch(codec: CompressionCodec = .none) throws -> ByteBuffer {
        var builder = RecordBatchBuilder(configuration: .init(baseOffset: 5, compression: codec, producerId: 9, producerEpoch: 2, baseSequence: 0))
        builder.append(timestamp: 1_000, key: ByteBuffer(string: "key"), value: ByteBuffer(string: "value"),
                       headers: [.init(key: "trace", value: ByteBuffer(string: "abc"))])
        builder.append(timestamp: 1_010, key: nil, value: ByteBuffer(string: "second"))
        return try builder.build()
    }

    @Test(arguments: CompressionCodec.allCases)
    func everySingleBitFlipIsDetected(codec: CompressionCodec) throws {
        let original = try Self.smallBatch(codec: codec)
        let unprotected = Set(0..<8).union(12..<16)  // baseOffset and partitionLeaderEpoch
        for byte in 0..<original.readableBytes {
            for bit in 0..<8 {
                var flipped = original
                flipped.setInteger(flipped.getInteger(at: byte, as: UInt8.self)! ^ (1 << bit), at: byte)
                let batch = try RecordBatch(flipped)
                if unprotected.contains(byte) {
                    try batch.validate()
                    #expect(try batch.records().count == 2)
                } else {
                    #expect(throws: RecordBatchError.self, "byte \(byte) bit \(bit) not detected") {
                        try batch.validate()
                    }
                    // Decoding unvalidated garbage may fail but must not crash.
                    _ = try? batch.records()
                }
            }
        }
    }

    @Test func flipsAreReportedWithTheRightError() throws {
        let original = try Self.smallBatch()
        func flipped(_ byte: Int, _ mask: UInt8) throws -> RecordBatch {
            var bytes = original
            bytes.setInteger(bytes.getInteger(at: byte, as: UInt8.self)! ^ mask, at: byte)
            return try RecordBatch(bytes)
        }
        #expect(throws: RecordBatchError.invalidMagic(3)) { try flipped(16, 0x01).validate() }
        let crc = try RecordBatch(original).crc
        #expect(throws: RecordBatchError.crcMismatch(expected: crc ^ 0x0100_0000, actual: crc)) {
            try flipped(17, 0x01).validate()
        }
        #expect(throws: RecordBatchError.invalidBatchLength(Int32(original.readableBytes - 12) | Int32.min)) {
            try flipped(8, 0x80).validate()
        }
    }

    @Test func truncationAtEveryLengthIsRejected() throws {
        let original = try Self.smallBatch(codec: .gzip)
        for length in 0..<original.readableBytes {
            let truncated = original.getSlice(at: 0, length: length)!
            if length < RecordBatch.headerSize {
                #expect(throws: RecordBatchError.truncated(needed: 61, available: length)) {
                    try RecordBatch(truncated)
                }
            } else {
                #expect(throws: RecordBatchError.truncated(needed: original.readableBytes, available: length)) {
                    try RecordBatch(truncated).validate()
                }
                _ = try? RecordBatch(truncated).records()
            }
            if length > 0 {
                #expect(throws: RecordBatchError.self) { try RecordBatchReader.batches(in: truncated) }
            }
            var reader = RecordBatchReader(truncated, allowsTruncatedTail: true)
            #expect(try reader.next() == nil)
            #expect(reader.truncatedTail?.readableBytes == (length == 0 ? nil : length))
        }
    }

    @Test func lyingBatchLengthIsRejected() throws {
        let original = try Self.smallBatch()
        let size = original.readableBytes
        func withLength(_ length: Int32) throws -> RecordBatch {
            var bytes = original
            bytes.setInteger(length, at: 8)
            return try RecordBatch(bytes)
        }
        #expect(throws: RecordBatchError.truncated(needed: size + 1, available: size)) {
            try withLength(Int32(size - 11)).validate()
        }
        #expect(throws: RecordBatchError.truncated(needed: Int(Int32.max) + 12, available: size)) {
            try withLength(.max).validate()
        }
        #expect(throws: RecordBatchError.batchLengthMismatch(declared: Int32(size - 13), available: size)) {
            try withLength(Int32(size - 13)).validate()
        }
        for length: Int32 in [-1, .min, 0, 48] {
            #expect(throws: RecordBatchError.invalidBatchLength(length)) { try withLength(length).validate() }
            var buffer = original
            buffer.setInteger(length, at: 8)
            #expect(throws: RecordBatchError.invalidBatchLength(length)) { try RecordBatchReader.batches(in: buffer) }
        }
        // A batch length of 49 with 61 bytes given is a valid empty batch header, but then the
        // CRC no longer matches what the producer wrote.
        #expect(throws: RecordBatchError.self) { try withLength(49).validate() }
    }

    @Test(arguments: [CompressionCodec.gzip, .snappy, .lz4, .zstd])
    func garbageInsideCompressedPayloadWithValidCRC(codec: CompressionCodec) async throws {
        let original = try Self.smallBatch(codec: codec)
        await propertyCheck(count: 100, input: Generators.payload(maxLength: 300)) { garbage in
            var bytes = original.getSlice(at: 0, length: 61)!
            bytes.writeBytes(garbage)
            bytes.setInteger(Int32(bytes.readableBytes - 12), at: 8)
            RecordBatch.updateChecksum(ofBatchAt: 0, size: bytes.readableBytes, in: &bytes)
            let batch = try RecordBatch(bytes)
            try batch.validate()
            #expect {
                try batch.records()
            } throws: { error in
                switch error as? RecordBatchError {
                case .decompressionFailed(codec: codec, _): true
                // Snappy has no magic: noise can decode to bytes that are then bad records.
                case .corruptRecord, .recordCountMismatch: codec == .snappy
                default: false
                }
            }
        }
    }

    @Test func decompressionLimitApplies() throws {
        var builder = RecordBatchBuilder(configuration: .init(compression: .zstd))
        builder.append(timestamp: 0, key: nil, value: ByteBuffer(repeating: 7, count: 2_000_000))
        let batch = try RecordBatch(try builder.build())
        try batch.validate()
        #expect(throws: RecordBatchError.decompressionFailed(codec: .zstd, reason: .outputLimitExceeded(limit: 1_000_000))) {
            try batch.records(maxDecompressedBytes: 1_000_000)
        }
        #expect(try batch.records().count == 1)
    }

    @Test func lyingRecordCount() throws {
        let original = try Self.smallBatch()
        func withCount(_ count: Int32, lastOffsetDelta: Int32 = 1) throws -> RecordBatch {
            var bytes = original
            bytes.setInteger(count, at: 57)
            bytes.setInteger(lastOffsetDelta, at: 23)
            RecordBatch.updateChecksum(ofBatchAt: 0, size: bytes.readableBytes, in: &bytes)
            return try RecordBatch(bytes)
        }
        // Fewer than stored: bytes remain after the last declared record.
        let fewer = try withCount(1)
        try fewer.validate()
        for decode in [{ try fewer.records() }, { try Self.wholeBatchRecords(fewer) }] as [() throws -> [Record]] {
            #expect {
                try decode()
            } throws: { error in
                guard case .corruptRecord = error as? RecordBatchError else { return false }
                return true
            }
        }
        // More than the offset range can hold.
        #expect(throws: RecordBatchError.invalidRecordCount(3)) { try withCount(3).validate() }
        #expect(throws: RecordBatchError.invalidRecordCount(-1)) { try withCount(-1).validate() }
        #expect(throws: RecordBatchError.invalidRecordCount(-1)) { try withCount(-1).records() }
        // More than stored, with a matching offset range: validate cannot tell, decoding can.
        let more = try withCount(3, lastOffsetDelta: 2)
        try more.validate()
        #expect(throws: RecordBatchError.recordCountMismatch(declared: 3, decoded: 2)) { try more.records() }
        #expect(throws: RecordBatchError.recordCountMismatch(declared: 3, decoded: 2)) { try Self.wholeBatchRecords(more) }
        // A huge count is rejected by validate (bytes cannot hold it) and does not make the
        // decoder reserve memory for it.
        let huge = try withCount(.max, lastOffsetDelta: .max)
        #expect(throws: RecordBatchError.invalidRecordCount(.max)) { try huge.validate() }
        #expect(throws: RecordBatchError.recordCountMismatch(declared: .max, decoded: 2)) { try huge.records() }
        // validateAsProduced insists on recordCount == lastOffsetDelta + 1.
        #expect(throws: RecordBatchError.invalidRecordCount(1)) { try withCount(1).validateAsProduced() }
    }

    @Test(arguments: [
        // length 6 but only attributes and two deltas follow before the end
        ([0x0C, 0x00, 0x00, 0x00], "record length 6 runs past the end of the batch"),
        // varint length that never ends
        ([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0, 0, 0, 0], "varint is too long"),
        // negative record length
        ([0x01, 0, 0, 0, 0, 0, 0, 0], "record length -1 runs past the end of the batch"),
        // key length 10 inside a 6-byte record
        ([0x0C, 0x00, 0x00, 0x00, 0x14, 0x01, 0x00], "length 10 runs past the end"),
        // key length -2
        ([0x0C, 0x00, 0x00, 0x00, 0x03, 0x01, 0x00], "negative length -2"),
        // negative header count
        ([0x0C, 0x00, 0x00, 0x00, 0x01, 0x01, 0x01], "negative header count -1"),
        // 5 headers in a record that has no room for them
        ([0x0C, 0x00, 0x00, 0x00, 0x01, 0x01, 0x0A], "header count 5 runs past the end of the record"),
        // null header key
        ([0x10, 0x00, 0x00, 0x00, 0x01, 0x01, 0x02, 0x01, 0x01], "null header key"),
        // record claims 8 bytes but its fields take 6 (two bytes of padding)
        ([0x10, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00], "record is 8 bytes but its fields take 6"),
    ] as [([UInt8], String)])
    func malformedRecordsThrowTypedErrors(records: [UInt8], reason: String) throws {
        // Not validated: some of these sections are too short for validate()'s size check, and
        // records() must cope with unvalidated input anyway.
        let batch = try RecordBatch(rawBatch(records: records, recordCount: 1, lastOffsetDelta: 0))
        #expect(throws: RecordBatchError.corruptRecord(reason: reason)) { try batch.records() }
        #expect(throws: RecordBatchError.corruptRecord(reason: reason)) { try Self.wholeBatchRecords(batch) }
    }

    /// Every record through ``RecordIterator/forEachRemaining(_:)``, the consumer's fast path.
    static func wholeBatchRecords(_ batch: RecordBatch) throws(RecordBatchError) -> [Record] {
        var iterator = try batch.makeRecordIterator()
        var records: [Record] = []
        try iterator.forEachRemaining { records.append($0) }
        #expect(try iterator.next() == nil)
        return records
    }

    @Test func wholeBatchPassTakesOverFromNext() throws {
        let batch = try RecordBatch(Self.smallBatch())
        let all = try batch.records()
        var iterator = try batch.makeRecordIterator()
        let first = try iterator.next()
        var rest: [Record] = []
        try iterator.forEachRemaining { rest.append($0) }
        #expect([first].compactMap { $0 } + rest == all)
        #expect(try iterator.next() == nil)
        try iterator.forEachRemaining { _ in Issue.record("records after the end") }
    }

    @Test func invalidCompressionBits() throws {
        let batch = try RecordBatch(rawBatch(records: [], recordCount: 0, lastOffsetDelta: 0, attributes: 6))
        #expect(throws: RecordBatchError.unsupportedCompression(6)) { try batch.validate() }
        #expect(throws: RecordBatchError.unsupportedCompression(6)) { try batch.records() }
    }

    @Test func randomDamageNeverCrashes() async throws {
        let original = try Self.smallBatch(codec: .none)
        await propertyCheck(
            count: 500, input: Gen.int(in: 0...200), Gen.uint8(), Gen.int(in: 1...4)
        ) { position, value, stretch in
            var bytes = original
            for index in position..<(position + stretch) where index < bytes.readableBytes {
                bytes.setInteger(value, at: index)
            }
            RecordBatch.updateChecksum(ofBatchAt: 0, size: bytes.readableBytes, in: &bytes)
            guard let batch = try? RecordBatch(bytes) else { return }
            _ = try? batch.validate()
            // The whole-batch pass decodes exactly what record-by-record decoding does, and fails
            // the same way.
            let oneByOne = Result { () throws(RecordBatchError) in try batch.records() }
            let whole = Result { () throws(RecordBatchError) in try Self.wholeBatchRecords(batch) }
            #expect(oneByOne == whole)
            _ = try? RecordBatchReader.batches(in: bytes, allowsTruncatedTail: true)
        }
    }
}
