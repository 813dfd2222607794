@testable import BrookCoordinator
import BrookModel
import BrookProtocol
import Testing

/// How members of KIP-848 groups reconcile with their targets as clients really heartbeat:
/// librdkafka reports its owned partitions only when it acknowledges an assignment, and an
/// assignment that arrives while it applies another waits (and is dropped when the next answer
/// carries one equal to what it is applying).
@Suite struct ConsumerGroupReconciliationTests {
    private let audit = topicPartitions("audit", 0, 1)
    private let ordersEU = topicPartitions("orders-eu", 0, 1)

    /// `s` (audit, orders-eu) is granted orders-eu when `l` leaves, in a heartbeat answered while
    /// its client still applies audit; `n` (orders-eu) joins before `s` acknowledges audit, so
    /// orders-eu goes to `n` in the very heartbeat that acknowledges. `s` never took orders-eu.
    private func grantedThenTakenBack() -> ConsumerGroupUnderTest {
        var test = ConsumerGroupUnderTest()
        let l = test.beat("l", epoch: 0, topics: ["orders-eu"])
        test.beat("l", epoch: l.memberEpoch, owned: ordersEU)
        let s = test.beat("s", epoch: 0, topics: ["audit", "orders-eu"])
        #expect(s.assignment == audit)
        test.beat("l", epoch: ConsumerMember.leaveEpoch)
        let granted = test.beat("s", epoch: s.memberEpoch)
        #expect(granted.assignment == audit.union(ordersEU))
        test.beat("n", epoch: 0, topics: ["orders-eu"])
        #expect(test.group.target["s"] == audit && test.group.target["n"] == ordersEU)
        let acknowledged = test.beat("s", epoch: granted.memberEpoch, owned: audit)
        #expect(acknowledged.error == .none)
        #expect(acknowledged.assignment == audit)
        return test
    }

    @Test func partitionsAMemberReportsItDoesNotOwnAreTakenBackWithoutARevocation() {
        var test = grantedThenTakenBack()
        // Nothing to wait for: s is at the target epoch with audit, and orders-eu is free for n.
        #expect(test.member("s").state == .stable)
        #expect(test.member("s").pendingRevocation.isEmpty)
        #expect(test.member("s").epoch == test.group.groupEpoch)
        let n = test.beat("n", epoch: test.member("n").epoch)
        #expect(n.assignment == ordersEU)
        #expect(test.member("n").state == .stable)
    }

    enum Departure: String, CaseIterable {
        case leaveHeartbeat, sessionExpiry, leaveWhileRevoking
    }

    /// The partitions of a member that goes move to the member that stays at its next heartbeat.
    @Test(arguments: Departure.allCases)
    func theRemainingMemberGetsTheDepartedMembersPartitions(_ departure: Departure) {
        var test = grantedThenTakenBack()
        let n = test.beat("n", epoch: test.member("n").epoch)
        switch departure {
        case .leaveHeartbeat:
            #expect(test.beat("n", epoch: ConsumerMember.leaveEpoch).error == .none)
        case .sessionExpiry:
            test.now += Int64(configuration.consumerSessionTimeoutMs)
            test.beat("s", epoch: test.member("s").epoch)
            test.group.expire(now: test.now)
        case .leaveWhileRevoking:
            let moved = test.beat("n", epoch: n.memberEpoch, topics: ["orders"])
            #expect(moved.assignment == [])
            #expect(test.member("n").state == .unrevokedPartitions)
            #expect(test.beat("n", epoch: moved.memberEpoch, owned: ordersEU).assignment == nil)
            #expect(test.beat("n", epoch: ConsumerMember.leaveEpoch).error == .none)
        }
        #expect(test.group.members.keys.sorted() == ["s"])
        let s = test.beat("s", epoch: test.member("s").epoch)
        #expect(s.assignment == audit.union(ordersEU))
        #expect(s.memberEpoch == test.group.groupEpoch)
        #expect(test.group.stateName == "Stable")
    }

    @Test func aTopicThatLeavesAndReentersTheSubscriptionIsAssignedAgain() {
        var test = ConsumerGroupUnderTest()
        let joined = test.beat("a", epoch: 0, topics: ["audit"])
        #expect(joined.assignment == audit)
        // The subscription grows while the client still applies audit: orders-eu is granted.
        let grown = test.beat("a", epoch: joined.memberEpoch, topics: ["audit", "orders-eu"])
        #expect(grown.assignment == audit.union(ordersEU))
        // It shrinks again in the heartbeat that acknowledges audit; the client drops the grant.
        let shrunk = test.beat("a", epoch: grown.memberEpoch, topics: ["audit"], owned: audit)
        #expect(shrunk.assignment == audit)
        #expect(test.member("a").pendingRevocation.isEmpty)
        #expect(test.group.stateName == "Stable")
        // And orders-eu comes back.
        let again = test.beat("a", epoch: shrunk.memberEpoch, topics: ["audit", "orders-eu"])
        #expect(again.assignment == audit.union(ordersEU))
        #expect(again.memberEpoch == test.group.groupEpoch)
    }

