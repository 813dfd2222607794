import BrookModel
import BrookProtocol
import BrookRecords
import NIOCore
import Synchronization

/// A Kafka consumer in Swift, speaking only the public protocol.
///
/// Partitions are given with ``assign(_:)``; each starts at its committed offset (with a
/// `group.id`) or per `auto.offset.reset`. ``poll(timeout:)`` hands out records in offset order
/// per partition. Fetching is pipelined: every leader has one Fetch in flight as long as one of
/// its partitions has room in its buffer, so the next records are on their way while the caller
/// processes the last ones. With `readCommitted`, fetches stop at the last stable offset and the
/// records of aborted transactions are dropped. ``seek(_:to:)``, ``seekToBeginning(_:)``,
/// ``seekToEnd(_:)``, ``pause(_:)`` and ``resume(_:)`` steer positions; ``commit(_:)``,
/// ``commitAsync(_:onComplete:)`` and ``committed(_:)`` store and read the group's offsets.
///
/// ``subscribe(topics:)`` and ``subscribe(pattern:)`` join the consumer group instead and let
/// it assign the partitions (see Consumer+Subscription.swift); ``records`` is the records as an
/// `AsyncSequence`.
///
/// `Sendable`; one task should poll at a time. Call ``close()`` when done.
public final class Consumer: Sendable {
    public let configuration: ConsumerConfiguration
    let cluster: Cluster
    let state = Mutex(State())
    /// Where a `poll()` with nothing to hand out waits.
    private let recordsArrived = WakeSignal()
    let layouts = Mutex<[String: TopicLayout]>([:])
    /// The group membership of a subscribed consumer.
    let membership = Mutex<(any GroupMembership)?>(nil)
    /// ``commitAsync(_:onComplete:)``'s commits, in order.
    let asyncCommits = SerialTaskQueue()

    struct PartitionState {
        /// The next offset to hand out; nil until reset from the committed offset or the policy.
        var position: Int64?
        /// The next offset to fetch (the position plus what is buffered).
        var fetchOffset: Int64 = 0
        var buffered = BufferedRecords()
        var paused = false
        /// Bumped by every seek: fetches asked before it are stale.
        var generation = 0
        var highWatermark: Int64 = -1
        /// Assigned or being revoked by a rebalance whose callback has not returned: neither
        /// fetched nor handed out.
        var rebalancing = false

        /// Whether its records are fetched and handed out.
        var isActive: Bool { !paused && !rebalancing }
    }

    struct State {
        var partitions: [TopicPartition: PartitionState] = [:]
        /// Leaders with a Fetch in flight.
        var fetching: Set<Int32> = []
        /// The group membership offsets are committed under: generation (or member epoch),
        /// member id and instance id; -1 and "" outside a group.
        var generationId: Int32 = -1
        var memberId = ""
        var groupInstanceId: String?
        var isClosed = false
        /// A fetch error the next poll throws.
        var failure: (any Error)?
    }

    init(configuration: ConsumerConfiguration, cluster: Cluster) {
        self.configuration = configuration
        self.cluster = cluster
    }

    /// Connects to the cluster.
    public static func connect(_ configuration: ConsumerConfiguration) async throws -> Consumer {
        let cluster = try await Cluster.connect(bootstrapServers: configuration.bootstrapServers, clientId: configuration.clientId, security: configuration.security)
        return Consumer(configuration: configuration, cluster: cluster)
    }

    // MARK: Assignment and positions

    /// Consumes exactly `partitions` from now on (the previous assignment is dropped).
    public func assign(_ partitions: [TopicPartition]) {
        state.withLock { state in
            var next: [TopicPartition: PartitionState] = [:]
            for partition in partitions { next[partition] = state.partitions[partition] ?? PartitionState() }
            state.partitions = next
        }
    }

    /// The partitions assigned.
    public var assignment: Set<TopicPartition> { state.withLock { Set($0.partitions.keys) } }

    /// The next offset `poll` hands out for `partition`; nil before it is known.
    public func position(_ partition: TopicPartition) -> Int64? {
        state.withLock { $0.partitions[partition]?.position }
    }

    /// Continues `partition` from `offset` (records buffered past it are dropped).
    public func seek(_ partition: TopicPartition, to offset: Int64) {
        state.withLock { state in
            guard var entry = state.partitions[partition] else { return }
            entry.position = offset
            entry.fetchOffset = offset
            entry.buffered.removeAll()
            entry.generation += 1
            state.partitions[partition] = entry
        }
    }

    /// Seeks each partition to its log start offset.
    public func seekToBeginning(_ partitions: [TopicPartition]) async throws {
        for (partition, offset) in try await OffsetLookup(cluster: cluster).offsets(partitions, .earliest) { seek(partition, to: offset) }
    }

    /// Seeks each partition to its end (the last stable offset when reading committed records).
    public func seekToEnd(_ partitions: [TopicPartition]) async throws {
        let ends = try await OffsetLookup(cluster: cluster).offsets(
            partitions, .latest, isolationLevel: configuration.readCommitted ? 1 : 0)
        for (partition, offset) in ends { seek(partition, to: offset) }
    }

