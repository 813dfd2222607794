import BrookProtocol

/// A topic as the cluster's metadata describes it: its id and the leader of each partition.
public struct TopicLayout: Sendable, Equatable {
    public var name: String
    /// Zero when the broker's Metadata version predates topic ids (v10).
    public var topicId: Uuid
    /// The leader's node id of each partition, by partition index.
    public var leaders: [Int32: Int32]

    public init(name: String, topicId: Uuid, leaders: [Int32: Int32]) {
        self.name = name
        self.topicId = topicId
        self.leaders = leaders
    }

    /// The partition indexes, in order.
    public var partitions: [Int32] { leaders.keys.sorted() }
}

extension Cluster {
    /// The layout of `topic`, created with the broker's defaults when the broker auto-creates
    /// topics. Waits (up to `timeout`) while the metadata answers a retriable error such as
    /// LEADER_NOT_AVAILABLE or while a partition has no leader yet.
    public func topicLayout(_ topic: String, timeout: Duration = .seconds(10)) async throws -> TopicLayout {
        let deadline = ContinuousClock.now + timeout
        while true {
            let metadata = try await metadata(topics: [topic])
            guard let entry = metadata.topics.first(where: { $0.name == topic }) else {
                throw ClientError.notFound("the metadata does not mention topic \(topic)")
            }
            let code = ErrorCode(rawValue: entry.errorCode) ?? .unknownServerError
            let leaders = Dictionary(entry.partitions.map { ($0.partitionIndex, $0.leaderId) }, uniquingKeysWith: { first, _ in first })
            if code == .none, !leaders.isEmpty, leaders.values.allSatisfy({ $0 >= 0 }) {
                return TopicLayout(name: topic, topicId: entry.topicId, leaders: leaders)
            }
            guard code == .none || code.isRetriable, ContinuousClock.now < deadline else {
                throw ClientError.broker(code, "topic \(topic)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
