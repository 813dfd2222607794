import BrookModel
import BrookProtocol
import Synchronization

/// A subscribed consumer in a KIP-848 consumer group: a background task drives
/// ``ConsumerGroupMembership`` with ConsumerGroupHeartbeat (v1 when the broker speaks it: the
/// member names itself and hands a pattern to the broker; v0 resolves patterns here) and
/// reconciles the broker's target assignment on the ``Consumer``; with auto-commit, the loop
/// also commits positions every `auto.commit.interval.ms`, under the member epoch.
final class ConsumerGroupMember: GroupMembership {
    let consumer: Consumer
    let configuration: ConsumerConfiguration
    let groupId: String
    private let link: GroupCoordinatorLink
    private let machine: Mutex<ConsumerGroupMembership>
    private let clock = MembershipClock()
    private let wake = WakeSignal()
    private let shared = Mutex(Shared())

    private struct Shared {
        var closing = false
        var loop: Task<Void, Never>?
        var topicIds: [String: Uuid] = [:]
        var topicNames: [Uuid: String] = [:]
    }

    init(consumer: Consumer, groupId: String, subscription: Subscription) {
        self.consumer = consumer
        configuration = consumer.configuration
        self.groupId = groupId
        link = GroupCoordinatorLink(cluster: consumer.cluster, groupId: groupId)
        let settings = ConsumerGroupMembership.Settings(
            instanceId: configuration.groupInstanceId, maxPollIntervalMs: configuration.maxPollIntervalMs,
            serverAssignor: configuration.groupRemoteAssignor, retryBackoffMs: Int64(configuration.retryBackoffMs))
        machine = Mutex(ConsumerGroupMembership(settings: settings, memberId: Uuid.random().description, subscription: subscription, now: 0))
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
            return machine.stalled
        }
        if wasStalled { wake.signal() }
    }

    func subscribe(_ subscription: Subscription) {
        machine.withLock { $0.subscribe(subscription) }
        wake.signal()
    }

    // MARK: The membership loop

    private var isClosing: Bool { shared.withLock { $0.closing } }

    private func run() async {
        var autoCommit = AutoCommitSchedule(configuration, now: clock.now)
        while !isClosing {
            await autoCommit.commitIfDue(consumer, now: clock.now)
            let step = machine.withLock { $0.nextStep(now: clock.now) }
            switch step {
            case .wait(let until):
                await wake.wait(until: clock.instant(min(until ?? .max, autoCommit.next)))
            case .reconcile(let revoke, let assign):
                await consumer.revokeForRebalance(revoke)
                await consumer.assignForRebalance(assign)
                machine.withLock { $0.reconciled(now: clock.now) }
            case .heartbeat(let heartbeat):
                await send(heartbeat)
            case .leaveForPollTimeout:
                await leave(over: link)
                await apply(machine.withLock { $0.left(now: clock.now) })
            }
        }
    }

    private func send(_ heartbeat: ConsumerGroupMembership.Heartbeat) async {
        let effects: [ConsumerGroupMembership.Effect]
        do {
            let version = try await link.version(of: ConsumerGroupHeartbeatRequest.self)
            var request = ConsumerGroupHeartbeatRequest(
                groupId: groupId, memberId: version >= 1 ? heartbeat.memberId : (heartbeat.memberEpoch == 0 ? "" : heartbeat.memberId),
                memberEpoch: heartbeat.memberEpoch, instanceId: heartbeat.instanceId, rebalanceTimeoutMs: heartbeat.rebalanceTimeoutMs,
                serverAssignor: heartbeat.serverAssignor)
            switch heartbeat.subscription {
            case .topics(let names)?:
                request.subscribedTopicNames = names.sorted()
            case .pattern(let pattern)? where version >= 1:
                request.subscribedTopicRegex = pattern
            case .pattern(let pattern)?:
                request.subscribedTopicNames = try await consumer.cluster.resolve(.pattern(pattern), excludeInternal: configuration.excludeInternalTopics).sorted()
            case nil:
                break
            }
            request.topicPartitions = try await topicPartitions(heartbeat.ownedPartitions)
            let response = try await link.send { _ in request }
            let code = ErrorCode(rawValue: response.errorCode) ?? .unknownServerError
            var assignment: Set<TopicPartition>?
            if code == .none, let given = response.assignment {
                assignment = try await partitions(given.topicPartitions)
            }
            effects = machine.withLock { machine in
                machine.onHeartbeat(
                    code, memberId: response.memberId, memberEpoch: response.memberEpoch,
                    heartbeatIntervalMs: response.heartbeatIntervalMs, assignment: assignment,
                    sentSubscription: heartbeat.subscription != nil, now: clock.now)
            }
        } catch {
            effects = machine.withLock { $0.onRequestFailed(now: clock.now) }
        }
        await apply(effects)
    }

    private func apply(_ effects: [ConsumerGroupMembership.Effect]) async {
        let (epoch, memberId) = machine.withLock { ($0.memberEpoch, $0.memberId) }
        consumer.setGroupIdentity(generation: epoch, memberId: memberId)
        for effect in effects {
            switch effect {
            case .lost(let partitions): await consumer.loseForRebalance(partitions)
            case .findCoordinator: await link.reset()
            case .failed(let code): consumer.failMembership(ClientError.broker(code, "group \(groupId)"))
            }
        }
    }

    /// The leave heartbeat: epoch -1, or -2 for a static member.
    private func leave(over link: GroupCoordinatorLink) async {
        let (memberId, epoch, leaveEpoch) = machine.withLock { ($0.memberId, $0.memberEpoch, $0.leaveEpoch) }
        guard epoch > 0 else { return }
        _ = try? await link.send { _ in
            ConsumerGroupHeartbeatRequest(
                groupId: groupId, memberId: memberId, memberEpoch: leaveEpoch, instanceId: configuration.groupInstanceId)
        }
    }

    // MARK: Topic ids

    /// Owned partitions as the request names them, by topic id.
    private func topicPartitions(_ partitions: [TopicPartition]) async throws -> [ConsumerGroupHeartbeatRequest.TopicPartitions] {
        let byTopic = Dictionary(grouping: partitions, by: \.topic)
        if byTopic.keys.contains(where: { name in shared.withLock { $0.topicIds[name] } == nil }) { try await refreshTopicIds() }
        let ids = shared.withLock { $0.topicIds }
        return byTopic.keys.sorted().compactMap { topic in
            ids[topic].map { .init(topicId: $0, partitions: byTopic[topic]!.map(\.partition).sorted()) }
        }
    }

    /// An assignment's partitions by topic name (partitions of topics the metadata does not
    /// name yet are left for a later heartbeat).
    private func partitions(_ topics: [ConsumerGroupHeartbeatResponse.TopicPartitions]) async throws -> Set<TopicPartition> {
        if topics.contains(where: { topic in shared.withLock { $0.topicNames[topic.topicId] } == nil }) { try await refreshTopicIds() }
        let names = shared.withLock { $0.topicNames }
        return Set(topics.flatMap { topic in
            names[topic.topicId].map { name in topic.partitions.map { TopicPartition(topic: name, partition: $0) } } ?? []
        })
    }

    private func refreshTopicIds() async throws {
        let metadata = try await consumer.cluster.metadata(topics: nil)
        shared.withLock { shared in
            for topic in metadata.topics where topic.errorCode == 0 && topic.topicId != .zero {
                guard let name = topic.name else { continue }
                shared.topicIds[name] = topic.topicId
                shared.topicNames[topic.topicId] = name
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
        link.shutDown()
        await link.reset()
        await loop?.value
        let owned = machine.withLock { $0.owned.sorted(by: TopicPartition.ordered) }
        await consumer.revokeForRebalance(owned)
        let farewell = GroupCoordinatorLink(cluster: consumer.cluster, groupId: groupId)
        await leave(over: farewell)
        await farewell.reset()
    }
}
