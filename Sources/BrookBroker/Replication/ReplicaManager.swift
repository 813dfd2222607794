import BrookModel
import BrookProtocol
import BrookStorage
import Foundation
import Logging
import Synchronization

/// This broker's part in replicating partitions: a ``ReplicaFetcher`` per leader it follows
/// partitions from, moved as leadership moves; the ISR changes its leaders ask the active
/// controller for (AlterPartition), batched; and the leaders' periodic check that drops
/// followers that stopped catching up (`replica.lag.time.max.ms`); the replication throttles.
final class ReplicaManager: Sendable {
    let settings: ReplicationSettings
    /// `leader.replication.throttled.rate`: what leaders send throttled out-of-sync followers.
    let leaderQuota: ReplicationQuota
    /// `follower.replication.throttled.rate`: what this broker fetches for throttled replicas.
    let followerQuota: ReplicationQuota
    let metadata: MetadataStore
    let partitions: PartitionTable
    private let controller: ControllerClient
    private let logger: Logger
    private let fetchers = Mutex<[Int32: ReplicaFetcher]>([:])
    /// Which leader each followed partition is fetched from.
    private let followedFrom = Mutex<[TopicPartition: Int32]>([:])
    private let isrChanges = Mutex<(pending: [TopicPartition: IsrChange], sending: Bool)>(([:], false))
    private let stopped = Atomic<Bool>(false)

    init(settings: ReplicationSettings, metadata: MetadataStore, partitions: PartitionTable, controller: ControllerClient, logger: Logger) {
        self.settings = settings
        self.metadata = metadata
        self.partitions = partitions
        self.controller = controller
        self.logger = logger
        leaderQuota = ReplicationQuota(windows: settings.quotaWindows, windowMs: settings.quotaWindowMs)
        followerQuota = ReplicationQuota(windows: settings.quotaWindows, windowMs: settings.quotaWindowMs)
    }

    /// Takes the throttle rates from the broker's config, now and whenever they change.
    func followThrottleRates(in config: BrokerConfigStore) {
        let apply: @Sendable (BrokerConfig) -> Void = { [leaderQuota, followerQuota] config in
            leaderQuota.setLimit(config.int64("leader.replication.throttled.rate") ?? .max)
            followerQuota.setLimit(config.int64("follower.replication.throttled.rate") ?? .max)
        }
        apply(config.current)
        config.addObserver(apply)
    }

    /// Whether the leader's answer to `follower` for `partition` counts against the leader's
    /// throttle: the topic lists this broker's replica of it, and the follower is out of sync.
    func isLeaderThrottled(_ partition: Partition, follower: Int32) -> Bool {
        guard leaderQuota.isLimited else { return false }
        return ThrottledReplicas(partition.log.config.leaderReplicationThrottledReplicas)
            .contains(partition: partition.topicPartition.partition, broker: settings.localId)
            && !partition.inSyncReplicas.contains(follower)
    }

    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    // MARK: Roles

    /// Follows a partition's role change: a leader stops fetching it; a follower fetches it
    /// from its new leader (none while it has no leader).
    func roleChanged(_ partition: Partition, _ change: ReplicaState.RoleChange) {
        switch change {
        case .none, .membershipChanged:
            return
        case .becameLeader:
            stopFollowing(partition.topicPartition)
        case .becameFollower(let leader):
            stopFollowing(partition.topicPartition)
            guard leader >= 0, leader != settings.localId, !stopped.load(ordering: .acquiring) else { return }
            let epoch = partition.leaderEpoch
            followedFrom.withLock { $0[partition.topicPartition] = leader }
            // Under the fetchers' lock, so that an idle fetcher being retired does not get it.
            fetchers.withLock { fetchers in
                let fetcher = fetchers[leader] ?? {
                    let fetcher = ReplicaFetcher(
                        leaderId: leader, settings: settings, metadata: metadata, quota: followerQuota, logger: logger)
                    fetchers[leader] = fetcher
                    fetcher.start()
                    return fetcher
                }()
                fetcher.follow(partition, epoch: epoch)
            }
        }
    }

