import BrookClient
import BrookRecords
import NIOCore
import Testing

/// ValueBatchEncoder writes the very bytes RecordBatchBuilder writes for value-only records.
@Suite struct ValueBatchEncoderTests {
    /// Value sizes around the varint boundaries, and timestamps that go back and forth.
    static let records: [(size: Int, timestamp: Int64)] = [
        (0, 1_700_000_000_000), (1, 1_700_000_000_000), (63, 1_700_000_000_001), (64, 1_700_000_000_000),
        (127, 1_700_000_000_100), (128, 1_699_999_999_000), (300, 1_700_000_100_000), (8_191, 1_700_000_000_005),
        (8_192, 1_700_000_000_005), (20_000, 1_700_000_000_006),
    ]

    @Test(arguments: CompressionCodec.allCases)
    func encodesTheBytesTheBuilderEncodes(codec: CompressionCodec) throws {
        var encoder = ValueBatchEncoder(compression: codec, capacity: 64)
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
        var encoder = ValueBatchEncoder()
        encoder.append(value: ByteBuffer(string: "v"), timestamp: 42)
        var builder = RecordBatchBuilder()
        builder.append(timestamp: 42, key: nil, value: ByteBuffer(string: "v"))
        #expect(try encoder.build() == (try builder.build()))
    }
}
