import BrookModel
import BrookProtocol

/// ListOffsets through each partition's leader: log start, log end, or the first offset at or
/// after a timestamp.
public struct OffsetLookup: Sendable {
    public enum Query: Sendable, Equatable {
        case earliest
        case latest
        case timestamp(Int64)

        var wireValue: Int64 {
            switch self {
            case .earliest: -2
            case .latest: -1
            case .timestamp(let value): value
            }
        }
    }

    public let cluster: Cluster

    public init(cluster: Cluster) {
        self.cluster = cluster
    }

    /// The partitions of `topics`, in order.
    public func partitions(of topics: [String]) async throws -> [TopicPartition] {
        let metadata = try await cluster.metadata(topics: topics)
        var result: [TopicPartition] = []
        for topic in metadata.topics {
            guard topic.errorCode == 0 else {
                throw ClientError.broker(ErrorCode(rawValue: topic.errorCode) ?? .unknownServerError, topic.name)
            }
            result += topic.partitions.map { TopicPartition(topic: topic.name ?? "", partition: $0.partitionIndex) }.sorted { $0.partition < $1.partition }
        }
        return result
    }

    /// The offset answering `query` for each partition; -1 where no record qualifies (a timestamp
    /// past the last record).
    /// With `isolationLevel` 1 the latest offset is the last stable offset.
    public func offsets(_ partitions: [TopicPartition], _ query: Query, isolationLevel: Int8 = 0) async throws -> [TopicPartition: Int64] {
        guard !partitions.isEmpty else { return [:] }
        let metadata = try await cluster.metadata(topics: Array(Set(partitions.map(\.topic))).sorted())
        var leaders: [TopicPartition: Int32] = [:]
        for topic in metadata.topics {
            for partition in topic.partitions { leaders[TopicPartition(topic: topic.name ?? "", partition: partition.partitionIndex)] = partition.leaderId }
        }
        var result: [TopicPartition: Int64] = [:]
        for (leader, owned) in Dictionary(grouping: partitions, by: { leaders[$0] ?? -1 }) {
            guard leader >= 0 else { throw ClientError.notFound("no leader for \(owned[0])") }
            let byTopic = Dictionary(grouping: owned, by: \.topic)
            let request = ListOffsetsRequest(replicaId: -1, isolationLevel: isolationLevel, topics: byTopic.keys.sorted().map { topic in
                ListOffsetsRequest.ListOffsetsTopic(name: topic, partitions: byTopic[topic]!.map {
                    ListOffsetsRequest.ListOffsetsPartition(partitionIndex: $0.partition, timestamp: query.wireValue)
                })
            })
            let response = try await cluster.connection(to: leader).send(request)
            for topic in response.topics {
                for partition in topic.partitions {
                    guard partition.errorCode == 0 else {
                        throw ClientError.broker(ErrorCode(rawValue: partition.errorCode) ?? .unknownServerError, "\(topic.name)-\(partition.partitionIndex)")
                    }
                    result[TopicPartition(topic: topic.name, partition: partition.partitionIndex)] = partition.offset
                }
            }
        }
        return result
    }
}
