import BrookModel
import BrookProtocol

/// Partition reassignment as kafka-reassign-partitions does it, over the public protocol
/// (Kafka's `Admin.alterPartitionReassignments` and `listPartitionReassignments`): requests go
/// to the controller the metadata names.
public struct ReassignmentAdmin: Sendable {
    public let cluster: Cluster
    public var timeout: Duration

    public init(cluster: Cluster, timeout: Duration = .seconds(30)) {
        self.cluster = cluster
        self.timeout = timeout
    }

    /// A reassignment under way.
    public struct Ongoing: Sendable, Equatable {
        public var partition: TopicPartition
        public var replicas: [Int32]
        public var adding: [Int32]
        public var removing: [Int32]
    }

    /// Starts moving each partition to its replicas, or cancels its reassignment (nil); returns
    /// the partitions refused, with their errors as ``ClientError/broker(_:_:)``.
    public func alter(_ targets: [(TopicPartition, [Int32]?)]) async throws -> [TopicPartition: ClientError] {
        var byTopic: [String: [AlterPartitionReassignmentsRequest.ReassignablePartition]] = [:]
        for (partition, replicas) in targets {
            byTopic[partition.topic, default: []].append(.init(partitionIndex: partition.partition, replicas: replicas))
        }
        let request = AlterPartitionReassignmentsRequest(
            timeoutMs: timeout.clampedMilliseconds,
            topics: byTopic.keys.sorted().map { .init(name: $0, partitions: byTopic[$0]!) })
        let controller = try await cluster.controllerConnection()
        let response = try await controller.send(request)
        try throwIfKafkaError(response.errorCode, response.errorMessage, "the reassignment")
        var refused: [TopicPartition: ClientError] = [:]
        for topic in response.responses {
            for partition in topic.partitions where partition.errorCode != ErrorCode.none.rawValue {
                refused[TopicPartition(topic: topic.name, partition: partition.partitionIndex)] = ClientError.broker(
                    ErrorCode(rawValue: partition.errorCode) ?? .unknownServerError, partition.errorMessage)
            }
        }
        return refused
    }

    /// The reassignments under way, of `partitions` or of every partition (nil).
    public func list(_ partitions: [TopicPartition]? = nil) async throws -> [Ongoing] {
        var request = ListPartitionReassignmentsRequest(timeoutMs: timeout.clampedMilliseconds)
        if let partitions {
            let byTopic = Dictionary(grouping: partitions, by: \.topic)
            request.topics = byTopic.keys.sorted().map { .init(name: $0, partitionIndexes: byTopic[$0]!.map(\.partition)) }
        }
        let controller = try await cluster.controllerConnection()
        let response = try await controller.send(request)
        try throwIfKafkaError(response.errorCode, response.errorMessage, "the reassignments")
        return response.topics.flatMap { topic in
            topic.partitions.map {
                Ongoing(
                    partition: TopicPartition(topic: topic.name, partition: $0.partitionIndex), replicas: $0.replicas,
                    adding: $0.addingReplicas, removing: $0.removingReplicas)
            }
        }
    }

    /// Preferred-leader elections (ElectLeaders) for `partitions`; returns those refused, but
    /// for ELECTION_NOT_NEEDED (the preferred leader leads already).
    public func electPreferredLeaders(_ partitions: [TopicPartition]) async throws -> [TopicPartition: ClientError] {
        let byTopic = Dictionary(grouping: partitions, by: \.topic)
        let request = ElectLeadersRequest(
            electionType: 0,
            topicPartitions: byTopic.keys.sorted().map { .init(topic: $0, partitions: byTopic[$0]!.map(\.partition)) },
            timeoutMs: timeout.clampedMilliseconds)
        let controller = try await cluster.controllerConnection()
        let response = try await controller.send(request)
        try throwIfKafkaError(response.errorCode, nil, "the election")
        var refused: [TopicPartition: ClientError] = [:]
        for topic in response.replicaElectionResults {
            for partition in topic.partitionResult
            where partition.errorCode != ErrorCode.none.rawValue && partition.errorCode != ErrorCode.electionNotNeeded.rawValue {
                refused[TopicPartition(topic: topic.topic, partition: partition.partitionId)] = ClientError.broker(
                    ErrorCode(rawValue: partition.errorCode) ?? .unknownServerError, partition.errorMessage)
            }
        }
        return refused
    }
}
