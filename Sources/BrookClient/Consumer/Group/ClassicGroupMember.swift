import BrookModel
import BrookProtocol
import NIOCore
import Synchronization

/// A subscribed consumer in a classic group: a background task drives ``ClassicMembership``
/// (JoinGroup with the member's subscription for each configured assignor, the assignment as
/// leader, SyncGroup, heartbeats every `heartbeat.interval.ms`) and applies the rebalances to
/// the ``Consumer``; with auto-commit, the loop also commits positions every
/// `auto.commit.interval.ms`.
final class ClassicGroupMember: GroupMembership {
    let consumer: Consumer
    let configuration: ConsumerConfiguration
    let groupId: String
    private let link: GroupCoordinatorLink
    private let machine: Mutex<ClassicMembership>
    private let clock = MembershipClock()
    private let wake = WakeSignal()
    private let shared: Mutex<Shared>

    private struct Shared {
        var subscription: Subscription
        var subscriptionChanged = true
        var closing = false
        var loop: Task<Void, Never>?
        /// The members of the current generation, when this member leads it.
        var joinedMembers: [JoinGroupResponse.JoinGroupResponseMember] = []
        /// The partition counts the leader's last assignment was computed from.
        var assignedCounts: [String: Int32] = [:]
    }

    init(consumer: Consumer, groupId: String, subscription: Subscription) {
        self.consumer = consumer
        configuration = consumer.configuration
        self.groupId = groupId
        link = GroupCoordinatorLink(cluster: consumer.cluster, groupId: groupId)
        shared = Mutex(Shared(subscription: subscription))
        let settings = ClassicMembership.Settings(
            groupId: groupId, instanceId: configuration.groupInstanceId, sessionTimeoutMs: configuration.sessionTimeoutMs,
            maxPollIntervalMs: configuration.maxPollIntervalMs, heartbeatIntervalMs: Int64(configuration.heartbeatIntervalMs),
            retryBackoffMs: Int64(configuration.retryBackoffMs), rebalanceProtocol: configuration.rebalanceProtocol)
        let topics: Set<String> = if case .topics(let names) = subscription { names } else { [] }
        machine = Mutex(ClassicMembership(settings: settings, subscription: topics, now: 0))
    }

    func start() {
        shared.withLock { shared in
            shared.loop = Task { await self.run() }
        }
    }

    func polled() {
        let now = clock.now
        let wasStalled = machine.withLock { machine in
            defer { machine.polled(now: now) }
            return machine.phase == .stalled
        }
        if wasStalled { wake.signal() }
    }

    func subscribe(_ subscription: Subscription) {
        shared.withLock { shared in
            shared.subscription = subscription
            shared.subscriptionChanged = true
        }
        wake.signal()
    }

    // MARK: The membership loop

    private var isClosing: Bool { shared.withLock { $0.closing } }

    private func run() async {
        var nextMetadataRefresh: Int64 = 0
        var autoCommit = AutoCommitSchedule(configuration, now: clock.now)
        while !isClosing {
            await autoCommit.commitIfDue(consumer, now: clock.now)
            if shared.withLock({ $0.subscriptionChanged }) || clock.now >= nextMetadataRefresh {
                await refreshMetadata()
                nextMetadataRefresh = clock.now + Int64(configuration.metadataMaxAgeMs)
            }
            let step = machine.withLock { $0.nextStep(now: clock.now) }
            switch step {
            case .wait(let until):
                await wake.wait(until: clock.instant(min(until ?? .max, nextMetadataRefresh, autoCommit.next)))
            case .revoke(let partitions):
                await consumer.revokeForRebalance(partitions)
                machine.withLock { $0.revoked(partitions) }
            case .join:
                await join()
            case .sync:
                await sync()
            case .heartbeat:
                await heartbeat()
            case .leaveForPollTimeout:
                if configuration.groupInstanceId == nil { await leaveGroup(reason: "the consumer did not poll within max.poll.interval.ms") }
                await apply(machine.withLock { $0.left(now: clock.now) })
            }
        }
    }

    /// Resolves the subscription (a pattern's matches change with the topics) and, as leader,
    /// rejoins when the partition counts moved since the last assignment.
    private func refreshMetadata() async {
        let subscription = shared.withLock { shared in
            shared.subscriptionChanged = false
            return shared.subscription
        }
        if let topics = try? await consumer.cluster.resolve(subscription, excludeInternal: configuration.excludeInternalTopics) {
            machine.withLock { $0.subscribe(topics) }
        }
        let (isLeader, assigned) = (machine.withLock { $0.isLeader && $0.phase == .stable }, shared.withLock { $0.assignedCounts })
        if isLeader, !assigned.isEmpty, let counts = try? await consumer.cluster.partitionCounts(Set(assigned.keys)), counts != assigned {
            machine.withLock { $0.requestRejoin() }
        }
    }

    private func join() async {
        let (memberId, generation, owned, topics) = machine.withLock { machine in
            (machine.memberId, machine.generationId, machine.owned, machine.subscription)
        }
        let protocols = configuration.partitionAssignmentStrategy.map { assignor in
            JoinGroupRequest.JoinGroupRequestProtocol(name: assignor.name, metadata: ConsumerProtocolCodec.encodeSubscription(
                topics: Array(topics), userData: assignor.userData(generation: generation),
                ownedPartitions: owned.sorted(by: TopicPartition.ordered), generation: generation))
        }
        let effects: [ClassicMembership.Effect]
        do {
            let response = try await link.send { version in
                var request = JoinGroupRequest(
                    groupId: groupId, sessionTimeoutMs: configuration.sessionTimeoutMs, rebalanceTimeoutMs: configuration.maxPollIntervalMs,
                    memberId: memberId, protocolType: "consumer", protocols: protocols)
                if version >= 5 { request.groupInstanceId = configuration.groupInstanceId }
                return request
            }
            let code = ErrorCode(rawValue: response.errorCode) ?? .unknownServerError
            if code == .none && response.leader == response.memberId {
                shared.withLock { $0.joinedMembers = response.members }
            }
            effects = machine.withLock { machine in
                machine.onJoin(.init(
                    errorCode: code, generationId: response.generationId, memberId: response.memberId, leaderId: response.leader,
                    protocolName: response.protocolName, skipAssignment: response.skipAssignment), now: clock.now)
            }
        } catch {
            effects = machine.withLock { $0.onRequestFailed(now: clock.now) }
        }
        await apply(effects)
    }

