@testable import BrookCoordinator
import BrookProtocol
import NIOCore
import Testing

@Suite struct ClassicGroupMembershipTests {
    @Test func followersWaitForTheLeadersAssignment() {
        var group = ClassicGroup(groupId: "g", now: 0)
        let ids = MemberIds()
        _ = group.join(joinParameters(), configuration: configuration, now: 0, newMemberId: ids.make)
        _ = group.join(joinParameters(), configuration: configuration, now: 0, newMemberId: ids.make)
        _ = group.expire(configuration: configuration, now: 3_000)
        let (follower, none) = group.sync(memberId: "m2", groupInstanceId: nil, generationId: 1, protocolType: "consumer",
                                          protocolName: "range", assignments: [:], now: 3_100)
        #expect(follower == .wait(memberId: "m2"))
        #expect(none.isEmpty)
        let (leader, actions) = group.sync(
            memberId: "m1", groupInstanceId: nil, generationId: 1, protocolType: nil, protocolName: nil,
            assignments: ["m1": ByteBuffer(string: "one"), "m2": ByteBuffer(string: "two")], now: 3_200
        )
        #expect(leader == .wait(memberId: "m1"))
        // Nobody sees the assignment before it is stored.
        #expect(actions == [.storeAssignment(["m1": ByteBuffer(string: "one"), "m2": ByteBuffer(string: "two")])])
        #expect(group.state == .completingRebalance)
        let stored = group.assignmentStored(["m1": ByteBuffer(string: "one"), "m2": ByteBuffer(string: "two")], now: 3_200)
        #expect(group.state == .stable)
        #expect(stored.syncs["m1"]?.assignment == ByteBuffer(string: "one"))
        #expect(stored.syncs["m2"]?.assignment == ByteBuffer(string: "two"))
        #expect(stored.syncs["m2"]?.protocolName == "range")
    }

    @Test func anAssignmentThatCannotBeStoredFailsEveryParkedSyncAndTheGroupRebalances() {
        var group = ClassicGroup(groupId: "g", now: 0)
        let ids = MemberIds()
        _ = group.join(joinParameters(), configuration: configuration, now: 0, newMemberId: ids.make)
        _ = group.join(joinParameters(), configuration: configuration, now: 0, newMemberId: ids.make)
        _ = group.expire(configuration: configuration, now: 3_000)
        _ = group.sync(memberId: "m2", groupInstanceId: nil, generationId: 1, protocolType: nil, protocolName: nil, assignments: [:], now: 3_100)
        _ = group.sync(memberId: "m1", groupInstanceId: nil, generationId: 1, protocolType: nil, protocolName: nil,
                       assignments: ["m1": ByteBuffer(string: "one"), "m2": ByteBuffer(string: "two")], now: 3_200)
        let actions = group.assignmentNotStored(error: .notCoordinator, configuration: configuration, now: 3_200)
        #expect(actions.syncs == ["m1": SyncGroupResult(error: .notCoordinator), "m2": SyncGroupResult(error: .notCoordinator)])
        #expect(group.state == .preparingRebalance)
        #expect(group.members.values.allSatisfy { $0.assignment.readableBytes == 0 })
        // Both rejoin and the next generation starts.
        _ = group.join(joinParameters("m1"), configuration: configuration, now: 3_300, newMemberId: { "x" })
        let (_, joined) = group.join(joinParameters("m2"), configuration: configuration, now: 3_300, newMemberId: { "x" })
        #expect(joined.joins.keys.sorted() == ["m1", "m2"])
        #expect(group.generationId == 2)
    }

