@testable import BrookCoordinator
import BrookProtocol
import NIOCore
import Testing

@Suite struct ClassicGroupJoinTests {
    @Test func aNewGroupWaitsOutTheInitialDelayThenAnswersEveryMember() {
        var group = ClassicGroup(groupId: "g", now: 0)
        let ids = MemberIds()
        let (first, firstActions) = group.join(joinParameters(), configuration: configuration, now: 0, newMemberId: ids.make)
        #expect(first == .wait(memberId: "m1"))
        #expect(firstActions.isEmpty)
        #expect(group.state == .preparingRebalance)
        let (second, _) = group.join(joinParameters(), configuration: configuration, now: 1_000, newMemberId: ids.make)
        #expect(second == .wait(memberId: "m2"))
        // The second arrival extends the delay to 1_000 + 3_000.
        #expect(group.expire(configuration: configuration, now: 3_500).isEmpty)
        let actions = group.expire(configuration: configuration, now: 4_000)
        #expect(group.state == .completingRebalance)
        #expect(group.generationId == 1)
        let joins = actions.joins
        #expect(Set(joins.keys) == ["m1", "m2"])
        #expect(joins["m1"]?.leaderId == "m1")
        #expect(joins["m1"]?.members.map(\.memberId) == ["m1", "m2"])
        #expect(joins["m2"]?.members.isEmpty == true)
        #expect(joins["m2"]?.protocolName == "range")
        #expect(joins["m2"]?.generationId == 1)
    }

    @Test func version4MembersAreGivenAnIdFirst() {
        var group = ClassicGroup(groupId: "g", now: 0)
        let (decision, _) = group.join(joinParameters(requiresKnownMemberId: true), configuration: configuration, now: 0, newMemberId: { "fresh" })
        #expect(decision == .respond(JoinGroupResult(error: .memberIdRequired, memberId: "fresh")))
        #expect(group.members.isEmpty)
        let (rejoin, _) = group.join(joinParameters("fresh", requiresKnownMemberId: true), configuration: configuration, now: 10, newMemberId: { "other" })
        #expect(rejoin == .wait(memberId: "fresh"))
        #expect(group.members.keys.sorted() == ["fresh"])
    }

    @Test func anUnknownMemberIdIsRefused() {
        var group = stableGroup(count: 1)
        let (decision, _) = group.join(joinParameters("nobody"), configuration: configuration, now: 5_000, newMemberId: { "x" })
        #expect(decision == .respond(JoinGroupResult(error: .unknownMemberId, memberId: "nobody")))
    }

    @Test func sessionTimeoutsOutsideTheBrokerLimitsAreRefused() {
        var group = ClassicGroup(groupId: "g", now: 0)
        for session: Int32 in [configuration.minSessionTimeoutMs - 1, configuration.maxSessionTimeoutMs + 1] {
            let (decision, _) = group.join(joinParameters(session: session), configuration: configuration, now: 0, newMemberId: { "x" })
            #expect(decision == .respond(JoinGroupResult(error: .invalidSessionTimeout)))
        }
    }

    @Test func aMemberWithAnotherProtocolTypeOrNoCommonProtocolIsRefused() {
        var group = stableGroup(count: 1)
        let (otherType, _) = group.join(joinParameters(protocolType: "connect"), configuration: configuration, now: 5_000, newMemberId: { "x" })
        #expect(otherType == .respond(JoinGroupResult(error: .inconsistentGroupProtocol)))
        let (noCommon, _) = group.join(joinParameters(protocols: protocols("roundrobin")), configuration: configuration, now: 5_000, newMemberId: { "x" })
        #expect(noCommon == .respond(JoinGroupResult(error: .inconsistentGroupProtocol)))
    }

    @Test func theProtocolIsChosenByVote() {
        var group = ClassicGroup(groupId: "g", now: 0)
        let ids = MemberIds()
        _ = group.join(joinParameters(protocols: protocols("range", "roundrobin")), configuration: configuration, now: 0, newMemberId: ids.make)
        _ = group.join(joinParameters(protocols: protocols("roundrobin", "range")), configuration: configuration, now: 0, newMemberId: ids.make)
        _ = group.join(joinParameters(protocols: protocols("roundrobin", "range", "sticky")), configuration: configuration, now: 0, newMemberId: ids.make)
        let actions = group.expire(configuration: configuration, now: 3_000)
        #expect(group.protocolName == "roundrobin")
        #expect(actions.joins["m1"]?.members.first?.metadata == ByteBuffer(string: "meta-roundrobin"))
    }

    @Test func aNewMemberMakesAStableGroupRebalanceAndCompletesWhenAllRejoin() {
        var group = stableGroup(count: 2)
        #expect(group.state == .stable)
        let (decision, _) = group.join(joinParameters(), configuration: configuration, now: 5_000, newMemberId: { "m3" })
        #expect(decision == .wait(memberId: "m3"))
        #expect(group.state == .preparingRebalance)
        #expect(group.heartbeat(memberId: "m1", groupInstanceId: nil, generationId: 1, now: 5_100) == .rebalanceInProgress)
        _ = group.join(joinParameters("m1"), configuration: configuration, now: 5_200, newMemberId: { "x" })
        let (last, actions) = group.join(joinParameters("m2"), configuration: configuration, now: 5_300, newMemberId: { "x" })
        #expect(last == .wait(memberId: "m2"))
        #expect(group.state == .completingRebalance)
        #expect(group.generationId == 2)
        #expect(Set(actions.joins.keys) == ["m1", "m2", "m3"])
        #expect(actions.joins["m1"]?.members.count == 3)
    }

    @Test func membersThatDoNotRejoinInTimeAreDropped() {
        var group = stableGroup(count: 2)
        _ = group.join(joinParameters("m1", protocols: protocols("range", "sticky")), configuration: configuration, now: 5_000, newMemberId: { "x" })
        #expect(group.state == .preparingRebalance)
        let actions = group.expire(configuration: configuration, now: 5_000 + 30_000)
        #expect(group.members.keys.sorted() == ["m1"])
        #expect(actions.joins.keys.sorted() == ["m1"])
        #expect(group.generationId == 2)
    }

    @Test func aKnownMemberRejoiningUnchangedGetsTheCurrentGeneration() {
        var group = stableGroup(count: 2)
        let (decision, actions) = group.join(joinParameters("m2"), configuration: configuration, now: 5_000, newMemberId: { "x" })
        guard case .respond(let result) = decision else {
            Issue.record("expected an immediate answer, got \(decision)")
            return
        }
        #expect(result.generationId == 1)
        #expect(result.leaderId == "m1")
        #expect(actions.isEmpty)
        #expect(group.state == .stable)
    }

    @Test func theGroupIsFullAtItsMaximumSize() {
        var limited = configuration
        limited.maxSize = 1
        var group = ClassicGroup(groupId: "g", now: 0)
        _ = group.join(joinParameters(), configuration: limited, now: 0, newMemberId: { "m1" })
        let (decision, _) = group.join(joinParameters(), configuration: limited, now: 0, newMemberId: { "m2" })
        #expect(decision == .respond(JoinGroupResult(error: .groupMaxSizeReached)))
    }
}
