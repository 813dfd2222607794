import BrookModel
import BrookProtocol

extension Consumer {
    /// The partitions of `topic` (Java's `partitionsFor`), once each has a leader. A topic that
    /// does not exist is created when the broker auto-creates topics; otherwise, or for a name
    /// the broker refuses, this throws at once.
    public func partitions(for topic: String) async throws -> [TopicPartition] {
        let metadata = try await cluster.metadata(topics: [topic])
        if let entry = metadata.topics.first(where: { $0.name == topic }) {
            let code = ErrorCode(rawValue: entry.errorCode) ?? .unknownServerError
            switch code {
            case .unknownTopicOrPartition: throw ClientError.notFound("topic \(topic) does not exist")
            case .none: break
            case _ where code.isRetriable: break
            default: throw ClientError.broker(code, "topic \(topic)")
            }
        }
        let layout = try await layout(of: topic)
        return layout.partitions.map { TopicPartition(topic: topic, partition: $0) }
    }
}
