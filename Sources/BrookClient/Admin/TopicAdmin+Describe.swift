import BrookProtocol

extension TopicAdmin {
    /// A topic as a listing names it.
    public struct Listing: Sendable, Equatable {
        public var name: String
        /// Zero when the broker's Metadata predates topic ids (v10).
        public var topicId: Uuid
        /// Whether the topic is one the cluster keeps for itself (`__consumer_offsets`,
        /// `__transaction_state`).
        public var isInternal: Bool
    }

    /// One partition of a described topic.
    public struct Partition: Sendable, Equatable {
        public var partition: Int32
        /// Nil while the partition has no leader.
        public var leader: Int32?
        /// The brokers holding a replica, preferred leader first.
        public var replicas: [Int32]
        /// The replicas in sync with the leader.
        public var isr: [Int32]

        public init(partition: Int32, leader: Int32?, replicas: [Int32], isr: [Int32]) {
            self.partition = partition
            self.leader = leader
            self.replicas = replicas
            self.isr = isr
        }
    }

    /// A topic's id, partitions and, when asked for, configs.
    public struct Description: Sendable, Equatable {
        public var name: String
        /// Zero when the broker's Metadata predates topic ids (v10).
        public var topicId: Uuid
        public var isInternal: Bool
        /// By partition index.
        public var partitions: [Partition]
        /// Every config key with its source, when asked for; nil otherwise.
        public var configs: [ConfigEntry]?

        /// The replica count of the first partition, as kafka-topics reports it.
        public var replicationFactor: Int { partitions.first?.replicas.count ?? 0 }
    }

    /// The topics of the cluster by name; internal topics only when `includeInternal` is set
    /// (Kafka's `ListTopicsOptions.listInternal`).
    public func list(includeInternal: Bool = false) async throws -> [Listing] {
        let metadata = try await cluster.metadataWithoutCreation(topics: nil)
        return metadata.topics.compactMap { topic -> Listing? in
            guard topic.errorCode == 0, let name = topic.name, includeInternal || !topic.isInternal else { return nil }
            return Listing(name: name, topicId: topic.topicId, isInternal: topic.isInternal)
        }.sorted { $0.name < $1.name }
    }

    /// The topics `names` in the order given, each with its partitions (leader, replicas, ISR)
    /// and, with `includeConfigs`, its configs with their sources. Never creates a topic: a
    /// missing one throws UNKNOWN_TOPIC_OR_PARTITION, an illegal name INVALID_TOPIC_EXCEPTION.
    public func describe(_ names: [String], includeConfigs: Bool = false) async throws -> [Description] {
        guard !names.isEmpty else { return [] }
        let metadata = try await cluster.metadataWithoutCreation(topics: names)
        var byName: [String: MetadataResponse.MetadataResponseTopic] = [:]
        for topic in metadata.topics { if let name = topic.name { byName[name] = topic } }
        var descriptions: [Description] = []
        for name in names {
            guard let topic = byName[name] else { throw ClientError.notFound("the metadata does not mention topic \(name)") }
            try throwIfKafkaError(topic.errorCode, nil, "topic \(name)")
            descriptions.append(Description(
                name: name, topicId: topic.topicId, isInternal: topic.isInternal,
                partitions: topic.partitions.map {
                    Partition(partition: $0.partitionIndex, leader: $0.leaderId >= 0 ? $0.leaderId : nil, replicas: $0.replicaNodes, isr: $0.isrNodes)
                }.sorted { $0.partition < $1.partition }
            ))
        }
        if includeConfigs {
            let configs = try await ConfigAdmin(cluster: cluster).describe(names.map(ConfigResource.topic))
            for index in descriptions.indices { descriptions[index].configs = configs[.topic(descriptions[index].name)] ?? [] }
        }
        return descriptions
    }
}
