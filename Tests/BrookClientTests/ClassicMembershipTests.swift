@testable import BrookClient
import BrookModel
import BrookProtocol
import NIOCore
import Testing

/// The classic group protocol's member state machine, driven by hand with a fake clock.
@Suite struct ClassicMembershipTests {
    static let p0 = TopicPartition(topic: "t", partition: 0)
    static let p1 = TopicPartition(topic: "t", partition: 1)
    static let p2 = TopicPartition(topic: "t", partition: 2)

    static func membership(_ rebalance: RebalanceProtocol = .eager, instanceId: String? = nil) -> ClassicMembership {
        ClassicMembership(settings: .init(
            groupId: "g", instanceId: instanceId, sessionTimeoutMs: 10_000, maxPollIntervalMs: 60_000,
            heartbeatIntervalMs: 1_000, retryBackoffMs: 100, rebalanceProtocol: rebalance), subscription: ["t"], now: 0)
    }

    static func joined(_ member: inout ClassicMembership, generation: Int32, leader: Bool = true, at now: Int64) {
        _ = member.onJoin(.init(errorCode: .none, generationId: generation, memberId: "m-1", leaderId: leader ? "m-1" : "other",
                                protocolName: "range"), now: now)
    }

    @Test func aNewMemberTakesItsIdJoinsSyncsAndHeartbeats() {
        var member = Self.membership()
        #expect(member.nextStep(now: 0) == .join)
        #expect(member.onJoin(.init(errorCode: .memberIdRequired, memberId: "m-1"), now: 0).isEmpty)
        #expect(member.memberId == "m-1")
        #expect(member.nextStep(now: 0) == .join)
        Self.joined(&member, generation: 1, at: 5)
        #expect(member.isLeader && member.generationId == 1 && member.protocolName == "range")
        #expect(member.nextStep(now: 5) == .sync)
        #expect(member.onSync(.none, assignment: [Self.p0, Self.p1], now: 10) == [.assigned([Self.p0, Self.p1])])
        #expect(member.nextStep(now: 10) == .wait(until: 1_010))
        #expect(member.nextStep(now: 1_010) == .heartbeat)
        #expect(member.onHeartbeat(.none, now: 1_010).isEmpty)
        #expect(member.nextStep(now: 1_500) == .wait(until: 2_010))
    }

    @Test func anEagerMemberRevokesEverythingBeforeRejoining() {
        var member = Self.membership()
        Self.joined(&member, generation: 1, at: 0)
        _ = member.onSync(.none, assignment: [Self.p0, Self.p1], now: 0)
        #expect(member.onHeartbeat(.rebalanceInProgress, now: 1_000).isEmpty)
        #expect(member.nextStep(now: 1_000) == .revoke([Self.p0, Self.p1]))
        member.revoked([Self.p0, Self.p1])
        #expect(member.nextStep(now: 1_000) == .join)
        #expect(member.generationId == 1, "the generation stays until the next join (commits use it)")
    }

    /// KIP-429: partitions are kept while rejoining; those the new assignment leaves out are
    /// revoked, and the member rejoins so that the next rebalance can hand them on.
    @Test func aCooperativeMemberKeepsItsPartitionsAndRejoinsAfterRevoking() {
        var member = Self.membership(.cooperative)
        Self.joined(&member, generation: 1, at: 0)
        _ = member.onSync(.none, assignment: [Self.p0, Self.p1, Self.p2], now: 0)
        _ = member.onHeartbeat(.rebalanceInProgress, now: 1_000)
        #expect(member.nextStep(now: 1_000) == .join, "nothing revoked before joining")
        Self.joined(&member, generation: 2, leader: false, at: 1_000)
        #expect(!member.isLeader)
        #expect(member.onSync(.none, assignment: [Self.p0], now: 1_000) == [.revoked([Self.p1, Self.p2]), .assigned([])])
        #expect(member.owned == [Self.p0])
        #expect(member.nextStep(now: 1_000) == .join, "rejoins at once after revoking")
        Self.joined(&member, generation: 3, leader: false, at: 1_100)
        #expect(member.onSync(.none, assignment: [Self.p0, Self.p2], now: 1_100) == [.assigned([Self.p2])])
        #expect(member.phase == .stable)
    }

    @Test func aCooperativeMemberRevokesTopicsItNoLongerSubscribesTo() {
        var member = Self.membership(.cooperative)
        Self.joined(&member, generation: 1, at: 0)
        let other = TopicPartition(topic: "u", partition: 0)
        _ = member.onSync(.none, assignment: [Self.p0, other], now: 0)
        member.subscribe(["t"])
        #expect(member.phase == .stable)
        member.subscribe(["t", "v"])
        member.subscribe(["t"])
        #expect(member.nextStep(now: 10) == .revoke([other]))
    }

