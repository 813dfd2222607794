import BrookRecords
import Foundation
import NIOCore
import Testing

/// Record batches captured from real clients (kcat/librdkafka, confluent-kafka, kafka-python):
/// each `Fixtures/captured/<name>.bin` holds the `records` bytes of one produce request and
/// `<name>.json` the records the client was asked to send.
@Suite struct CapturedBatchTests {
    /// The `.json` intent files written by the capture tooling.
    struct Intent: Decodable {
        struct Batch: Decodable {
            var producer_id: Int64
            var producer_epoch: Int16
            var base_sequence: Int32
            var transactional: Bool
            var records: [Record]
        }

        struct Record: Decodable {
            var key: String?
            var value: String?
            /// `[key, value]` pairs; the value may be null.
            var headers: [[String?]]
            /// nil when the client stamped its own wall-clock time.
            var timestamp: Int64?
        }

        var client: String
        var codec: String
        var batches: [Batch]
    }

    static func capturedNames() -> [String] {
        guard let folder = Bundle.module.resourceURL?.appendingPathComponent("Fixtures/captured"),
            let files = try? FileManager.default.contentsOfDirectory(atPath: folder.path)
        else { return [] }
        return files.filter { $0.hasSuffix(".bin") }.map { String($0.dropLast(4)) }.sorted()
    }

    @Test func fixturesArePresent() {
        #expect(!Self.capturedNames().isEmpty, "Fixtures/captured holds no .bin files")
    }

    @Test(arguments: capturedNames())
    func decodesWhatTheClientSent(name: String) throws {
        let bytes = try fixture("captured/\(name).bin")
        let json = try fixture("captured/\(name).json")
        let intent = try JSONDecoder().decode(Intent.self, from: Data(json.bytesArray))
        let codec = try #require(Self.codec(named: intent.codec))

        let batches = try RecordBatchReader.batches(in: bytes)
        try #require(batches.count == intent.batches.count)
        for (batch, expected) in zip(batches, intent.batches) {
            try batch.validateAsProduced()
            #expect(batch.compression == codec)
            #expect(batch.producerId == expected.producer_id)
            #expect(batch.producerEpoch == expected.producer_epoch)
            #expect(batch.baseSequence == expected.base_sequence)
            #expect(batch.isTransactional == expected.transactional)
            #expect(!batch.isControlBatch)

            let records = try batch.records()
            try #require(records.count == expected.records.count)
            for (index, (record, wanted)) in zip(records, expected.records).enumerated() {
                #expect(record.offset == batch.baseOffset + Int64(index))
                #expect(record.key == wanted.key.map { ByteBuffer(string: $0) }, "record \(index) key")
                #expect(record.value == wanted.value.map { ByteBuffer(string: $0) }, "record \(index) value")
                let headers = wanted.headers.map { pair in
                    BrookRecords.Record.Header(key: pair.first.flatMap { $0 } ?? "", value: pair.last.flatMap { $0 }.map { ByteBuffer(string: $0) })
                }
                #expect(record.headers == headers, "record \(index) headers")
                if let timestamp = wanted.timestamp {
                    #expect(record.timestamp == timestamp, "record \(index) timestamp")
                }
            }
        }
    }

    /// Brook's encoder writes the same records section, byte for byte, as the client (compared
    /// after decompression: compressed bytes depend on the library and its settings).
    @Test(arguments: capturedNames())
    func reencodesTheClientsRecordsIdentically(name: String) throws {
        let bytes = try fixture("captured/\(name).bin")
        for batch in try RecordBatchReader.batches(in: bytes) {
            var configuration = RecordBatchBuilder.Configuration(matching: batch)
            configuration.compression = .none
            var builder = RecordBatchBuilder(configuration: configuration)
            for record in try batch.records() {
                try builder.append(record)
            }
            let rebuilt = try RecordBatch(try builder.build())
            let codec = try #require(batch.compression)
            #expect(rebuilt.recordsSection == (try codec.decompress(batch.recordsSection)))
            if codec == .none {
                #expect(rebuilt.bytes == batch.bytes)
            }
        }
    }

    static func codec(named name: String) -> CompressionCodec? {
        CompressionCodec.allCases.first { $0.description == name }
    }
}