    private func sync() async {
        let (memberId, generation, protocolName, isLeader) = machine.withLock { machine in
            (machine.memberId, machine.generationId, machine.protocolName, machine.isLeader)
        }
        let effects: [ClassicMembership.Effect]
        do {
            let assignments = isLeader ? try await assign(protocolName: protocolName ?? "") : []
            let response = try await link.send { version in
                var request = SyncGroupRequest(groupId: groupId, generationId: generation, memberId: memberId, assignments: assignments)
                if version >= 3 { request.groupInstanceId = configuration.groupInstanceId }
                if version >= 5 {
                    request.protocolType = "consumer"
                    request.protocolName = protocolName
                }
                return request
            }
            let code = ErrorCode(rawValue: response.errorCode) ?? .unknownServerError
            let assignment = ConsumerProtocolCodec.decodeAssignment(response.assignment) ?? []
            effects = machine.withLock { $0.onSync(code, assignment: assignment, now: clock.now) }
        } catch {
            effects = machine.withLock { $0.onRequestFailed(now: clock.now) }
        }
        await apply(effects)
    }

    /// The leader's part: runs the group's assignor over every member's subscription.
    private func assign(protocolName: String) async throws -> [SyncGroupRequest.SyncGroupRequestAssignment] {
        guard let assignor = configuration.partitionAssignmentStrategy.first(where: { $0.name == protocolName }) else {
            throw ClientError.notFound("the group chose assignor \(protocolName), which this consumer does not offer")
        }
        let joined = shared.withLock { $0.joinedMembers }
        let members = joined.compactMap { member -> AssignorMember? in
            ConsumerProtocolCodec.decodeSubscription(member.metadata, memberId: member.memberId, instanceId: member.groupInstanceId)
        }
        let counts = try await consumer.cluster.partitionCounts(Set(members.flatMap(\.topics)))
        shared.withLock { $0.assignedCounts = counts }
        let assignment = assignor.assign(members: members, partitionCounts: counts)
        return joined.map { member in
            SyncGroupRequest.SyncGroupRequestAssignment(
                memberId: member.memberId, assignment: ConsumerProtocolCodec.encodeAssignment(assignment[member.memberId] ?? []))
        }
    }

    private func heartbeat() async {
        let (memberId, generation) = machine.withLock { ($0.memberId, $0.generationId) }
        let effects: [ClassicMembership.Effect]
        do {
            let response = try await link.send { version in
                var request = HeartbeatRequest(groupId: groupId, generationId: generation, memberId: memberId)
                if version >= 3 { request.groupInstanceId = configuration.groupInstanceId }
                return request
            }
            effects = machine.withLock { $0.onHeartbeat(ErrorCode(rawValue: response.errorCode) ?? .unknownServerError, now: clock.now) }
        } catch {
            effects = machine.withLock { $0.onRequestFailed(now: clock.now) }
        }
        await apply(effects)
    }

    private func leaveGroup(reason: String, over link: GroupCoordinatorLink? = nil) async {
        let memberId = machine.withLock { $0.memberId }
        guard !memberId.isEmpty else { return }
        _ = try? await (link ?? self.link).send { version in
            version >= 3
                ? LeaveGroupRequest(groupId: groupId, members: [.init(memberId: memberId, reason: version >= 5 ? reason : nil)])
                : LeaveGroupRequest(groupId: groupId, memberId: memberId)
        }
    }

    /// Applies effects in order; the consumer commits under the membership's current generation.
    private func apply(_ effects: [ClassicMembership.Effect]) async {
        let (generation, memberId) = machine.withLock { ($0.generationId, $0.memberId) }
        consumer.setGroupIdentity(generation: generation, memberId: memberId)
        for effect in effects {
            switch effect {
            case .assigned(let partitions): await consumer.assignForRebalance(partitions)
            case .revoked(let partitions): await consumer.revokeForRebalance(partitions)
            case .lost(let partitions): await consumer.loseForRebalance(partitions)
            case .findCoordinator: await link.reset()
            case .failed(let code): consumer.failMembership(ClientError.broker(code, "group \(groupId)"))
            }
        }
    }

    // MARK: Closing

    /// Gives up the partitions and leaves, waiting at most 30 s for a cluster that stopped
    /// answering.
    func close() async {
        await waitAtMost(.seconds(30)) { await self.farewell() }
    }

    private func farewell() async {
        let loop = shared.withLock { shared in
            shared.closing = true
            return shared.loop
        }
        wake.signal()
        // A JoinGroup may be parked at the coordinator: closing its connection ends the wait.
        link.shutDown()
        await link.reset()
        await loop?.value
        let owned = machine.withLock { $0.owned.sorted(by: TopicPartition.ordered) }
        await consumer.revokeForRebalance(owned)
        if configuration.groupInstanceId == nil {
            let farewell = GroupCoordinatorLink(cluster: consumer.cluster, groupId: groupId)
            await leaveGroup(reason: "the consumer is being closed", over: farewell)
            await farewell.reset()
        }
    }
}
