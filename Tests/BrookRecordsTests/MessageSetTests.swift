@testable import BrookRecords
import NIOCore
import Testing

@Suite struct MessageSetTests {
    struct Entry: Equatable {
        var key: [UInt8]?
        var value: [UInt8]?
        var timestamp: Int64
    }

    static func buffer(_ bytes: [UInt8]?) -> ByteBuffer? { bytes.map { ByteBuffer(bytes: $0) } }

    static func plainSet(_ entries: [Entry], magic: Int8, firstOffset: Int64 = 0) -> ByteBuffer {
        var set = ByteBuffer()
        for (index, entry) in entries.enumerated() {
            MessageSetWriter.write(
                offset: firstOffset + Int64(index), magic: magic, timestamp: entry.timestamp,
                key: buffer(entry.key), value: buffer(entry.value), to: &set)
        }
        return set
    }

    static let sample: [Entry] = [
        Entry(key: Array("k1".utf8), value: Array("v1".utf8), timestamp: 1_700_000_000_000),
        Entry(key: nil, value: Array("no key".utf8), timestamp: 1_700_000_000_001),
        Entry(key: Array("k3".utf8), value: nil, timestamp: 1_700_000_000_005),
        Entry(key: [], value: [], timestamp: 1_700_000_000_002),
    ]

    static func entries(ofV2 batch: ByteBuffer) throws -> [Entry] {
        let batches = try RecordBatchReader.batches(in: batch)
        #expect(batches.count == 1)
        try batches[0].validate()
        return try batches[0].records().map { Entry(key: $0.key?.bytesArray, value: $0.value?.bytesArray, timestamp: $0.timestamp) }
    }

    @Test(arguments: [Int8(0), 1])
    func plainSetUpConvertsToOneV2Batch(magic: Int8) throws {
        let set = Self.plainSet(Self.sample, magic: magic)
        let messages = try MessageSetReader.messages(in: set)
        #expect(messages.count == 4)
        #expect(messages.map(\.offset) == [0, 1, 2, 3])
        let v2 = try MessageSetConverter.convertToV2(set)
        let expected = Self.sample.map { Entry(key: $0.key, value: $0.value, timestamp: magic == 0 ? -1 : $0.timestamp) }
        #expect(try Self.entries(ofV2: v2) == expected)
    }

    @Test(arguments: [Int8(0), 1], [CompressionCodec.gzip, .snappy, .lz4])
    func compressedWrapperUpConverts(magic: Int8, codec: CompressionCodec) throws {
        // Magic 1 wrappers carry relative inner offsets; magic 0 carry absolute ones.
        let inner = Self.plainSet(Self.sample, magic: magic, firstOffset: 0)
        var set = ByteBuffer()
        try MessageSetWriter.writeWrapper(offset: 3, magic: magic, codec: codec, timestamp: 1_700_000_000_005, inner: inner, to: &set)
        let messages = try MessageSetReader.messages(in: set)
        #expect(messages.map(\.offset) == [0, 1, 2, 3])
        let v2 = try MessageSetConverter.convertToV2(set)
        let batch = try RecordBatchReader.batches(in: v2)[0]
        #expect(batch.compression == codec)
        let expected = Self.sample.map { Entry(key: $0.key, value: $0.value, timestamp: magic == 0 ? -1 : $0.timestamp) }
        #expect(try Self.entries(ofV2: v2) == expected)
    }

    @Test(arguments: [Int8(0), 1])
    func producerOffsetsAreIgnoredEvenWhenTheyJumpPastInt32(magic: Int8) throws {
        // Offsets a producer writes mean nothing (the log assigns its own); jumps of 2^31 once
        // trapped the conversion's delta arithmetic.
        var set = ByteBuffer()
        let offsets: [Int64] = [0, Int64(Int32.max), Int64(Int32.max) * 2 + 5, 7, Int64.max, Int64.min]
        for (index, offset) in offsets.enumerated() {
            MessageSetWriter.write(
                offset: offset, magic: magic, timestamp: 1_700_000_000_000 + Int64(index),
                key: nil, value: ByteBuffer(bytes: [UInt8(index)]), to: &set)
        }
        let v2 = try MessageSetConverter.convertToV2(set)
        let batch = try RecordBatchReader.batches(in: v2)[0]
        #expect(try batch.records().map(\.offset) == Array(0..<Int64(offsets.count)))
        #expect(try batch.records().map { $0.value?.bytesArray } == offsets.indices.map { [UInt8($0)] })
    }

