@testable import BrookBroker
import BrookModel
import BrookProtocol
import Testing

/// A leader's view of its followers: the high watermark follows the ISR's slowest log end,
/// followers join once caught up and leave once they lag, and a follower cuts a divergent tail.
@Suite struct ReplicaStateTests {
    /// Broker 1 leading [1, 2, 3] with ISR `isr`, its log ending at `end`, at time 1000.
    static func leader(isr: [Int32] = [1, 2, 3], end: Int64 = 10) -> ReplicaState {
        var state = ReplicaState(localId: 1)
        let change = state.apply(
            leader: 1, leaderEpoch: 5, partitionEpoch: 9, replicas: [1, 2, 3], isr: isr, logEndOffset: end, now: 1000)
        #expect(change == .becameLeader)
        return state
    }

    @Test func theHighWatermarkIsTheSlowestInSyncLogEndAndNeverGoesBack() {
        var state = Self.leader()
        let moved1 = state.recordFetch(replica: 2, fetchOffset: 10, leaderEndOffset: 10, now: 1001)
        #expect(!moved1, "3 has not fetched yet")
        #expect(state.highWatermark == 0)
        let moved2 = state.recordFetch(replica: 3, fetchOffset: 6, leaderEndOffset: 10, now: 1001)
        #expect(moved2)
        #expect(state.highWatermark == 6)
        let moved3 = state.recordFetch(replica: 3, fetchOffset: 10, leaderEndOffset: 12, now: 1002)
        #expect(moved3)
        #expect(state.highWatermark == 10)
        // A follower fetching from lower (it truncated) does not pull the high watermark back.
        let moved4 = state.recordFetch(replica: 3, fetchOffset: 4, leaderEndOffset: 12, now: 1003)
        #expect(!moved4)
        #expect(state.highWatermark == 10)
        let moved5 = state.recordFetch(replica: 9, fetchOffset: 12, leaderEndOffset: 12, now: 1003)
        #expect(!moved5, "not a replica")
    }

    @Test func aLeaderAloneInItsIsrHasItsLogEndAsHighWatermark() {
        var state = Self.leader(isr: [1])
        #expect(state.leadsAlone)
        let moved6 = state.advanceHighWatermark(leaderEndOffset: 10)
        #expect(moved6)
        #expect(state.highWatermark == 10)
    }

    @Test func aCaughtUpFollowerJoinsOnceItReachesTheHighWatermarkAndTheEpochStart() {
        var state = Self.leader(isr: [1, 2])
        _ = state.recordFetch(replica: 2, fetchOffset: 10, leaderEndOffset: 10, now: 1001)
        _ = state.recordFetch(replica: 3, fetchOffset: 8, leaderEndOffset: 10, now: 1001)
        let proposed1 = state.proposeIsrChange(now: 1001, maxLagMs: 30_000)
        #expect(proposed1 == nil, "3 is below the epoch start (10)")
        _ = state.recordFetch(replica: 3, fetchOffset: 10, leaderEndOffset: 10, now: 1002)
        let proposed2 = state.proposeIsrChange(now: 1002, maxLagMs: 30_000)
        #expect(proposed2 == [1, 2, 3])
        #expect(state.maximalIsr == [1, 2, 3], "a joining member counts for the high watermark at once")
        let proposed3 = state.proposeIsrChange(now: 1002, maxLagMs: 30_000)
        #expect(proposed3 == nil, "one change in flight at a time")
        state.isrChangeFailed()
        let proposed4 = state.proposeIsrChange(now: 1002, maxLagMs: 30_000)
        #expect(proposed4 == [1, 2, 3])
        // The controller's answer, as the metadata brings it, ends the change in flight.
        let change1 = state.apply(leader: 1, leaderEpoch: 5, partitionEpoch: 10, replicas: [1, 2, 3], isr: [1, 2, 3], logEndOffset: 10, now: 1003)
        #expect(change1 == .membershipChanged)
        #expect(state.pendingIsr == nil)
    }

    @Test func aFollowerThatStopsCatchingUpLeavesAfterTheLagTime() {
        var state = Self.leader()
        _ = state.recordFetch(replica: 2, fetchOffset: 10, leaderEndOffset: 10, now: 2000)
        _ = state.recordFetch(replica: 3, fetchOffset: 10, leaderEndOffset: 10, now: 2000)
        // 3 keeps fetching but never reaches the log end, which keeps growing.
        _ = state.recordFetch(replica: 3, fetchOffset: 10, leaderEndOffset: 20, now: 2500)
        _ = state.recordFetch(replica: 3, fetchOffset: 15, leaderEndOffset: 30, now: 2900)
        _ = state.recordFetch(replica: 2, fetchOffset: 30, leaderEndOffset: 30, now: 2950)
        let proposed5 = state.proposeIsrChange(now: 2950, maxLagMs: 1000)
        #expect(proposed5 == nil, "3 last reached the log end at 2000, 950 ms ago")
        _ = state.recordFetch(replica: 3, fetchOffset: 20, leaderEndOffset: 40, now: 3400)
        let proposed6 = state.proposeIsrChange(now: 3600, maxLagMs: 1000)
        #expect(proposed6 == [1, 2])
    }

    @Test func aNewLeaderEpochGivesEveryFollowerAFreshLagWindow() {
        var state = Self.leader()
        let proposed7 = state.proposeIsrChange(now: 1000 + 29_000, maxLagMs: 30_000)
        #expect(proposed7 == nil)
        let proposed8 = state.proposeIsrChange(now: 1000 + 31_000, maxLagMs: 30_000)
        #expect(proposed8 == [1])
        let change2 = state.apply(leader: 2, leaderEpoch: 6, partitionEpoch: 10, replicas: [1, 2, 3], isr: [2, 3], logEndOffset: 10, now: 40_000)
        #expect(change2 == .becameFollower(leader: 2))
        #expect(!state.isLeader && state.followers.isEmpty && state.pendingIsr == nil)
        let proposed9 = state.proposeIsrChange(now: 90_000, maxLagMs: 30_000)
        #expect(proposed9 == nil, "a follower asks nothing")
        state.followHighWatermark(25, logEndOffset: 12)
        #expect(state.highWatermark == 12, "a follower's high watermark stops at its own log end")
    }

    @Test func aFollowerCutsItsLogWhereTheEpochsDiverge() {
        // The leader's epoch 3 ended at 40; the follower's epoch 3 ends at 50: cut at 40.
        #expect(ReplicaFetchResult.truncationOffset(
            diverging: EpochEndOffset(epoch: LeaderEpoch(3), endOffset: Offset(40)),
            local: EpochEndOffset(epoch: LeaderEpoch(3), endOffset: Offset(50)), logEndOffset: 60) == 40)
        // The follower's own epoch ends sooner than the leader's.
        #expect(ReplicaFetchResult.truncationOffset(
            diverging: EpochEndOffset(epoch: LeaderEpoch(3), endOffset: Offset(40)),
            local: EpochEndOffset(epoch: LeaderEpoch(2), endOffset: Offset(30)), logEndOffset: 60) == 30)
        // Never past its own end, never below zero.
        #expect(ReplicaFetchResult.truncationOffset(
            diverging: EpochEndOffset(epoch: LeaderEpoch(3), endOffset: Offset(80)), local: nil, logEndOffset: 60) == 60)
        #expect(ReplicaFetchResult.truncationOffset(
            diverging: EpochEndOffset(epoch: LeaderEpoch(0), endOffset: Offset(-5)), local: nil, logEndOffset: 60) == 0)
    }
}