    /// The first offset at or after each timestamp; nil where no record is that recent.
    public func offsetsForTimes(_ timestamps: [TopicPartition: Int64]) async throws -> [TopicPartition: Int64?] {
        var result: [TopicPartition: Int64?] = [:]
        let lookup = OffsetLookup(cluster: cluster)
        for (timestamp, partitions) in Dictionary(grouping: timestamps.keys, by: { timestamps[$0]! }) {
            for (partition, offset) in try await lookup.offsets(partitions, .timestamp(timestamp)) {
                result[partition] = offset >= 0 ? offset : nil
            }
        }
        return result
    }

    /// Stops handing out and fetching `partitions` until ``resume(_:)``.
    public func pause(_ partitions: [TopicPartition]) {
        state.withLock { state in for partition in partitions { state.partitions[partition]?.paused = true } }
    }

    public func resume(_ partitions: [TopicPartition]) {
        state.withLock { state in for partition in partitions { state.partitions[partition]?.paused = false } }
        wake()
    }

    // MARK: Polling

    /// The next records, up to `max.poll.records`, waiting up to `timeout` for some to arrive.
    /// Throws ``ClientError/closed(_:)`` once the consumer is closed; a poll waiting when it closes
    /// returns at once, empty.
    public func poll(timeout: Duration) async throws -> [ConsumerRecord] {
        let deadline = ContinuousClock.now + timeout
        guard !isClosed else { throw ClientError.closed("consumer") }
        membership.withLock { $0 }?.polled()
        while true {
            do {
                try await resetPositions()
            } catch {
                if isClosed { return [] }  // the connections closed under this poll
                throw error
            }
            let (records, failure) = take()
            if let failure { throw failure }
            if !records.isEmpty { return records }
            startFetches(maxWait: deadline - ContinuousClock.now)
            guard ContinuousClock.now < deadline else { return [] }
            await recordsArrived.wait(until: deadline)
            if isClosed { return [] }  // closed while this poll waited
        }
    }

    /// Takes buffered records of unpaused partitions, up to `max.poll.records`, advancing positions.
    private func take() -> ([ConsumerRecord], (any Error)?) {
        let (records, failure) = state.withLock { state -> ([ConsumerRecord], (any Error)?) in
            if let failure = state.failure {
                state.failure = nil
                return ([], failure)
            }
            var records: [ConsumerRecord] = []
            for partition in state.partitions.keys.sorted(by: { ($0.topic, $0.partition) < ($1.topic, $1.partition) }) {
                guard records.count < configuration.maxPollRecords, state.partitions[partition]?.isActive == true else { continue }
                // Changed in place: a copy of the entry would copy its buffer on write.
                if let last = state.partitions[partition]!.buffered.take(upTo: configuration.maxPollRecords - records.count, into: &records) {
                    state.partitions[partition]!.position = last + 1
                }
                // Past the buffer, skipped control batches and aborted records count as consumed.
                if state.partitions[partition]!.buffered.isEmpty, let position = state.partitions[partition]!.position {
                    state.partitions[partition]!.position = max(position, state.partitions[partition]!.fetchOffset)
                }
            }
            return (records, nil)
        }
        if !records.isEmpty { startFetches(maxWait: .milliseconds(Int64(configuration.fetchMaxWaitMs))) }
        return (records, failure)
    }

    /// Whether ``close()`` was called.
    var isClosed: Bool { state.withLock { $0.isClosed } }

    /// Wakes a `poll()` waiting for records: fetched records, a failure or a new assignment.
    func wake() {
        recordsArrived.signal()
    }

    /// Gives partitions without a position their committed offset, or else the
    /// `auto.offset.reset` position.
    private func resetPositions() async throws {
        let missing = state.withLock { state in state.partitions.filter { $0.value.position == nil && !$0.value.rebalancing }.map(\.key) }
        guard !missing.isEmpty else { return }
        var positions: [TopicPartition: Int64] = [:]
        if configuration.groupId != nil {
            positions = try await committed(missing)
        }
        let rest = missing.filter { positions[$0] == nil }
        if !rest.isEmpty {
            switch configuration.autoOffsetReset {
            case .none:
                throw ClientError.notFound("no committed offset for \(rest.map(\.description).sorted().joined(separator: ", ")) and auto.offset.reset is none")
            case .earliest, .latest:
                let query: OffsetLookup.Query = configuration.autoOffsetReset == .earliest ? .earliest : .latest
                let found = try await OffsetLookup(cluster: cluster).offsets(rest, query, isolationLevel: configuration.readCommitted ? 1 : 0)
                positions.merge(found) { first, _ in first }
            }
        }
        state.withLock { state in
            // A rebalance may have taken a partition away meanwhile.
            for (partition, offset) in positions {
                guard var entry = state.partitions[partition], entry.position == nil else { continue }
                entry.position = offset
                entry.fetchOffset = offset
                state.partitions[partition] = entry
            }
        }
    }

    // MARK: Offsets

