@testable import BrookClient
import BrookModel
import BrookProtocol
import Testing

/// KIP-848's member state machine, driven by hand with a fake clock.
@Suite struct ConsumerGroupMembershipTests {
    static let p0 = TopicPartition(topic: "t", partition: 0)
    static let p1 = TopicPartition(topic: "t", partition: 1)
    static let p2 = TopicPartition(topic: "t", partition: 2)

    static func membership(instanceId: String? = nil) -> ConsumerGroupMembership {
        ConsumerGroupMembership(
            settings: .init(instanceId: instanceId, maxPollIntervalMs: 60_000, serverAssignor: "range", retryBackoffMs: 100),
            memberId: "me", subscription: .topics(["t"]), now: 0)
    }

    @Test func joiningSendsTheSubscriptionThenOnlyTheOwnedPartitions() {
        var member = Self.membership()
        guard case .heartbeat(let join) = member.nextStep(now: 0) else { Issue.record("expected a heartbeat"); return }
        #expect(join.memberEpoch == 0 && join.subscription == .topics(["t"]) && join.serverAssignor == "range" && join.ownedPartitions.isEmpty)
        _ = member.onHeartbeat(.none, memberId: "me", memberEpoch: 1, heartbeatIntervalMs: 500, assignment: [Self.p0, Self.p1],
                               sentSubscription: true, now: 10)
        #expect(member.nextStep(now: 10) == .reconcile(revoke: [], assign: [Self.p0, Self.p1]))
        member.reconciled(now: 20)
        guard case .heartbeat(let ack) = member.nextStep(now: 20) else { Issue.record("expected an acknowledgement"); return }
        #expect(ack.memberEpoch == 1 && ack.subscription == nil && ack.serverAssignor == nil && ack.ownedPartitions == [Self.p0, Self.p1])
        _ = member.onHeartbeat(.none, memberId: nil, memberEpoch: 1, heartbeatIntervalMs: 500, assignment: nil, sentSubscription: false, now: 20)
        #expect(member.nextStep(now: 20) == .wait(until: 520))
    }

    @Test func aNewTargetRevokesFirstThenAssigns() {
        var member = Self.membership()
        _ = member.onHeartbeat(.none, memberId: "me", memberEpoch: 1, heartbeatIntervalMs: 500, assignment: [Self.p0, Self.p1],
                               sentSubscription: true, now: 0)
        member.reconciled(now: 0)
        _ = member.onHeartbeat(.none, memberId: "me", memberEpoch: 2, heartbeatIntervalMs: 500, assignment: [Self.p1, Self.p2],
                               sentSubscription: false, now: 100)
        #expect(member.nextStep(now: 100) == .reconcile(revoke: [Self.p0], assign: [Self.p2]))
        member.reconciled(now: 110)
        #expect(member.owned == [Self.p1, Self.p2])
        member.subscribe(.pattern("t.*"))
        guard case .heartbeat(let next) = member.nextStep(now: 110) else { Issue.record("expected a heartbeat"); return }
        #expect(next.subscription == .pattern("t.*"))
    }

    @Test func aFencedMemberLosesItsPartitionsAndJoinsAgain() {
        var member = Self.membership()
        _ = member.onHeartbeat(.none, memberId: "me", memberEpoch: 3, heartbeatIntervalMs: 500, assignment: [Self.p0],
                               sentSubscription: true, now: 0)
        member.reconciled(now: 0)
        #expect(member.onHeartbeat(.fencedMemberEpoch, memberId: nil, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: nil,
                                   sentSubscription: false, now: 100) == [.lost([Self.p0])])
        guard case .heartbeat(let rejoin) = member.nextStep(now: 100) else { Issue.record("expected a heartbeat"); return }
        #expect(rejoin.memberEpoch == 0 && rejoin.memberId == "me" && rejoin.subscription == .topics(["t"]))
        #expect(member.onHeartbeat(.groupAuthorizationFailed, memberId: nil, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: nil,
                                   sentSubscription: false, now: 200) == [.failed(.groupAuthorizationFailed)])
    }

    @Test func leavingUsesMinusOneOrMinusTwoForStaticMembers() {
        #expect(Self.membership().leaveEpoch == -1)
        #expect(Self.membership(instanceId: "s").leaveEpoch == -2)
    }

    @Test func aMemberThatStopsPollingLeavesUntilItPollsAgain() {
        var member = Self.membership()
        _ = member.onHeartbeat(.none, memberId: "me", memberEpoch: 1, heartbeatIntervalMs: 100_000, assignment: [Self.p0],
                               sentSubscription: true, now: 0)
        member.reconciled(now: 0)
        _ = member.onHeartbeat(.none, memberId: "me", memberEpoch: 1, heartbeatIntervalMs: 100_000, assignment: nil,
                               sentSubscription: false, now: 0)
        #expect(member.nextStep(now: 60_000) == .leaveForPollTimeout)
        #expect(member.left(now: 60_000) == [.lost([Self.p0])])
        #expect(member.nextStep(now: 70_000) == .wait(until: nil))
        member.polled(now: 70_000)
        guard case .heartbeat(let rejoin) = member.nextStep(now: 70_000) else { Issue.record("expected a heartbeat"); return }
        #expect(rejoin.memberEpoch == 0)
    }
}
