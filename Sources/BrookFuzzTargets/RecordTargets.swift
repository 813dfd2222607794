import BrookRecords
import NIOCore

extension FuzzTarget {
    /// Concatenated v2 record batches, as a Produce request or a log segment holds them: framing,
    /// CRC, decompression, the record iterator, the key scan, control records, recompression and
    /// down-conversion, each checked against the others.
    public static let recordBatch = FuzzTarget(
        name: "record-batch",
        summary: "v2 batches -> RecordBatchReader, validate, records/iterator/key scan, control records, recompression, down-conversion"
    ) { bytes throws(FuzzFailure) in
        try RecordChecks.batches(ByteBuffer(bytes: bytes))
    }

    /// A legacy (magic 0/1) message set: byte 0's bit 0 asks the harness to fix each top-level
    /// message's CRC first (so mutations reach past it), bit 1 tolerates a truncated tail.
    public static let messageSet = FuzzTarget(
        name: "message-set",
        summary: "[flags][magic 0/1 message set] -> MessageSetReader (entries, messages, wrappers), MessageSetConverter.convertToV2"
    ) { bytes throws(FuzzFailure) in
        var input = FuzzInput(bytes)
        let flags = input.byte()
        var set = ByteBuffer(bytes: input.rest())
        if flags & 1 != 0 { RecordChecks.fixMessageCRCs(&set) }
        return try RecordChecks.messageSet(set, allowsTruncatedTail: flags & 2 != 0)
    }

    /// The decompressors: byte 0 picks the codec (gzip, snappy, lz4, zstd); the rest is the
    /// compressed input. What decompresses must survive compressing and decompressing again.
    public static let decompress = FuzzTarget(
        name: "decompress",
        summary: "[codec][compressed bytes] -> CompressionCodec.decompress (1 MiB cap), recompress round trip"
    ) { bytes throws(FuzzFailure) in
        var input = FuzzInput(bytes)
        let codecs: [CompressionCodec] = [.gzip, .snappy, .lz4, .zstd]
        let codec = codecs[Int(input.byte()) % codecs.count]
        let compressed = ByteBuffer(bytes: input.rest())
        let plain: ByteBuffer
        do {
            plain = try codec.decompress(compressed, maxOutputBytes: RecordChecks.maxDecompressedBytes)
        } catch {
            return .rejected
        }
        try fuzzCheck(plain.readableBytes <= RecordChecks.maxDecompressedBytes, "\(codec) exceeded its output cap")
        do {
            let again = try codec.decompress(try codec.compress(plain), maxOutputBytes: RecordChecks.maxDecompressedBytes)
            try fuzzCheck(again == plain, "\(codec) does not round-trip what it decompressed")
        } catch let failure as FuzzFailure {
            throw failure
        } catch {
            throw FuzzFailure("\(codec) cannot round-trip what it decompressed: \(error)")
        }
        return .accepted
    }
}

enum RecordChecks {
    /// The decompression cap of the harness: far above what a fuzz input can honestly expand
    /// to, and small enough to keep executions fast.
    static let maxDecompressedBytes = 1 << 20

    static func batches(_ buffer: ByteBuffer) throws(FuzzFailure) -> FuzzOutcome {
        var reader = RecordBatchReader(buffer, allowsTruncatedTail: true)
        var outcome = FuzzOutcome.rejected
        var everyBatchDecoded = true
        var expectedDownConverted: [Record] = []
        while true {
            let next: RecordBatch?
            do {
                next = try reader.next()
            } catch {
                everyBatchDecoded = false
                break
            }
            guard let batch = next else { break }
            _ = try? batch.validate()
            _ = try? batch.validateAsProduced()
            guard let records = try records(of: batch) else {
                everyBatchDecoded = false
                continue
            }
            outcome = .accepted
            if !batch.isControlBatch && batch.lastOffset >= 0 {
                expectedDownConverted += records.filter { $0.offset >= 0 }
            }
        }
        if everyBatchDecoded {
            try downConversion(of: buffer, expecting: expectedDownConverted)
        }
        return outcome
    }

