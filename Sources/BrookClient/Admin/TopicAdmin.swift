import BrookProtocol

/// The topic administration an operator needs (kafka-topics, Kafka's `Admin.createTopics`,
/// `deleteTopics`, `createPartitions`, `listTopics`, `describeTopics`). Speaks only the public
/// protocol: changes go to the controller the metadata names, which answers per topic; a
/// failing topic throws ``ClientError/broker(_:_:)`` with the Kafka error and the broker's
/// message.
///
/// Listing and describing are in `TopicAdmin+Describe.swift`.
public struct TopicAdmin: Sendable {
    public let cluster: Cluster
    /// How long the broker may take to apply a change before it answers REQUEST_TIMED_OUT
    /// (the requests' `timeoutMs`).
    public var timeout: Duration

    public init(cluster: Cluster, timeout: Duration = .seconds(30)) {
        self.cluster = cluster
        self.timeout = timeout
    }

    /// A topic to create.
    public struct NewTopic: Sendable, Equatable {
        public var name: String
        /// Nil takes the broker's `num.partitions`.
        public var partitions: Int32?
        /// Nil takes the broker's `default.replication.factor`.
        public var replicationFactor: Int16?
        /// Topic config overrides, e.g. `cleanup.policy=compact`.
        public var configs: [String: String]

        public init(name: String, partitions: Int32? = nil, replicationFactor: Int16? = nil, configs: [String: String] = [:]) {
            self.name = name
            self.partitions = partitions
            self.replicationFactor = replicationFactor
            self.configs = configs
        }
    }

    /// What the controller reports about a topic it created (or, with `validateOnly`, would create).
    public struct Created: Sendable, Equatable {
        public var name: String
        /// Zero when only validated, or when the broker's CreateTopics predates topic ids (v7).
        public var topicId: Uuid
        /// Nil when the broker's CreateTopics predates v5, which reports the resolved counts.
        public var partitions: Int32?
        public var replicationFactor: Int16?
    }

    /// Creates `topic`, or with `validateOnly` only asks whether the controller would.
    /// Throws TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS,
    /// INVALID_REPLICATION_FACTOR, INVALID_CONFIG and the like as ``ClientError/broker(_:_:)``.
    @discardableResult
    public func create(_ topic: NewTopic, validateOnly: Bool = false) async throws -> Created {
        let controller = try await cluster.controllerConnection()
        let version = try controller.negotiatedVersion(of: CreateTopicsRequest.self)
        if validateOnly && version < 1 { throw ClientError.unsupportedApi(.createTopics, broker: controller.address) }
        var request = CreateTopicsRequest(
            topics: [CreateTopicsRequest.CreatableTopic(
                name: topic.name, numPartitions: topic.partitions ?? -1, replicationFactor: topic.replicationFactor ?? -1,
                configs: topic.configs.keys.sorted().map { CreateTopicsRequest.CreatableTopicConfig(name: $0, value: topic.configs[$0]) }
            )],
            timeoutMs: timeout.clampedMilliseconds
        )
        if version >= 1 { request.validateOnly = validateOnly }
        let response = try await controller.send(request, version: version)
        guard let result = response.topics.first(where: { $0.name == topic.name }) else {
            throw ClientError.notFound("the CreateTopics response does not mention \(topic.name)")
        }
        try throwIfKafkaError(result.errorCode, result.errorMessage, "topic \(topic.name)")
        return Created(
            name: result.name, topicId: result.topicId,
            partitions: version >= 5 && result.numPartitions >= 0 ? result.numPartitions : nil,
            replicationFactor: version >= 5 && result.replicationFactor >= 0 ? result.replicationFactor : nil
        )
    }

    /// Deletes the topic `name` and its data. Throws UNKNOWN_TOPIC_OR_PARTITION when it does not
    /// exist, TOPIC_DELETION_DISABLED when the broker forbids deletion.
    public func delete(_ name: String) async throws {
        let controller = try await cluster.controllerConnection()
        let version = try controller.negotiatedVersion(of: DeleteTopicsRequest.self)
        var request = DeleteTopicsRequest(timeoutMs: timeout.clampedMilliseconds)
        if version >= 6 {
            request.topics = [DeleteTopicsRequest.DeleteTopicState(name: name)]
        } else {
            request.topicNames = [name]
        }
        let response = try await controller.send(request, version: version)
        guard let result = response.responses.first(where: { $0.name == name }) ?? response.responses.first else {
            throw ClientError.notFound("the DeleteTopics response does not mention \(name)")
        }
        try throwIfKafkaError(result.errorCode, result.errorMessage, "topic \(name)")
    }

    /// Grows the topic `name` to `totalCount` partitions, placed by the controller, or with
    /// `validateOnly` only asks whether it would. Partitions are never removed: a count that
    /// is not larger throws INVALID_PARTITIONS.
    public func createPartitions(_ name: String, totalCount: Int32, validateOnly: Bool = false) async throws {
        let controller = try await cluster.controllerConnection()
        let request = CreatePartitionsRequest(
            topics: [CreatePartitionsRequest.CreatePartitionsTopic(name: name, count: totalCount, assignments: nil)],
            timeoutMs: timeout.clampedMilliseconds, validateOnly: validateOnly
        )
        let response = try await controller.send(request)
        guard let result = response.results.first(where: { $0.name == name }) else {
            throw ClientError.notFound("the CreatePartitions response does not mention \(name)")
        }
        try throwIfKafkaError(result.errorCode, result.errorMessage, "topic \(name)")
    }
}