    @Test func xerialSnappyWrapperIsRead() throws {
        let inner = Self.plainSet(Self.sample, magic: 1)
        let raw = try CompressionCodec.snappy.compress(inner)
        var framed = ByteBuffer(bytes: [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1])
        framed.writeInteger(Int32(raw.readableBytes))
        framed.writeImmutableBuffer(raw)
        var set = ByteBuffer()
        MessageSetWriter.write(offset: 3, magic: 1, attributes: 2, timestamp: 0, key: nil, value: framed, to: &set)
        #expect(try MessageSetReader.messages(in: set).map { $0.value?.bytesArray } == Self.sample.map(\.value))
    }

    @Test func logAppendTimeWrapperStampsItsTimestamp() throws {
        let inner = Self.plainSet(Self.sample, magic: 1)
        var set = ByteBuffer()
        try MessageSetWriter.writeWrapper(offset: 3, magic: 1, codec: .gzip, timestamp: 42, logAppendTime: true, inner: inner, to: &set)
        let messages = try MessageSetReader.messages(in: set)
        #expect(messages.allSatisfy { $0.timestamp == 42 && $0.timestampType == .logAppendTime })
    }

    @Test(arguments: [Int8(0), 1])
    func v2DownConvertsWithAbsoluteOffsets(magic: Int8) throws {
        var builder = RecordBatchBuilder(configuration: .init(baseOffset: 100, compression: .zstd))
        for entry in Self.sample {
            builder.append(timestamp: entry.timestamp, key: Self.buffer(entry.key), value: Self.buffer(entry.value),
                           headers: [.init(key: "h", value: ByteBuffer(bytes: [1]))])
        }
        var batches = try builder.build()
        var marker = RecordBatchBuilder(configuration: .init(baseOffset: 104, producerId: 7, producerEpoch: 0, isTransactional: true))
        marker = RecordBatchBuilder(configuration: {
            var c = marker.configuration
            c.isControlBatch = true
            return c
        }())
        marker.append(timestamp: 5, key: ByteBuffer(bytes: [0, 0, 0, 1]), value: ByteBuffer(bytes: [0, 0, 0, 0, 0, 0]))
        var control = try marker.build()
        batches.writeBuffer(&control)

        let set = try MessageSetWriter.downConvert(batches, toMagic: magic)
        let messages = try MessageSetReader.messages(in: set)
        #expect(messages.map(\.offset) == [100, 101, 102, 103])
        #expect(messages.allSatisfy { $0.magic == magic })
        #expect(messages.map { Entry(key: $0.key?.bytesArray, value: $0.value?.bytesArray, timestamp: $0.timestamp) }
            == Self.sample.map { Entry(key: $0.key, value: $0.value, timestamp: magic == 0 ? -1 : $0.timestamp) })

