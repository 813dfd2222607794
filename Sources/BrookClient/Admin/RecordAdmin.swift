import BrookModel
import BrookProtocol

/// Deleting records (kafka-delete-records; Kafka's `Admin.deleteRecords`): moves partitions'
/// log start offsets forward, so that everything before them is gone for consumers and is
/// removed from disk with the segments it fills.
public struct RecordAdmin: Sendable {
    public let cluster: Cluster
    /// How long each leader may wait for its followers before it answers (DeleteRecords'
    /// `timeoutMs`).
    public var timeout: Duration

    public init(cluster: Cluster, timeout: Duration = .seconds(30)) {
        self.cluster = cluster
        self.timeout = timeout
    }

    /// The offset meaning "the high watermark": deletes every record written so far.
    public static let highWatermark: Int64 = -1

    /// Deletes the records before each offset (or before the high watermark for
    /// ``highWatermark``), asking each partition's leader. Each partition answers on its own:
    /// its new low watermark (log start offset), or the error that kept it, e.g.
    /// OFFSET_OUT_OF_RANGE past the high watermark or UNKNOWN_TOPIC_OR_PARTITION. Throws only
    /// when the cluster cannot be asked at all. DeleteRecords sends error codes without messages,
    /// so most failures carry none; the partition they belong to is their key.
    public func deleteRecords(before offsets: [TopicPartition: Int64]) async throws -> [TopicPartition: Result<Int64, ClientError>] {
        guard !offsets.isEmpty else { return [:] }
        let topics = Set(offsets.keys.map(\.topic)).sorted()
        let metadata = try await cluster.metadataWithoutCreation(topics: topics)
        var results: [TopicPartition: Result<Int64, ClientError>] = [:]
        var leaders: [TopicPartition: Int32] = [:]
        var topicErrors: [String: ClientError] = [:]
        for topic in metadata.topics {
            guard let name = topic.name else { continue }
            if topic.errorCode != 0 {
                topicErrors[name] = .broker(ErrorCode(rawValue: topic.errorCode) ?? .unknownServerError, nil)
            }
            for partition in topic.partitions { leaders[TopicPartition(topic: name, partition: partition.partitionIndex)] = partition.leaderId }
        }
        var byLeader: [Int32: [TopicPartition]] = [:]
        for partition in offsets.keys {
            if let error = topicErrors[partition.topic] {
                results[partition] = .failure(error)
            } else if let leader = leaders[partition], leader >= 0 {
                byLeader[leader, default: []].append(partition)
            } else if leaders[partition] == nil {
                results[partition] = .failure(.broker(.unknownTopicOrPartition, "the topic has no partition \(partition.partition)"))
            } else {
                results[partition] = .failure(.broker(.leaderNotAvailable, nil))
            }
        }
        for (leader, partitions) in byLeader.sorted(by: { $0.key < $1.key }) {
            let byTopic = Dictionary(grouping: partitions, by: \.topic)
            let request = DeleteRecordsRequest(
                topics: byTopic.keys.sorted().map { topic in
                    DeleteRecordsRequest.DeleteRecordsTopic(name: topic, partitions: byTopic[topic, default: []].map {
                        DeleteRecordsRequest.DeleteRecordsPartition(partitionIndex: $0.partition, offset: offsets[$0] ?? Self.highWatermark)
                    })
                },
                timeoutMs: timeout.clampedMilliseconds
            )
            let response = try await cluster.connection(to: leader).send(request)
            for topic in response.topics {
                for partition in topic.partitions {
                    let key = TopicPartition(topic: topic.name, partition: partition.partitionIndex)
                    results[key] = partition.errorCode == 0
                        ? .success(partition.lowWatermark)
                        : .failure(.broker(ErrorCode(rawValue: partition.errorCode) ?? .unknownServerError, nil))
                }
            }
        }
        for partition in offsets.keys where results[partition] == nil {
            results[partition] = .failure(.notFound("the DeleteRecords response does not mention \(partition)"))
        }
        return results
    }
}