    @Test func anUnknownMemberOrStaleGenerationLosesItsPartitions() {
        var member = Self.membership()
        Self.joined(&member, generation: 4, at: 0)
        _ = member.onSync(.none, assignment: [Self.p0], now: 0)
        #expect(member.onHeartbeat(.illegalGeneration, now: 1_000) == [.lost([Self.p0])])
        #expect(member.generationId == -1 && member.memberId == "m-1" && member.owned.isEmpty)
        #expect(member.nextStep(now: 1_000) == .join)

        Self.joined(&member, generation: 5, at: 1_000)
        _ = member.onSync(.none, assignment: [Self.p1], now: 1_000)
        #expect(member.onHeartbeat(.unknownMemberId, now: 2_000) == [.lost([Self.p1])])
        #expect(member.memberId == "")
    }

    @Test func syncErrorsRejoinAndCoordinatorErrorsBackOff() {
        var member = Self.membership()
        Self.joined(&member, generation: 1, at: 0)
        #expect(member.onSync(.rebalanceInProgress, assignment: [], now: 0).isEmpty)
        #expect(member.nextStep(now: 0) == .join)
        #expect(member.onJoin(.init(errorCode: .notCoordinator), now: 0) == [.findCoordinator])
        #expect(member.nextStep(now: 50) == .wait(until: 100))
        #expect(member.nextStep(now: 100) == .join)
        Self.joined(&member, generation: 2, at: 100)
        #expect(member.onRequestFailed(now: 200) == [.findCoordinator])
        #expect(member.nextStep(now: 300) == .join, "a sync that failed becomes a rejoin")
    }

    @Test func fencedOrRefusedMembersFail() {
        var member = Self.membership(instanceId: "static-1")
        #expect(member.onJoin(.init(errorCode: .fencedInstanceId), now: 0) == [.failed(.fencedInstanceId)])
        #expect(member.nextStep(now: 0) == .wait(until: nil))
        var other = Self.membership()
        #expect(other.onJoin(.init(errorCode: .inconsistentGroupProtocol), now: 0) == [.failed(.inconsistentGroupProtocol)])
    }

    @Test func aMemberThatStopsPollingLeavesAndRejoinsAtTheNextPoll() {
        var member = Self.membership()
        Self.joined(&member, generation: 1, at: 0)
        _ = member.onSync(.none, assignment: [Self.p0], now: 0)
        member.polled(now: 30_000)
        #expect(member.nextStep(now: 89_999) != .leaveForPollTimeout)
        #expect(member.nextStep(now: 90_000) == .leaveForPollTimeout)
        #expect(member.left(now: 90_000) == [.lost([Self.p0])])
        #expect(member.memberId == "" && member.phase == .stalled)
        #expect(member.nextStep(now: 100_000) == .wait(until: nil))
        member.polled(now: 100_000)
        #expect(member.nextStep(now: 100_000) == .join)
    }

    @Test func skipAssignmentMakesAStaticLeaderAFollower() {
        var member = Self.membership(instanceId: "s")
        _ = member.onJoin(.init(errorCode: .none, generationId: 3, memberId: "m-1", leaderId: "m-1", protocolName: "range",
                                skipAssignment: true), now: 0)
        #expect(!member.isLeader)
    }

    @Test func subscriptionsAndAssignmentsRoundTripTheConsumerProtocol() {
        let owned = [Self.p0, TopicPartition(topic: "a", partition: 3)]
        let bytes = ConsumerProtocolCodec.encodeSubscription(
            topics: ["t", "a"], userData: CooperativeStickyAssignor().userData(generation: 9), ownedPartitions: owned, generation: 9)
        let decoded = ConsumerProtocolCodec.decodeSubscription(bytes, memberId: "m", instanceId: "i")
        #expect(decoded == AssignorMember(memberId: "m", instanceId: "i", topics: ["a", "t"], ownedPartitions: [TopicPartition(topic: "a", partition: 3), Self.p0], generation: 9))
        #expect(ConsumerProtocolCodec.decodeAssignment(ConsumerProtocolCodec.encodeAssignment(owned))?.sorted { $0.topic < $1.topic } == owned.sorted { $0.topic < $1.topic })
        #expect(ConsumerProtocolCodec.decodeAssignment(ByteBuffer()) == [])

        // A v0 subscription (no owned partitions, no generation field): the generation comes
        // from the cooperative-sticky user data.
        var v0 = ByteBuffer()
        v0.writeInteger(Int16(0))
        v0.writeInteger(Int32(1))
        v0.writeInteger(Int16(1))
        v0.writeString("t")
        v0.writeInteger(Int32(4))
        v0.writeInteger(Int32(6))
        #expect(ConsumerProtocolCodec.decodeSubscription(v0, memberId: "x", instanceId: nil)?.generation == 6)
        #expect(ConsumerProtocolCodec.decodeSubscription(ByteBuffer(bytes: [0, 9]), memberId: "x", instanceId: nil) == nil)
    }
}