    @Test func syncChecksGenerationMemberAndProtocol() {
        var group = stableGroup(count: 1)
        #expect(group.sync(memberId: "m1", groupInstanceId: nil, generationId: 7, protocolType: nil, protocolName: nil,
                           assignments: [:], now: 5_000).0 == .respond(SyncGroupResult(error: .illegalGeneration)))
        #expect(group.sync(memberId: "zz", groupInstanceId: nil, generationId: 1, protocolType: nil, protocolName: nil,
                           assignments: [:], now: 5_000).0 == .respond(SyncGroupResult(error: .unknownMemberId)))
        #expect(group.sync(memberId: "m1", groupInstanceId: nil, generationId: 1, protocolType: nil, protocolName: "other",
                           assignments: [:], now: 5_000).0 == .respond(SyncGroupResult(error: .inconsistentGroupProtocol)))
        guard case .respond(let stable) = group.sync(memberId: "m1", groupInstanceId: nil, generationId: 1, protocolType: nil,
                                                     protocolName: nil, assignments: [:], now: 5_000).0 else {
            Issue.record("a stable group answers SyncGroup at once")
            return
        }
        #expect(stable.assignment == ByteBuffer(string: "a-m1"))
    }

    @Test func heartbeatsKeepMembersAliveAndExpiredOnesAreDropped() {
        var group = stableGroup(count: 2)
        let start: Int64 = 3_000
        #expect(group.heartbeat(memberId: "m1", groupInstanceId: nil, generationId: 1, now: start + 9_000) == .none)
        #expect(group.heartbeat(memberId: "m1", groupInstanceId: nil, generationId: 0, now: start + 9_000) == .illegalGeneration)
        #expect(group.heartbeat(memberId: "nobody", groupInstanceId: nil, generationId: 1, now: start + 9_000) == .unknownMemberId)
        // m2 last heard of at `start`; its 10 s session ends at start + 10_000.
        _ = group.expire(configuration: configuration, now: start + 10_000)
        #expect(group.members.keys.sorted() == ["m1"])
        #expect(group.state == .preparingRebalance)
        // m1 rejoins; the join phase completes without m2.
        let (_, actions) = group.join(joinParameters("m1"), configuration: configuration, now: start + 10_100, newMemberId: { "x" })
        #expect(actions.joins.keys.sorted() == ["m1"])
        #expect(group.generationId == 2)
    }

    @Test func theLastMemberLeavingEmptiesTheGroup() {
        var group = stableGroup(count: 1)
        let (error, actions) = group.leave(memberId: "m1", groupInstanceId: nil, configuration: configuration, now: 5_000)
        #expect(error == .none)
        #expect(group.state == .empty)
        #expect(group.members.isEmpty)
        #expect(group.generationId == 2)
        #expect(actions.persists)
        #expect(group.leave(memberId: "m1", groupInstanceId: nil, configuration: configuration, now: 5_000).0 == .unknownMemberId)
    }

    @Test func aMemberParkedInJoinGroupIsAnsweredWhenAnotherLeaves() {
        var group = stableGroup(count: 2)
        _ = group.join(joinParameters("m1", protocols: protocols("range", "sticky")), configuration: configuration, now: 5_000, newMemberId: { "x" })
        let (_, actions) = group.leave(memberId: "m2", groupInstanceId: nil, configuration: configuration, now: 5_100)
        #expect(actions.joins["m1"]?.error == ErrorCode.none)
        #expect(actions.joins["m1"]?.generationId == 2)
        #expect(group.state == .completingRebalance)
    }

    @Test func aRestartedStaticMemberTakesItsPlaceWithoutARebalance() {
        var group = ClassicGroup(groupId: "g", now: 0)
        _ = group.join(joinParameters(instance: "i-1"), configuration: configuration, now: 0, newMemberId: { "old" })
        _ = group.join(joinParameters(instance: "i-2"), configuration: configuration, now: 0, newMemberId: { "other" })
        _ = group.expire(configuration: configuration, now: 3_000)
        _ = group.sync(memberId: "other", groupInstanceId: "i-2", generationId: 1, protocolType: nil, protocolName: nil, assignments: [:], now: 3_000)
        _ = group.syncStoring(memberId: "old", groupInstanceId: "i-1", generationId: 1, protocolType: nil, protocolName: nil,
                       assignments: ["old": ByteBuffer(string: "p0"), "other": ByteBuffer(string: "p1")], now: 3_000)
        #expect(group.state == .stable)

        let (decision, actions) = group.join(joinParameters(instance: "i-1"), configuration: configuration, now: 4_000, newMemberId: { "new" })
        guard case .respond(let result) = decision else {
            Issue.record("a static member rejoining a stable group is answered at once, got \(decision)")
            return
        }
        #expect(result.memberId == "new")
        #expect(result.generationId == 1)
        #expect(group.state == .stable)
        #expect(actions.persists)
        #expect(group.members["new"]?.assignment == ByteBuffer(string: "p0"))
        // The old incarnation is fenced.
        #expect(group.heartbeat(memberId: "old", groupInstanceId: "i-1", generationId: 1, now: 4_100) == .fencedInstanceId)
        #expect(group.heartbeat(memberId: "new", groupInstanceId: "i-1", generationId: 1, now: 4_100) == .none)
        // A static member may leave by instance id alone.
        #expect(group.leave(memberId: "", groupInstanceId: "i-1", configuration: configuration, now: 4_200).0 == .none)
        #expect(group.members["new"] == nil)
    }

    @Test func offsetCommitsFollowTheClassicRules() {
        let group = stableGroup(count: 1)
        #expect(group.offsetCommitError(memberId: "m1", groupInstanceId: nil, generationId: 1) == nil)
        #expect(group.offsetCommitError(memberId: "m1", groupInstanceId: nil, generationId: 0) == .illegalGeneration)
        #expect(group.offsetCommitError(memberId: "zz", groupInstanceId: nil, generationId: 1) == .unknownMemberId)
        #expect(group.offsetCommitError(memberId: "", groupInstanceId: nil, generationId: -1) == .unknownMemberId)
        let empty = ClassicGroup(groupId: "e", now: 0)
        #expect(empty.offsetCommitError(memberId: "", groupInstanceId: nil, generationId: -1) == nil)
    }

    @Test func aSnapshotRestoresTheStableGroup() {
        let group = stableGroup(count: 2)
        let restored = ClassicGroup(groupId: "g", restoring: group.snapshot(), now: 50_000)
        #expect(restored.state == .stable)
        #expect(restored.generationId == 1)
        #expect(restored.leaderId == "m1")
        #expect(restored.protocolName == "range")
        #expect(restored.orderedMembers.map(\.memberId) == ["m1", "m2"])
        #expect(restored.members["m2"]?.assignment == ByteBuffer(string: "a-m2"))
        #expect(restored.members["m2"]?.heartbeatDeadline == 60_000)
    }
}