    /// Commits `offsets` (the next offsets to consume) for the group, or every assigned
    /// partition's position when nil.
    public func commit(_ offsets: [TopicPartition: Int64]? = nil) async throws {
        guard let groupId = configuration.groupId else { throw ClientError.notFound("committing offsets needs a group.id") }
        let (positions, generation, memberId, instanceId) = state.withLock { state in
            (state.partitions.compactMapValues(\.position), state.generationId, state.memberId, state.groupInstanceId)
        }
        let offsets = offsets ?? positions
        guard !offsets.isEmpty else { return }
        let coordinator = try await cluster.groupCoordinator(groupId)
        let byTopic = Dictionary(grouping: offsets, by: \.key.topic)
        let version = try coordinator.negotiatedVersion(of: OffsetCommitRequest.self)
        let request = OffsetCommitRequest(
            groupId: groupId, generationIdOrMemberEpoch: generation, memberId: memberId,
            groupInstanceId: version >= 7 ? instanceId : nil,
            topics: byTopic.keys.sorted().map { topic in
                .init(name: topic, partitions: byTopic[topic]!.map { .init(partitionIndex: $0.key.partition, committedOffset: $0.value) })
            })
        let response = try await coordinator.send(request, version: version)
        for topic in response.topics {
            for partition in topic.partitions where partition.errorCode != 0 {
                throw ClientError.broker(ErrorCode(rawValue: partition.errorCode) ?? .unknownServerError, "\(topic.name)-\(partition.partitionIndex)")
            }
        }
    }

    /// Commits like ``commit(_:)`` without waiting. The offsets (every assigned partition's
    /// position when nil) are taken now; commits are sent one after another in the order they
    /// were asked for, after any earlier one finished, and `onComplete` gets each outcome.
    /// ``close()`` waits for the commits still under way.
    public func commitAsync(
        _ offsets: [TopicPartition: Int64]? = nil,
        onComplete: (@Sendable ([TopicPartition: Int64], (any Error)?) -> Void)? = nil
    ) {
        let offsets = offsets ?? state.withLock { $0.partitions.compactMapValues(\.position) }
        asyncCommits.enqueue {
            do {
                try await self.commit(offsets)
                onComplete?(offsets, nil)
            } catch {
                onComplete?(offsets, error)
            }
        }
    }

    /// The group's committed offsets of `partitions` (absent where none is committed). With
    /// `readCommitted`, waits while a transaction's offsets for them are pending.
    public func committed(_ partitions: [TopicPartition]) async throws -> [TopicPartition: Int64] {
        guard let groupId = configuration.groupId else { throw ClientError.notFound("committed offsets need a group.id") }
        let byTopic = Dictionary(grouping: partitions, by: \.topic)
        for _ in 0..<100 {
            let coordinator = try await cluster.groupCoordinator(groupId)
            let version = try coordinator.negotiatedVersion(of: OffsetFetchRequest.self)
            let topics = byTopic.keys.sorted()
            let request = version >= 8
                ? OffsetFetchRequest(groups: [.init(groupId: groupId, topics: topics.map { .init(name: $0, partitionIndexes: byTopic[$0]!.map(\.partition)) })],
                                     requireStable: configuration.readCommitted)
                : OffsetFetchRequest(groupId: groupId, topics: topics.map { .init(name: $0, partitionIndexes: byTopic[$0]!.map(\.partition)) },
                                     requireStable: version >= 7 && configuration.readCommitted)
            let response = try await coordinator.send(request, version: version)
            var result: [TopicPartition: Int64] = [:]
            var unstable = false
            let entries: [(String, Int32, Int64, Int16)] = version >= 8
                ? (response.groups.first?.topics ?? []).flatMap { topic in topic.partitions.map { (topic.name, $0.partitionIndex, $0.committedOffset, $0.errorCode) } }
                : response.topics.flatMap { topic in topic.partitions.map { (topic.name, $0.partitionIndex, $0.committedOffset, $0.errorCode) } }
            let groupError = version >= 8 ? response.groups.first?.errorCode ?? 0 : response.errorCode
            if groupError == ErrorCode.unstableOffsetCommit.rawValue { unstable = true }
            for (topic, partition, offset, code) in entries {
                if code == ErrorCode.unstableOffsetCommit.rawValue {
                    unstable = true
                } else if code != 0 {
                    throw ClientError.broker(ErrorCode(rawValue: code) ?? .unknownServerError, "\(topic)-\(partition)")
                } else if offset >= 0 {
                    result[TopicPartition(topic: topic, partition: partition)] = offset
                }
            }
            if !unstable { return result }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ClientError.broker(.unstableOffsetCommit, "group \(groupId)")
    }

    /// Stops fetching and closes the connections. A subscribed consumer first gives up its
    /// partitions (committing their positions with auto-commit) and leaves its group.
    public func close() async {
        await asyncCommits.drain()
        await membership.withLock { membership -> (any GroupMembership)? in
            defer { membership = nil }
            return membership
        }?.close()
        state.withLock { $0.isClosed = true }
        wake()
        await cluster.close()
    }
}
