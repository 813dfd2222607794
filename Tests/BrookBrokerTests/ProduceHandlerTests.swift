@testable import BrookBroker
import BrookModel
import BrookProtocol
import BrookRecords
import BrookStorage
import NIOCore
import Testing

@Suite struct ProduceHandlerTests {
    // MARK: min.insync.replicas

    @Test(arguments: [3, 9] as [Int16]) func acksAllBelowMinInSyncReplicasIsRefusedAndWritesNothing(version: Int16) async throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("t", configs: ["min.insync.replicas": "2"])
        let records = try ProducedBatch.make(["k"])

        let refused = try await serve(fixture.handler, ProducedBatch.request("t", records, acks: -1), version: version).first
        #expect(refused.errorCode == ErrorCode.notEnoughReplicas.code)
        #expect(refused.baseOffset == -1)
        if version >= 8 {
            #expect(refused.errorMessage == "The size of the current ISR [1] is insufficient to satisfy the min.isr requirement of 2 for partition t-0")
        }
        #expect(fixture.partition("t").log.logEndOffset == 0)

        let leaderOnly = try await serve(fixture.handler, ProducedBatch.request("t", records, acks: 1), version: version).first
        #expect(leaderOnly.errorCode == ErrorCode.none.code)
        #expect(leaderOnly.baseOffset == 0)
        let context = RequestContext(
            header: RequestHeader(requestApiKey: ApiKey.produce.rawValue, requestApiVersion: version, correlationId: 1, clientId: "test"),
            apiVersion: version, remoteAddress: nil, listenerName: "PLAINTEXT")
        #expect(try await fixture.handler.handle(ProducedBatch.request("t", records, acks: 0), context: context) == nil)
        #expect(fixture.partition("t").log.logEndOffset == 2)
    }

    @Test func theBrokerDefaultMinInSyncReplicasAppliesUnlessTheTopicOverridesIt() async throws {
        let fixture = try PartitionFixture(overrides: ["min.insync.replicas=2"])
        defer { fixture.remove() }
        try fixture.topic("default")
        try fixture.topic("relaxed", configs: ["min.insync.replicas": "1"])
        let records = try ProducedBatch.make(["k"])
        let refused = try await serve(fixture.handler, ProducedBatch.request("default", records, acks: -1), version: 9).first
        #expect(refused.errorCode == ErrorCode.notEnoughReplicas.code)
        let accepted = try await serve(fixture.handler, ProducedBatch.request("relaxed", records, acks: -1), version: 9).first
        #expect(accepted.errorCode == ErrorCode.none.code)
    }

    @Test func aChangedMinInSyncReplicasAppliesToTheOpenPartition() async throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("t")
        let request = ProducedBatch.request("t", try ProducedBatch.make(["k"]), acks: -1)
        #expect(try await serve(fixture.handler, request, version: 9).first.errorCode == ErrorCode.none.code)
        try fixture.alterer.alterTopic("t", validateOnly: false) { overrides, _ in overrides.merging(["min.insync.replicas": "2"]) { $1 } }
        #expect(try await serve(fixture.handler, request, version: 9).first.errorCode == ErrorCode.notEnoughReplicas.code)
        #expect(fixture.partition("t").log.logEndOffset == 1)
    }

    // MARK: Keys on compacted topics

    @Test(arguments: [CompressionCodec.none, .gzip, .zstd])
    func recordsWithoutKeyAreRefusedOnCompactedTopics(codec: CompressionCodec) async throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("c", configs: ["cleanup.policy": "compact"])
        let request = ProducedBatch.request("c", try ProducedBatch.make(["a", nil, "c", nil], codec: codec))

        let answer = try await serve(fixture.handler, request, version: 9).first
        let message = "Compacted topic cannot accept message without key in topic partition c-0"
        #expect(answer.errorCode == ErrorCode.invalidRecord.code)
        #expect(answer.baseOffset == -1)
        #expect(answer.recordErrors == [.init(batchIndex: 1, batchIndexErrorMessage: message), .init(batchIndex: 3, batchIndexErrorMessage: message)])
        #expect(answer.errorMessage?.hasPrefix("One or more records have been rejected due to 2 record errors in total") == true)
        #expect(fixture.partition("c").log.logEndOffset == 0)

        // Before v8 the answer has no record errors, only the code.
        let old = try await serve(fixture.handler, request, version: 7).first
        #expect(old.errorCode == ErrorCode.invalidRecord.code)
        #expect(old.recordErrors.isEmpty)
        #expect(fixture.partition("c").log.logEndOffset == 0)
    }

    @Test func keyedRecordsAndTombstonesAreAcceptedAsSent() async throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("c", configs: ["cleanup.policy": "compact,delete"])
        var builder = RecordBatchBuilder(configuration: .init(compression: .snappy))
        builder.append(timestamp: 1_000, key: ByteBuffer(string: "k"), value: ByteBuffer(string: "v"))
        builder.append(timestamp: 1_001, key: ByteBuffer(string: "k"), value: nil)
        let sent = try builder.build()

        let answer = try await serve(fixture.handler, ProducedBatch.request("c", sent), version: 9).first
        #expect(answer.errorCode == ErrorCode.none.code)
        let stored = try fixture.storedBatches("c")
        #expect(stored.count == 1)
        #expect(stored.first?.compression == .snappy)
        #expect(stored.first?.recordsSection == (try RecordBatch(sent)).recordsSection)
        #expect(try stored.first?.records().map(\.value) == [ByteBuffer(string: "v"), nil])
    }

    @Test func aBatchWithoutKeysAnywhereInTheRequestRefusesTheWholePartition() async throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("c", configs: ["cleanup.policy": "compact"])
        var records = try ProducedBatch.make(["a", "b"])
        records.writeImmutableBuffer(try ProducedBatch.make(["c", nil, "e"], codec: .lz4))
        let answer = try await serve(fixture.handler, ProducedBatch.request("c", records), version: 11).first
        #expect(answer.errorCode == ErrorCode.invalidRecord.code)
        #expect(answer.recordErrors.map(\.batchIndex) == [1])
        #expect(fixture.partition("c").log.logEndOffset == 0)
    }

    @Test func legacyMessagesWithoutKeyAreRefusedOnCompactedTopics() async throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("c", configs: ["cleanup.policy": "compact"])
        var messages = ByteBuffer()
        MessageSetWriter.write(offset: 0, magic: 1, timestamp: 1_000, key: ByteBuffer(string: "k"), value: ByteBuffer(string: "v"), to: &messages)
        MessageSetWriter.write(offset: 1, magic: 1, timestamp: 1_000, key: nil, value: ByteBuffer(string: "v"), to: &messages)
        let answer = try await serve(fixture.handler, ProducedBatch.request("c", messages), version: 2).first
        #expect(answer.errorCode == ErrorCode.invalidRecord.code)
        #expect(fixture.partition("c").log.logEndOffset == 0)
    }

    @Test func topicsThatOnlyDeleteAcceptRecordsWithoutKeys() async throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("d")
        let answer = try await serve(fixture.handler, ProducedBatch.request("d", try ProducedBatch.make([nil, nil])), version: 9).first
        #expect(answer.errorCode == ErrorCode.none.code)
        #expect(fixture.partition("d").log.logEndOffset == 2)
    }

    // MARK: compression.type

    @Test(arguments: [
        ("gzip", CompressionCodec.zstd, CompressionCodec.gzip),
        ("uncompressed", .snappy, .none),
        ("lz4", .none, .lz4),
        ("zstd", .gzip, .zstd),
        ("snappy", .snappy, .snappy),
        ("producer", .lz4, .lz4),
    ])
    func batchesAreStoredWithTheTopicsCodec(topicCodec: String, sent: CompressionCodec, stored expected: CompressionCodec) async throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("t", configs: ["compression.type": topicCodec])
        let headers = [Record.Header(key: "trace", value: ByteBuffer(string: "t-1")), .init(key: "null", value: nil)]
        let records = try ProducedBatch.make(["a", nil, "c"], codec: sent, producerId: 42, baseSequence: 0, headers: headers)
        let original = try RecordBatch(records)

        let answer = try await serve(fixture.handler, ProducedBatch.request("t", records), version: 9).first
        #expect(answer.errorCode == ErrorCode.none.code)
        let stored = try #require(try fixture.storedBatches("t").first)
        try stored.validate()
        #expect(stored.compression == expected)
        #expect(try stored.records() == original.records())
        #expect(stored.producerId == 42)
        #expect(stored.producerEpoch == 3)
        #expect(stored.baseSequence == 0)
        #expect(stored.baseTimestamp == original.baseTimestamp)
        #expect(stored.maxTimestamp == original.maxTimestamp)
        if sent == expected {
            #expect(stored.recordsSection == original.recordsSection)
        }
    }

    @Test func onlyTheBatchesInAnotherCodecAreReencoded() async throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("t", configs: ["compression.type": "gzip"])
        let parts = [try ProducedBatch.make(["a", "b"], codec: .gzip), try ProducedBatch.make(["c"], codec: .zstd), try ProducedBatch.make(["d", "e"], codec: .gzip)]
        var records = ByteBuffer()
        for part in parts { records.writeImmutableBuffer(part) }

        let answer = try await serve(fixture.handler, ProducedBatch.request("t", records), version: 9).first
        #expect(answer.errorCode == ErrorCode.none.code)
        let stored = try fixture.storedBatches("t")
        #expect(stored.map(\.compression) == [.gzip, .gzip, .gzip])
        #expect(stored.map(\.baseOffset) == [0, 2, 3])
        #expect(stored[0].recordsSection == (try RecordBatch(parts[0])).recordsSection)
        #expect(stored[2].recordsSection == (try RecordBatch(parts[2])).recordsSection)
        #expect(try stored.flatMap { try $0.records() }.map { $0.key.map { String(buffer: $0) } } == ["a", "b", "c", "d", "e"])
    }

    @Test func legacyMessageSetsAreConvertedStraightToTheTopicsCodec() async throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("t", configs: ["compression.type": "zstd"])
        var inner = ByteBuffer()
        MessageSetWriter.write(offset: 0, magic: 1, timestamp: 1_000, key: ByteBuffer(string: "a"), value: ByteBuffer(string: "1"), to: &inner)
        MessageSetWriter.write(offset: 1, magic: 1, timestamp: 1_001, key: nil, value: ByteBuffer(string: "2"), to: &inner)
        var messages = ByteBuffer()
        try MessageSetWriter.writeWrapper(offset: 1, magic: 1, codec: .gzip, timestamp: 1_001, inner: inner, to: &messages)

        let answer = try await serve(fixture.handler, ProducedBatch.request("t", messages), version: 2).first
        #expect(answer.errorCode == ErrorCode.none.code)
        let stored = try fixture.storedBatches("t")
        #expect(stored.map(\.compression) == [.zstd])
        #expect(try stored.first?.records().map(\.timestamp) == [1_000, 1_001])
        #expect(try stored.first?.records().map(\.value) == [ByteBuffer(string: "1"), ByteBuffer(string: "2")])
    }

    @Test func aCorruptBatchIsRefusedRatherThanReencoded() async throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("t", configs: ["compression.type": "gzip"])
        var records = try ProducedBatch.make(["a", "b"], codec: .zstd)
        let last = records.writerIndex - 1
        records.setInteger(records.getInteger(at: last, as: UInt8.self)! ^ 0xFF, at: last)

        let answer = try await serve(fixture.handler, ProducedBatch.request("t", records), version: 9).first
        #expect(answer.errorCode == ErrorCode.corruptMessage.code)
        #expect(fixture.partition("t").log.logEndOffset == 0)
    }
}