        let tail = try MessageSetWriter.downConvert(batches, toMagic: magic, fromOffset: 102)
        #expect(try MessageSetReader.messages(in: tail).map(\.offset) == [102, 103])
    }

    @Test func corruptCRCIsRejected() throws {
        var set = Self.plainSet(Self.sample, magic: 1)
        let position = set.readerIndex + 30
        set.setInteger(set.getInteger(at: position, as: UInt8.self)! ^ 0xFF, at: position)
        #expect(throws: MessageSetError.self) { try MessageSetReader.messages(in: set) }
        #expect(throws: MessageSetError.self) { try MessageSetConverter.convertToV2(set) }
    }

    @Test func truncationIsRejectedEverywhere() throws {
        let set = Self.plainSet(Self.sample, magic: 1)
        for length in 0..<set.readableBytes {
            let prefix = set.getSlice(at: set.readerIndex, length: length)!
            if length == 0 {
                #expect(throws: MessageSetError.empty) { try MessageSetConverter.convertToV2(prefix) }
                continue
            }
            // A prefix ending exactly on a message boundary is a valid, shorter set.
            if let messages = try? MessageSetReader.messages(in: prefix) {
                #expect(messages.count < Self.sample.count)
            }
            #expect(try MessageSetReader.messages(in: prefix, allowsTruncatedTail: true).count < Self.sample.count)
        }
    }

    @Test func v2BatchAndBadMagicAreNotMessageSets() throws {
        var builder = RecordBatchBuilder()
        builder.append(timestamp: 1, key: nil, value: ByteBuffer(bytes: [1]))
        let batch = try builder.build()
        #expect(MessageSetReader.magic(of: batch) == 2)
        #expect(throws: MessageSetError.self) { try MessageSetReader.messages(in: batch) }
    }

    @Test func corruptWrapperPayloadThrows() throws {
        var set = ByteBuffer()
        MessageSetWriter.write(offset: 0, magic: 1, attributes: 1, timestamp: 0, key: nil, value: ByteBuffer(bytes: [1, 2, 3, 4, 5]), to: &set)
        #expect(throws: MessageSetError.self) { try MessageSetReader.messages(in: set) }
        var zstd = ByteBuffer()
        MessageSetWriter.write(offset: 0, magic: 1, attributes: 4, timestamp: 0, key: nil, value: ByteBuffer(bytes: [1]), to: &zstd)
        #expect(throws: MessageSetError.unsupportedCompression(4)) { try MessageSetReader.messages(in: zstd) }
    }

    @Test func randomSetsRoundTripThroughV2() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<100 {
            let magic = Int8.random(in: 0...1, using: &rng)
            let entries = (0..<Int.random(in: 1...20, using: &rng)).map { _ in
                Entry(
                    key: Bool.random(using: &rng) ? nil : randomPayload(using: &rng, maxLength: 16),
                    value: Bool.random(using: &rng) ? nil : randomPayload(using: &rng, maxLength: 200),
                    timestamp: magic == 0 ? -1 : Int64.random(in: 0...2_000_000_000_000, using: &rng))
            }
            let set = Self.plainSet(entries, magic: magic, firstOffset: 0)
            let v2 = try MessageSetConverter.convertToV2(set)
            #expect(try Self.entries(ofV2: v2) == entries)
            let back = try MessageSetWriter.downConvert(v2, toMagic: magic)
            #expect(back == set)
        }
    }
}

@Suite struct LegacyLZ4Tests {
    @Test func magicZeroLZ4WithOldKafkaHeaderChecksumIsRead() throws {
        let inner = MessageSetTests.plainSet(MessageSetTests.sample, magic: 0)
        var frame = try CompressionCodec.lz4.compress(inner)
        // liblz4 writes the correct checksum: the descriptor (FLG, BD) hash, second byte.
        let flags = frame.getInteger(at: 4, as: UInt8.self)!
        #expect(flags & 0x09 == 0)
        let correct = frame.getInteger(at: 6, as: UInt8.self)!
        #expect(correct == UInt8(truncatingIfNeeded: LegacyLZ4.xxh32(frame.getBytes(at: 4, length: 2)!) >> 8))
        #expect(LegacyLZ4.xxh32([]) == 0x02CC_5D05)
        // Old Kafka hashed the magic bytes too.
        let broken = UInt8(truncatingIfNeeded: LegacyLZ4.xxh32(frame.getBytes(at: 0, length: 6)!) >> 8)
        try #require(broken != correct)
        frame.setInteger(broken, at: 6)
        var set = ByteBuffer()
        MessageSetWriter.write(offset: 0, magic: 0, attributes: 3, key: nil, value: frame, to: &set)
        #expect(try MessageSetReader.messages(in: set).count == MessageSetTests.sample.count)
        // Magic 1 never had the broken checksum: it stays an error.
        var magicOne = ByteBuffer()
        MessageSetWriter.write(offset: 0, magic: 1, attributes: 3, timestamp: 0, key: nil, value: frame, to: &magicOne)
        #expect(throws: MessageSetError.self) { try MessageSetReader.messages(in: magicOne) }
    }
}