    /// The batch's records, nil when they do not decode; checks that every way of reading them agrees.
    static func records(of batch: RecordBatch) throws(FuzzFailure) -> [Record]? {
        let records: [Record]
        do {
            records = try batch.records(maxDecompressedBytes: maxDecompressedBytes)
        } catch {
            try fuzzCheck((try? batch.indexesOfRecordsWithoutKey(maxDecompressedBytes: maxDecompressedBytes)) == nil,
                      "the key scan accepts a batch whose records do not decode")
            return nil
        }
        do {
            var iterator = try batch.makeRecordIterator(maxDecompressedBytes: maxDecompressedBytes)
            var stepped: [Record] = []
            while let record = try iterator.next() { stepped.append(record) }
            try fuzzCheck(stepped == records, "RecordIterator.next() reads other records than records()")

            var whole = try batch.makeRecordIterator(maxDecompressedBytes: maxDecompressedBytes)
            var all: [Record] = []
            try whole.forEachRemaining { all.append($0) }
            try fuzzCheck(all == records, "RecordIterator.forEachRemaining reads other records than records()")

            let withoutKey = try batch.indexesOfRecordsWithoutKey(maxDecompressedBytes: maxDecompressedBytes)
            try fuzzCheck(withoutKey == records.indices.filter { records[$0].key == nil },
                      "the key scan finds other keyless records than the decoder")

            if batch.isControlBatch {
                for record in records {
                    if let key = try? record.controlKey(), key.type == .commit || key.type == .abort, let value = record.value {
                        _ = try? EndTransactionMarker(decoding: value)
                    }
                }
            }

            // Recompressed (to none, or from none to lz4), the same records come back.
            let target: CompressionCodec = batch.compression == CompressionCodec.none ? .lz4 : .none
            let recompressed = try batch.recompressed(to: target, maxDecompressedBytes: maxDecompressedBytes)
            try fuzzCheck(recompressed.compression == target, "recompressed batch names \(String(describing: recompressed.compression))")
            try fuzzCheck(try recompressed.records(maxDecompressedBytes: maxDecompressedBytes) == records,
                      "recompressing to \(target) changes the records")
        } catch let failure as FuzzFailure {
            throw failure
        } catch {
            throw FuzzFailure("records() decoded \(records.count) records but another reader fails: \(error)")
        }
        return records
    }

    /// Down-converted to magic 0 and 1, the non-control records of decodable batches read back
    /// as legacy messages with the same offsets, keys and values.
    static func downConversion(of buffer: ByteBuffer, expecting records: [Record]) throws(FuzzFailure) {
        for magic: Int8 in [0, 1] {
            let legacy: ByteBuffer
            do {
                legacy = try MessageSetWriter.downConvert(buffer, toMagic: magic, maxDecompressedBytes: maxDecompressedBytes)
            } catch {
                throw FuzzFailure("down-conversion to magic \(magic) fails on batches that decode: \(error)")
            }
            let messages: [LegacyMessage]
            do {
                messages = try MessageSetReader.messages(in: legacy, maxDecompressedBytes: maxDecompressedBytes)
            } catch {
                throw FuzzFailure("a down-converted magic \(magic) message set does not read back: \(error)")
            }
            try fuzzCheck(
                messages.map(\.offset) == records.map(\.offset) && messages.map(\.key) == records.map(\.key)
                    && messages.map(\.value) == records.map(\.value),
                "down-conversion to magic \(magic) changes the records")
        }
    }

    static func messageSet(_ set: ByteBuffer, allowsTruncatedTail: Bool) throws(FuzzFailure) -> FuzzOutcome {
        let entries = try? MessageSetReader.entries(in: set, allowsTruncatedTail: allowsTruncatedTail)
        let messages: [LegacyMessage]
        do {
            messages = try MessageSetReader.messages(
                in: set, allowsTruncatedTail: allowsTruncatedTail, maxDecompressedBytes: maxDecompressedBytes)
        } catch {
            return .rejected
        }
        try fuzzCheck(entries != nil, "messages(in:) reads a set whose entries(in:) fail")
        guard !allowsTruncatedTail, !messages.isEmpty else { return .accepted }
        let converted: ByteBuffer
        do {
            converted = try MessageSetConverter.convertToV2(set, maxDecompressedBytes: maxDecompressedBytes)
        } catch {
            return .accepted  // e.g. a batch too large; the reader's checks passed
        }
        do {
            let batches = try RecordBatchReader.batches(in: converted)
            try fuzzCheck(batches.count == 1, "convertToV2 wrote \(batches.count) batches")
            try batches[0].validate()
            let records = try batches[0].records(maxDecompressedBytes: maxDecompressedBytes)
            try fuzzCheck(records.map(\.key) == messages.map(\.key) && records.map(\.value) == messages.map(\.value),
                      "convertToV2 changes the keys or values")
        } catch let failure as FuzzFailure {
            throw failure
        } catch {
            throw FuzzFailure("convertToV2 wrote a batch that does not decode: \(error)")
        }
        return .accepted
    }

    /// Rewrites the CRC of each top-level legacy message to match its bytes, as far as the sizes
    /// frame them.
    static func fixMessageCRCs(_ set: inout ByteBuffer) {
        var index = set.readerIndex
        while let size = set.getInteger(at: index + 8, as: Int32.self), size >= 4,
              index + LegacyMessage.logOverhead + Int(size) <= set.writerIndex {
            let body = set.getSlice(at: index + LegacyMessage.logOverhead + 4, length: Int(size) - 4)!
            set.setInteger(CRC32.checksum(body), at: index + LegacyMessage.logOverhead)
            index += LegacyMessage.logOverhead + Int(size)
        }
    }
}
