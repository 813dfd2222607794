@testable import BrookBroker
import BrookCoordinator
import BrookModel
import BrookProtocol
import Testing

/// OffsetCommit with the numbers a hostile or old client may send: every one is stored or
/// refused, and none traps the broker now or when the offsets expire later.
@Suite struct OffsetCommitHandlerTests {
    private func commit(
        _ handler: OffsetCommitHandler, version: Int16, retentionTimeMs: Int64 = -1, commitTimestamp: Int64 = -1
    ) async throws -> Int16 {
        let request = OffsetCommitRequest(
            groupId: "g", generationIdOrMemberEpoch: -1, retentionTimeMs: retentionTimeMs,
            topics: [.init(name: "t", partitions: [.init(partitionIndex: 0, committedOffset: 42, commitTimestamp: commitTimestamp)])])
        return try await serve(handler, request, version: version).topics[0].partitions[0].errorCode
    }

    private func committedOffset(_ groups: GroupCoordinatorHost) async throws -> Int64 {
        let request = OffsetFetchRequest(groupId: "g", topics: [.init(name: "t", partitionIndexes: [0])])
        return try await serve(OffsetFetchHandler(groups: groups), request, version: 1).topics[0].partitions[0].committedOffset
    }

    private func expireOffsets(_ groups: GroupCoordinatorHost) async throws {
        for shard in try groups.coordinator().shards { _ = await shard.expireOffsets() }
    }

    @Test(arguments: [2, 3, 4] as [Int16], [Int64.max, Int64.max - 1, Int64(Int32.max) << 31])
    func aRetentionNearInt64MaxIsStoredAsNeverExpiring(version: Int16, retention: Int64) async throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("t")
        let groups = fixture.groups()
        let handler = OffsetCommitHandler(groups: groups, metadata: fixture.metadata)
        #expect(try await commit(handler, version: version, retentionTimeMs: retention) == ErrorCode.none.code)
        try await expireOffsets(groups)
        #expect(try await committedOffset(groups) == 42)
    }

    @Test(arguments: [Int64.max, Int64.max - 1, Int64.min, Int64.min + 1])
    func aV1CommitTimeAtTheEdgesSurvivesExpiryAndRestart(commitTimestamp: Int64) async throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("t")
        let groups = fixture.groups()
        let handler = OffsetCommitHandler(groups: groups, metadata: fixture.metadata)
        #expect(try await commit(handler, version: 1, commitTimestamp: commitTimestamp) == ErrorCode.none.code)
        // The commit time is persisted as sent; expiry adds the retention to it.
        try await expireOffsets(groups)
        try groups.coordinator().shutdown()

        // A restarted coordinator replays the record and expires again.
        let restarted = fixture.groups()
        try restarted.loadNow()
        try await expireOffsets(restarted)
        // A negative commit time means "now"; one near Int64.max never expires.
        #expect(try await committedOffset(restarted) == 42)
    }
}