@Suite struct StaticMemberMetadataTests {
    @Test func aRestartedStaticMemberWithOtherMetadataButTheSameProtocolDoesNotRebalance() {
        var group = ClassicGroup(groupId: "g", now: 0)
        let owned = [GroupMember.SupportedProtocol(name: "range", metadata: ByteBuffer(string: "owns p0"))]
        _ = group.join(joinParameters(instance: "i-1", protocols: owned), configuration: configuration, now: 0, newMemberId: { "old" })
        _ = group.expire(configuration: configuration, now: 3_000)
        _ = group.syncStoring(memberId: "old", groupInstanceId: "i-1", generationId: 1, protocolType: nil, protocolName: nil,
                       assignments: ["old": ByteBuffer(string: "p0")], now: 3_000)
        let fresh = [GroupMember.SupportedProtocol(name: "range", metadata: ByteBuffer(string: "owns nothing"))]
        let (decision, _) = group.join(joinParameters(instance: "i-1", protocols: fresh), configuration: configuration, now: 4_000, newMemberId: { "new" })
        guard case .respond(let result) = decision else {
            Issue.record("expected the current generation at once, got \(decision)")
            return
        }
        #expect(result.generationId == 1)
        #expect(group.state == .stable)
        // A member whose vote would change the group's protocol does rebalance.
        let other = protocols("roundrobin", "range")
        let (second, _) = group.join(joinParameters(instance: "i-1", protocols: other), configuration: configuration, now: 5_000, newMemberId: { "newer" })
        #expect(second == .wait(memberId: "newer"))
        #expect(group.state != .stable)
    }
}