    /// Stops fetching `key` (its topic was deleted, or this broker leads it now); a fetcher left
    /// with nothing to fetch stops.
    func stopFollowing(_ key: TopicPartition) {
        guard let leader = followedFrom.withLock({ $0.removeValue(forKey: key) }) else { return }
        let idle = fetchers.withLock { fetchers -> ReplicaFetcher? in
            guard let fetcher = fetchers[leader], !fetcher.unfollow(key) else { return nil }
            fetchers[leader] = nil
            return fetcher
        }
        if let idle { Task { await idle.stop() } }
    }

    // MARK: ISR changes

    /// Asks the active controller for an ISR change, batched with the others pending; a
    /// refusal lets the partition ask again at its next check.
    func requestIsrChange(_ change: IsrChange) {
        let start = isrChanges.withLock { state -> Bool in
            state.pending[change.topicPartition] = change
            guard !state.sending else { return false }
            state.sending = true
            return true
        }
        if start { Task { await sendIsrChanges() } }
    }

    private func sendIsrChanges() async {
        while true {
            let batch = isrChanges.withLock { state -> [IsrChange] in
                let batch = Array(state.pending.values)
                state.pending.removeAll()
                if batch.isEmpty { state.sending = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            await send(batch)
        }
    }

    private func send(_ batch: [IsrChange]) async {
        let image = metadata.image
        let brokerEpoch = image.registrations[settings.localId]?.epoch ?? -1
        var byTopic: [Uuid: AlterPartitionRequest.TopicData] = [:]
        for change in batch {
            byTopic[change.topicId, default: .init(topicName: change.topicPartition.topic, topicId: change.topicId)]
                .partitions.append(.init(
                    partitionIndex: change.topicPartition.partition, leaderEpoch: change.leaderEpoch,
                    newIsrWithEpochs: change.isr.map { .init(brokerId: $0, brokerEpoch: image.registrations[$0]?.epoch ?? -1) },
                    leaderRecoveryState: 0, partitionEpoch: change.partitionEpoch))
        }
        let request = AlterPartitionRequest(brokerId: settings.localId, brokerEpoch: brokerEpoch, topics: Array(byTopic.values))
        var refused = Set(batch.map(\.topicPartition))
        do {
            // v3 (KIP-903): each member with its broker epoch, so a restarted broker is told apart.
            let response = try await controller.send(request, version: 3, timeout: .milliseconds(settings.socketTimeoutMs))
            if response.errorCode == ErrorCode.none.rawValue {
                for topic in response.topics {
                    let name = image.topic(id: topic.topicId)?.name ?? topic.topicName
                    for partition in topic.partitions {
                        let key = TopicPartition(topic: name, partition: partition.partitionIndex)
                        if partition.errorCode == ErrorCode.none.rawValue {
                            refused.remove(key)
                        } else {
                            logger.info("the controller refused the ISR change of \(key): error \(partition.errorCode)")
                        }
                    }
                }
            } else {
                logger.info("the controller refused AlterPartition: error \(response.errorCode)")
            }
        } catch {
            logger.info("AlterPartition to the controller failed: \(error)")
        }
        for key in refused { partitions.partition(key)?.isrChangeFailed() }
    }

    /// Whether `broker` may join an ISR: a registered broker neither fenced nor shutting down
    /// (the controller refuses others, INELIGIBLE_REPLICA).
    func canJoinIsr(_ broker: Int32) -> Bool {
        guard let registration = metadata.image.registrations[broker] else { return false }
        return registration.isUsable
    }

    /// Every leader's ISR check: followers that have not caught up for `replica.lag.time.max.ms`
    /// are asked out of the ISR.
    func checkIsrs(now: Int64 = ReplicaManager.nowMs()) {
        for partition in partitions.all {
            if let change = partition.checkIsr(now: now, maxLagMs: settings.lagTimeMaxMs, canJoin: canJoinIsr) {
                logger.info("asking to change the ISR of \(partition.topicPartition) to \(change.isr)")
                requestIsrChange(change)
            }
        }
    }

    /// Stops every fetcher.
    func stop() async {
        stopped.store(true, ordering: .releasing)
        let all = fetchers.withLock { fetchers in defer { fetchers.removeAll() }; return Array(fetchers.values) }
        for fetcher in all { await fetcher.stop() }
    }
}
