@testable import BrookBroker
import BrookCoordinator
import BrookModel
import BrookProtocol
import Foundation
import Logging
import NIOPosix
import Testing

/// A coordinator whose topic holds data is replayed in the background: requests meanwhile get
/// COORDINATOR_LOAD_IN_PROGRESS (which clients retry) instead of waiting on a lock, and then the
/// replayed state.
@Suite struct CoordinatorLoadingTests {
    @Test func aRestartedGroupCoordinatorAnswersLoadInProgressUntilReplayed() async throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("t")
        let groups = fixture.groups()
        let commit = OffsetCommitRequest(
            groupId: "g", generationIdOrMemberEpoch: -1,
            topics: [.init(name: "t", partitions: [.init(partitionIndex: 0, committedOffset: 42)])])
        // No offsets topic yet: it is created and the empty coordinator loads at once.
        let first = try await serve(OffsetCommitHandler(groups: groups, metadata: fixture.metadata), commit, version: 8)
        #expect(first.topics[0].partitions[0].errorCode == ErrorCode.none.code)
        try groups.coordinator().shutdown()

        // After a "restart" the topic exists: the first request starts the replay and is told to
        // retry. The replay gets a thread of its own: in the full suite the process-wide load
        // threads are shared with every other test's brokers, and on a loaded 2-core machine their
        // queue outlasted this test's deadline.
        let loadThread = NIOThreadPool(numberOfThreads: 1)
        loadThread.start()
        var settings = GroupCoordinatorHost.Settings()
        settings.group.offsetsTopicPartitions = 1
        let restarted = GroupCoordinatorHost(
            settings: settings, metadata: fixture.metadata, partitions: fixture.manager, logger: Logger(label: "test"),
            loadThreads: loadThread)
        let fetch = OffsetFetchRequest(groupId: "g", topics: [.init(name: "t", partitionIndexes: [0])])
        let handler = OffsetFetchHandler(groups: restarted)
        let during = try await serve(handler, fetch, version: 5)
        #expect(during.errorCode == ErrorCode.coordinatorLoadInProgress.code)
        // Generous: in the full suite the disk-heavy storage tests can keep every thread of the
        // cooperative pool busy for a minute, and this loop only runs when one is free.
        let deadline = ContinuousClock.now + .seconds(180)
        var offset: Int64 = -1
        while ContinuousClock.now < deadline {
            let answer = try await serve(handler, fetch, version: 5)
            if answer.errorCode == ErrorCode.none.code {
                offset = answer.topics[0].partitions[0].committedOffset
                break
            }
            #expect(answer.errorCode == ErrorCode.coordinatorLoadInProgress.code)
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(offset == 42)
        try await loadThread.shutdownGracefully()
    }

    @Test func findCoordinatorAnswersWhileLoading() async throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("t")
        _ = try fixture.groups().coordinator()
        let restarted = fixture.groups()
        restarted.loadIfPresent()
        let transactions = TransactionCoordinatorHost(
            settings: .init(), metadata: fixture.metadata, partitions: fixture.manager,
            markers: LocalMarkerWriter(partitions: fixture.manager.table, groups: restarted),
            producerIds: ProducerIdManager { count in try fixture.metadata.allocateProducerIds(count: count) },
            logger: .init(label: "test"))
        let handler = FindCoordinatorHandler(metadata: fixture.metadata, groups: restarted, transactions: transactions)
        let answer = try await serve(handler, FindCoordinatorRequest(keyType: 0, coordinatorKeys: ["g"]), version: 4)
        #expect(answer.coordinators[0].errorCode == ErrorCode.none.code)
        #expect(answer.coordinators[0].nodeId == 1)
    }
}
