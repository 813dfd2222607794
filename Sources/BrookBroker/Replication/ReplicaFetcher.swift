import BrookModel
import BrookProtocol
import BrookStorage
import Logging
import NIOCore
import Synchronization

/// Fetches, for every partition this broker follows from one leader, what the leader has
/// beyond this broker's log: one replica Fetch for all of them at a time (Kafka's replica
/// fetcher thread), long-polled by the leader. Each answer is appended with the leader's
/// offsets and epochs; a diverging epoch (KIP-320's check, done by the leader from the
/// follower's last fetched epoch) truncates the follower's divergent tail first.
///
/// One task per leader; the partitions come and go as leadership moves (``follow(_:epoch:)``,
/// ``unfollow(_:)``). A partition whose fetch fails backs off on its own; a fetch that fails
/// as a whole (the leader unreachable) backs every partition off.
///
/// Under `follower.replication.throttled.rate`, a throttled out-of-sync replica is left out of
/// the fetch while the bytes fetched for such replicas exceed the rate.
final class ReplicaFetcher: Sendable {
    /// One followed partition.
    struct Followed: Sendable {
        var partition: Partition
        /// The leader epoch it follows in; answers for another epoch are ignored.
        var epoch: Int32
        var backoffUntil: ContinuousClock.Instant?
    }

    private struct State {
        var followed: [TopicPartition: Followed] = [:]
        /// The fetcher's wait for work, fired when a partition is added.
        var idle: FetchWaiter?
    }

    let leaderId: Int32
    let settings: ReplicationSettings
    private let metadata: MetadataStore
    private let links: NodeLinks
    private let quota: ReplicationQuota
    private let logger: Logger
    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(
        leaderId: Int32, settings: ReplicationSettings, metadata: MetadataStore,
        quota: ReplicationQuota = ReplicationQuota(), logger: Logger
    ) {
        self.leaderId = leaderId
        self.quota = quota
        self.settings = settings
        self.metadata = metadata
        self.links = NodeLinks(
            clientId: RequestContext.brokerClientId(settings.localId) + "-fetcher-\(leaderId)",
            listener: settings.interBrokerListener, security: settings.security)
        self.logger = logger
    }

    /// Starts fetching `partition` from this leader in leader epoch `epoch`.
    func follow(_ partition: Partition, epoch: Int32) {
        let idle = state.withLock { state -> FetchWaiter? in
            state.followed[partition.topicPartition] = Followed(partition: partition, epoch: epoch)
            defer { state.idle = nil }
            return state.idle
        }
        idle?.fire()
    }

    /// Stops fetching `key`; returns whether any partition is still followed.
    @discardableResult
    func unfollow(_ key: TopicPartition) -> Bool {
        state.withLock { state in
            state.followed[key] = nil
            return !state.followed.isEmpty
        }
    }

    func start() {
        task.withLock { task in
            guard task == nil else { return }
            task = Task { [self] in await run() }
        }
    }

    func stop() async {
        let running = task.withLock { $0 }
        running?.cancel()
        state.withLock { $0.idle }?.fire()
        await running?.value
        await links.close()
    }

    private func run() async {
        while !Task.isCancelled {
            let now = ContinuousClock.now
            let due = state.withLock { state -> [TopicPartition: Followed] in
                state.followed.filter { $0.value.backoffUntil.map { $0 <= now } ?? true }
            }
            let throttled = due.filter { isThrottled($0.value.partition) }
            let ready = !throttled.isEmpty && quota.isExceeded(nowMs: ReplicaManager.nowMs())
                ? due.filter { throttled[$0.key] == nil } : due
            guard !ready.isEmpty else {
                await idle(for: .milliseconds(100))
                continue
            }
            guard let leader = metadata.image.broker(leaderId, on: settings.interBrokerListener) else {
                await idle(for: .milliseconds(max(1, settings.fetchBackoffMs)))
                continue
            }
            let request = ReplicaFetchRequest.make(ready, settings: settings)
            do {
                let response = try await links.send(
                    request, host: leader.host, port: Int(leader.port), version: ReplicaFetchRequest.version,
                    timeout: .milliseconds(settings.socketTimeoutMs + Int64(settings.fetchWaitMaxMs)))
                handle(response, sent: ready)
                recordThrottled(response, throttled: throttled)
            } catch {
                if Task.isCancelled { return }
                logger.info("replica fetch from broker \(leaderId) at \(leader.host):\(leader.port) failed: \(error)")
                backOff(Array(ready.keys))
                await idle(for: .milliseconds(max(1, settings.fetchBackoffMs)))
            }
        }
    }

    /// Whether fetching `partition` counts against the follower throttle: the topic lists this
    /// broker's replica of it, and it is out of sync.
    private func isThrottled(_ partition: Partition) -> Bool {
        guard quota.isLimited else { return false }
        return ThrottledReplicas(partition.log.config.followerReplicationThrottledReplicas)
            .contains(partition: partition.topicPartition.partition, broker: settings.localId)
            && !partition.inSyncReplicas.contains(settings.localId)
    }

    /// Counts what the leader sent for throttled replicas against the throttle.
    private func recordThrottled(_ response: FetchResponse, throttled: [TopicPartition: Followed]) {
        guard !throttled.isEmpty else { return }
        let wanted = Dictionary(grouping: throttled.values, by: { $0.partition.topicId })
            .mapValues { Set($0.map { $0.partition.topicPartition.partition }) }
        var bytes = 0
        for topic in response.responses {
            guard let partitions = wanted[topic.topicId] else { continue }
            for data in topic.partitions where partitions.contains(data.partitionIndex) {
                bytes += data.records?.readableBytes ?? 0
            }
        }
        quota.record(bytes, nowMs: ReplicaManager.nowMs())
    }

    /// Waits until a partition is added, the fetcher stops, or `duration` passes.
    private func idle(for duration: Duration) async {
        let waiter = FetchWaiter()
        state.withLock { $0.idle = waiter }
        await waiter.wait(timeout: duration)
    }

    private func backOff(_ keys: [TopicPartition]) {
        let until = ContinuousClock.now + .milliseconds(max(1, settings.fetchBackoffMs))
        state.withLock { state in
            for key in keys { state.followed[key]?.backoffUntil = until }
        }
    }

    private func handle(_ response: FetchResponse, sent: [TopicPartition: Followed]) {
        if response.errorCode != ErrorCode.none.rawValue {
            logger.info("broker \(leaderId) refused the replica fetch: error \(response.errorCode)")
            backOff(Array(sent.keys))
            return
        }
        let image = metadata.image
        var failed: [TopicPartition] = []
        for topic in response.responses {
            let name = topic.topic.isEmpty ? (image.topic(id: topic.topicId)?.name ?? "") : topic.topic
            for data in topic.partitions {
                let key = TopicPartition(topic: name, partition: data.partitionIndex)
                guard let sentEntry = sent[key], let current = state.withLock({ $0.followed[key] }),
                    current.partition === sentEntry.partition, current.epoch == sentEntry.epoch
                else { continue }
                let fetchOffset = ReplicaFetchRequest.fetchOffset(of: sentEntry.partition)
                do {
                    if try !ReplicaFetchResult.apply(data, to: sentEntry.partition, fetchOffset: fetchOffset) {
                        failed.append(key)
                    }
                } catch {
                    logger.warning("replicating \(key) from broker \(leaderId) failed: \(error)")
                    failed.append(key)
                }
            }
        }
        if !failed.isEmpty { backOff(failed) }
    }
}
