import BrookClient
import BrookRecords
import NIOCore
import Testing

/// BatchEncoder writes the very bytes RecordBatchBuilder writes for the same records.
@Suite struct BatchEncoderTests {
    /// Value sizes around the varint boundaries, and timestamps that go back and forth.
    static let records: [(size: Int, timestamp: Int64)] = [
        (0, 1_700_000_000_000), (1, 1_700_000_000_000), (63, 1_700_000_000_001), (64, 1_700_000_000_000),
        (127, 1_700_000_000_100), (128, 1_699_999_999_000), (300, 1_700_000_100_000), (8_191, 1_700_000_000_005),
        (8_192, 1_700_000_000_005), (20_000, 1_700_000_000_006),
    ]

    @Test(arguments: CompressionCodec.allCases)
    func encodesTheBytesTheBuilderEncodes(codec: CompressionCodec) throws {
        var encoder = BatchEncoder(compression: codec, capacity: 64)
        var builder = RecordBatchBuilder(configuration: .init(compression: codec))
        for round in 0..<3 {
            for (index, record) in Self.records.enumerated() {
                let value = ByteBuffer(repeating: UInt8(65 + (index + round) % 26), count: record.size)
                encoder.append(value: value, timestamp: record.timestamp)
                builder.append(timestamp: record.timestamp, key: nil, value: value)
            }
        }
        #expect(encoder.recordCount == builder.recordCount)
        #expect(encoder.recordsSize == builder.recordsSize)
        let encoded = try encoder.build()
        #expect(encoded == (try builder.build()))
        let batch = try RecordBatch(encoded)
        try batch.validate()
        #expect(try batch.records().map { $0.value?.readableBytes } == (0..<3).flatMap { _ in Self.records.map(\.size) })
        #expect(encoder.recordCount == 0 && encoder.recordsSize == 0, "build() starts the encoder over")
    }

    @Test func aSingleRecordBatch() throws {
        var encoder = BatchEncoder()
        encoder.append(value: ByteBuffer(string: "v"), timestamp: 42)
        var builder = RecordBatchBuilder()
        builder.append(timestamp: 42, key: nil, value: ByteBuffer(string: "v"))
        #expect(try encoder.build() == (try builder.build()))
    }

    @Test(arguments: [CompressionCodec.none, .lz4])
    func keysHeadersNullsAndProducerFields(codec: CompressionCodec) throws {
        var encoder = BatchEncoder(compression: codec, capacity: 16)
        var builder = RecordBatchBuilder(configuration: .init(
            compression: codec, producerId: 77, producerEpoch: 3, baseSequence: 12, isTransactional: true))
        let records: [(ByteBuffer?, ByteBuffer?, [Record.Header])] = [
            (ByteBuffer(string: "key"), ByteBuffer(string: "value"), []),
            (nil, nil, [Record.Header(key: "h", value: ByteBuffer(string: "x")), Record.Header(key: "null-é", value: nil)]),
            (ByteBuffer(string: ""), ByteBuffer(repeating: 7, count: 200), [Record.Header(key: String(repeating: "k", count: 70), value: ByteBuffer())]),
        ]
        for (index, (key, value, headers)) in records.enumerated() {
            let timestamp = 1_000 + Int64(index)
            let expected = encoder.encodedSize(key: key, value: value, headers: headers, timestamp: timestamp)
            let before = encoder.recordsSize
            encoder.append(key: key, value: value, headers: headers, timestamp: timestamp)
            #expect(encoder.recordsSize - before == expected)
            builder.append(timestamp: timestamp, key: key, value: value, headers: headers)
        }
        var batch = try encoder.close()
        batch.stamp(.init(producerId: 77, producerEpoch: 3, baseSequence: 12, isTransactional: true))
        #expect(batch.bytes == (try builder.build()))
        // A retry with a new epoch restamps the same records.
        batch.stamp(.init(producerId: 77, producerEpoch: 4, baseSequence: 0, isTransactional: true))
        let restamped = try RecordBatch(batch.bytes)
        try restamped.validate()
        #expect(restamped.producerEpoch == 4 && restamped.baseSequence == 0 && restamped.isTransactional)
        #expect(try restamped.records().map(\.headers) == records.map(\.2))
    }
}
