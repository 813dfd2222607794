import BrookModel

/// The replication throttle of a reassignment, as kafka-reassign-partitions sets it with
/// `--throttle`: the brokers taking part get `leader.replication.throttled.rate` and
/// `follower.replication.throttled.rate`; each topic lists, in
/// `leader.replication.throttled.replicas`, the current replicas of its moving partitions (any
/// may lead while data is copied) and, in `follower.replication.throttled.replicas`, the
/// replicas they gain. Replicas already in sync are never throttled, by the brokers' rules.
public struct ReplicationThrottle: Sendable {
    public static let leaderRate = "leader.replication.throttled.rate"
    public static let followerRate = "follower.replication.throttled.rate"
    public static let leaderReplicas = "leader.replication.throttled.replicas"
    public static let followerReplicas = "follower.replication.throttled.replicas"

    /// A topic's two throttled replica lists, as the configs take them (`partition:broker,...`).
    public struct TopicLists: Sendable, Equatable {
        public var leader: String
        public var follower: String

        public init(leader: String, follower: String) {
            self.leader = leader
            self.follower = follower
        }
    }

    public let cluster: Cluster

    public init(cluster: Cluster) {
        self.cluster = cluster
    }

    /// The throttled replica lists of the partitions whose replicas change from `current` to
    /// `target`, by topic (topics with no moving partition are left out).
    public static func replicaLists(current: [TopicPartition: [Int32]], target: [TopicPartition: [Int32]]) -> [String: TopicLists] {
        var leader: [String: [String]] = [:]
        var follower: [String: [String]] = [:]
        for (key, existing, replicas) in moves(current: current, target: target) {
            leader[key.topic, default: []] += existing.map { "\(key.partition):\($0)" }
            follower[key.topic, default: []] += replicas.filter { !existing.contains($0) }.map { "\(key.partition):\($0)" }
        }
        return Dictionary(uniqueKeysWithValues: leader.map { topic, replicas in
            (topic, TopicLists(leader: replicas.joined(separator: ","), follower: follower[topic, default: []].joined(separator: ",")))
        })
    }

    /// The brokers a move from `current` to `target` involves: every replica, old or new, of a
    /// moving partition.
    public static func brokers(current: [TopicPartition: [Int32]], target: [TopicPartition: [Int32]]) -> [Int32] {
        var brokers = Set<Int32>()
        for (_, existing, replicas) in moves(current: current, target: target) {
            brokers.formUnion(existing)
            brokers.formUnion(replicas)
        }
        return brokers.sorted()
    }

    /// The partitions whose replicas change, in topic and partition order.
    private static func moves(
        current: [TopicPartition: [Int32]], target: [TopicPartition: [Int32]]
    ) -> [(key: TopicPartition, existing: [Int32], replicas: [Int32])] {
        target.sorted { ($0.key.topic, $0.key.partition) < ($1.key.topic, $1.key.partition) }.compactMap { key, replicas in
            guard let existing = current[key], existing != replicas else { return nil }
            return (key, existing, replicas)
        }
    }

    /// Sets the throttle of a move: `bytesPerSecond` on its brokers, the replica lists on its topics.
    public func apply(bytesPerSecond: Int64, current: [TopicPartition: [Int32]], target: [TopicPartition: [Int32]]) async throws {
        let configs = ConfigAdmin(cluster: cluster)
        for (topic, lists) in Self.replicaLists(current: current, target: target).sorted(by: { $0.key < $1.key }) {
            try await configs.incrementalAlter(.topic(topic), [.set(Self.leaderReplicas, lists.leader), .set(Self.followerReplicas, lists.follower)])
        }
        for broker in Self.brokers(current: current, target: target) {
            try await configs.incrementalAlter(.broker(broker), [
                .set(Self.leaderRate, String(bytesPerSecond)), .set(Self.followerRate, String(bytesPerSecond)),
            ])
        }
    }

    /// The topics among `topics` that list throttled replicas (a reassignment's throttle is on).
    public func throttledTopics(_ topics: [String]) async throws -> [String] {
        guard !topics.isEmpty else { return [] }
        let described = try await ConfigAdmin(cluster: cluster).describe(
            topics.map { ConfigResource.topic($0) }, keys: [Self.leaderReplicas, Self.followerReplicas])
        return topics.filter { topic in
            (described[.topic(topic)] ?? []).contains { !$0.isDefault && !($0.value ?? "").isEmpty }
        }
    }

    /// Removes the throttle rates from `brokers`.
    public func clear(brokers: [Int32]) async throws {
        let configs = ConfigAdmin(cluster: cluster)
        for broker in brokers {
            try await configs.incrementalAlter(.broker(broker), [.delete(Self.leaderRate), .delete(Self.followerRate)])
        }
    }

    /// Removes the throttled replica lists from `topics`.
    public func clear(topics: [String]) async throws {
        let configs = ConfigAdmin(cluster: cluster)
        for topic in topics {
            try await configs.incrementalAlter(.topic(topic), [.delete(Self.leaderReplicas), .delete(Self.followerReplicas)])
        }
    }
}
