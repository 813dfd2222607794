@testable import BrookBroker
import Testing

/// KIP-392: where a leader sends a consumer that names its rack, and which followers it may send
/// it to (in sync, holding the fetch offset).
@Suite struct ReplicaSelectorTests {
    typealias Candidate = ReplicaSelector.Candidate
    let leader = Candidate(brokerId: 1, rack: "a", logEndOffset: 100, lastCaughtUpMs: 5000)

    @Test func classNamesAreKafkas() {
        #expect(ReplicaSelector(className: nil) == .leader)
        #expect(ReplicaSelector(className: "") == .leader)
        #expect(ReplicaSelector(className: "org.apache.kafka.common.replica.LeaderSelector") == .leader)
        #expect(ReplicaSelector(className: "org.apache.kafka.common.replica.RackAwareReplicaSelector") == .rackAware)
        #expect(ReplicaSelector(className: "com.example.Nearest") == nil)
    }

    @Test func aConsumerInAFollowersRackIsSentThere() {
        let followers = [Candidate(brokerId: 2, rack: "b", logEndOffset: 100, lastCaughtUpMs: 5000),
                         Candidate(brokerId: 3, rack: "c", logEndOffset: 100, lastCaughtUpMs: 5000)]
        #expect(ReplicaSelector.rackAware.preferredReadReplica(clientRack: "c", leaderRack: leader.rack, followers: followers) == 3)
        #expect(ReplicaSelector.rackAware.preferredReadReplica(clientRack: "b", leaderRack: leader.rack, followers: followers) == 2)
    }

    @Test func theLeaderServesItsOwnRackNoRackAndRacksWithoutAReplica() {
        let followers = [Candidate(brokerId: 2, rack: "a", logEndOffset: 100, lastCaughtUpMs: 5000)]
        let selector = ReplicaSelector.rackAware
        #expect(selector.preferredReadReplica(clientRack: "a", leaderRack: leader.rack, followers: followers) == nil, "the leader is in a")
        #expect(selector.preferredReadReplica(clientRack: "", leaderRack: leader.rack, followers: followers) == nil)
        #expect(selector.preferredReadReplica(clientRack: "z", leaderRack: leader.rack, followers: followers) == nil)
        #expect(ReplicaSelector.leader.preferredReadReplica(clientRack: "a", leaderRack: "x",
                                                            followers: followers) == nil, "LeaderSelector never redirects")
    }

    @Test func amongFollowersInTheRackTheMostCaughtUpWins() {
        let followers = [Candidate(brokerId: 2, rack: "b", logEndOffset: 90, lastCaughtUpMs: 5000),
                         Candidate(brokerId: 3, rack: "b", logEndOffset: 100, lastCaughtUpMs: 4000),
                         Candidate(brokerId: 4, rack: "b", logEndOffset: 100, lastCaughtUpMs: 4500)]
        #expect(ReplicaSelector.rackAware.preferredReadReplica(clientRack: "b", leaderRack: leader.rack, followers: followers) == 4)
    }

    @Test func onlyInSyncFollowersHoldingTheOffsetAreCandidates() {
        var state = ReplicaStateTests.leader(isr: [1, 2], end: 100)
        _ = state.recordFetch(replica: 2, fetchOffset: 80, logStartOffset: 10, leaderEndOffset: 100, now: 1001)
        _ = state.recordFetch(replica: 3, fetchOffset: 100, logStartOffset: 0, leaderEndOffset: 100, now: 1001)
        #expect(state.followersHolding(50).map(\.id) == [2], "3 is not in the ISR")
        #expect(state.followersHolding(90).isEmpty, "2's log ends at 80")
        #expect(state.followersHolding(5).isEmpty, "2's log starts at 10")
        var follower = ReplicaState(localId: 2)
        _ = follower.apply(leader: 1, leaderEpoch: 5, partitionEpoch: 9, replicas: [1, 2], isr: [1, 2], logEndOffset: 0, now: 0)
        #expect(follower.followersHolding(0).isEmpty, "only a leader knows its followers")
    }
}
