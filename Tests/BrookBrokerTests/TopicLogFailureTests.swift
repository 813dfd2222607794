@testable import BrookBroker
import BrookProtocol
import Testing

/// A topic whose logs cannot be created (a full or failed disk) is never reported created.
@Suite struct TopicLogFailureTests {
    struct DiskFull: Error {}

    private func failingCreator(_ fixture: AdminFixture, deleted: HookRecorder) -> TopicCreator {
        var creator = TopicCreator(
            metadata: fixture.metadata, enabled: true, partitions: 1, replicationFactor: 1,
            onCreate: { _ in throw DiskFull() },
            onCreatePartitions: { _, _ in throw DiskFull() })
        creator.onDelete = { deleted.record("delete \($0.name)") }
        return creator
    }

    @Test func createTopicsAnswersKafkaStorageErrorAndLeavesNoTopic() async throws {
        let fixture = try AdminFixture()
        let deleted = HookRecorder()
        let handler = CreateTopicsHandler(config: fixture.config, metadata: fixture.metadata, topicCreator: failingCreator(fixture, deleted: deleted))
        let response = try await serve(handler, CreateTopicsRequest(topics: [.init(name: "t", numPartitions: 2, replicationFactor: 1)]), version: 7)
        #expect(response.topics[0].errorCode == ErrorCode.kafkaStorageError.code)
        #expect(response.topics[0].errorMessage?.contains("could not be created") == true)
        #expect(fixture.metadata.image.topics["t"] == nil)
        #expect(deleted.recorded == ["delete t"], "whatever logs were opened are dropped")
    }

    @Test func autoCreationGivesNoTopic() async throws {
        let fixture = try AdminFixture()
        let creator = failingCreator(fixture, deleted: HookRecorder())
        #expect(await creator.autoCreate("auto") == nil)
        #expect(fixture.metadata.image.topics["auto"] == nil)
    }

    @Test func createPartitionsAnswersKafkaStorageError() async throws {
        let fixture = try AdminFixture()
        try fixture.topic("grow", partitions: 1)
        let handler = CreatePartitionsHandler(
            metadata: fixture.metadata, topicCreator: failingCreator(fixture, deleted: HookRecorder()))
        let response = try await serve(handler, CreatePartitionsRequest(topics: [.init(name: "grow", count: 3, assignments: nil)], timeoutMs: 1_000), version: 3)
        #expect(response.results[0].errorCode == ErrorCode.kafkaStorageError.code)
    }
}