    @Test func revokingBlocksUntilTheMemberReportsThePartitionsGone() {
        var test = ConsumerGroupUnderTest()
        let orders = topicPartitions("orders", 0, 1, 2, 3)
        let a = test.beat("a", epoch: 0, topics: ["orders"])
        test.beat("b", epoch: 0, topics: ["orders"])
        let revoking = test.beat("a", epoch: a.memberEpoch)
        let kept = revoking.assignment ?? []
        #expect(kept.count == 2)
        #expect(revoking.memberEpoch == a.memberEpoch)
        let deadline = test.member("a").revocationDeadline
        #expect(deadline != nil)

        // The target moves on while a still revokes: a's assignment, epoch and deadline wait.
        test.beat("c", epoch: 0, topics: ["orders"])
        test.beat("d", epoch: 0, topics: ["orders"])
        let waiting = test.beat("a", epoch: revoking.memberEpoch)
        #expect(waiting.assignment == nil)
        #expect(test.member("a").assigned == kept)
        #expect(test.member("a").pendingRevocation == orders.subtracting(kept))
        #expect(test.member("a").revocationDeadline == deadline)
        // Reporting a revoked partition as still owned does not count.
        #expect(test.beat("a", epoch: revoking.memberEpoch, owned: orders).assignment == nil)

        // Once a reports them gone, it is asked to revoke again, in the next epoch.
        let again = test.beat("a", epoch: revoking.memberEpoch, owned: kept)
        let last = again.assignment ?? []
        #expect(last.count == 1 && last.isSubset(of: kept))
        #expect(again.memberEpoch == revoking.memberEpoch + 1)
        #expect(test.member("a").state == .unrevokedPartitions)
        let done = test.beat("a", epoch: again.memberEpoch, owned: last)
        #expect(done.memberEpoch == test.group.groupEpoch)
        #expect(test.member("a").state == .stable)
    }

    @Test func aMemberThatDoesNotRevokeInTimeIsRemovedAtTheDeadlineOfItsFirstRequest() {
        var test = ConsumerGroupUnderTest()
        let a = test.beat("a", epoch: 0, topics: ["orders"])
        test.beat("b", epoch: 0, topics: ["orders"])
        test.beat("a", epoch: a.memberEpoch)
        let deadline = test.member("a").revocationDeadline ?? 0
        // The target shrinks further meanwhile; that does not give a more time.
        test.now = deadline - 1_000
        test.beat("c", epoch: 0, topics: ["orders"])
        test.beat("d", epoch: 0, topics: ["orders"])
        test.beat("a", epoch: a.memberEpoch)
        test.group.expire(now: deadline - 1)
        #expect(test.group.members["a"] != nil)
        test.group.expire(now: deadline)
        #expect(test.group.members["a"] == nil)
    }

    @Test func aHeartbeatInThePreviousEpochIsAcceptedOnlyWithAssignedPartitions() {
        var test = ConsumerGroupUnderTest()
        let orders = topicPartitions("orders", 0, 1, 2, 3)
        let a = test.beat("a", epoch: 0, topics: ["orders"])
        test.beat("a", epoch: a.memberEpoch, owned: orders)
        test.beat("b", epoch: 0, topics: ["orders"])
        let revoking = test.beat("a", epoch: a.memberEpoch)
        let moved = test.beat("a", epoch: revoking.memberEpoch, owned: revoking.assignment)
        #expect(moved.memberEpoch == test.group.groupEpoch)
        // The answer that moved a on was lost: a heartbeat in the previous epoch still counts...
        #expect(test.beat("a", epoch: revoking.memberEpoch, owned: revoking.assignment).error == .none)
        // ...but not without owned partitions, nor with partitions a no longer has.
        #expect(test.beat("a", epoch: revoking.memberEpoch).error == .fencedMemberEpoch)
        #expect(test.beat("a", epoch: revoking.memberEpoch, owned: orders).error == .fencedMemberEpoch)
        #expect(test.beat("a", epoch: moved.memberEpoch + 1).error == .fencedMemberEpoch)
    }
}
