import BrookProtocol

/// The cluster's metadata as the broker serves it: brokers, topics, partitions and their configs.
///
/// A value type; the ``MetadataStore`` owns the current image and publishes new ones, so readers
/// (Metadata, DescribeConfigs, ...) work on a consistent snapshot without locks.
public struct MetadataImage: Sendable {
    public struct Broker: Sendable, Equatable {
        public var nodeId: Int32
        public var host: String
        public var port: Int32
        public var rack: String?
    }

    public struct Partition: Sendable, Equatable {
        public var index: Int32
        public var leader: Int32
        public var leaderEpoch: Int32
        public var replicas: [Int32]
        public var isr: [Int32]
    }

    public struct Topic: Sendable, Equatable {
        public var name: String
        public var id: Uuid
        public var partitions: [Partition]
        /// Topic-level config overrides (not the defaults).
        public var configs: [String: String]
        public var isInternal: Bool { TopicName.internalTopics.contains(name) }
    }

    public var clusterId: String
    public var controllerId: Int32
    public var brokers: [Broker]
    public private(set) var topics: [String: Topic] = [:]
    public private(set) var topicNamesById: [Uuid: String] = [:]
    /// The first producer id no block has handed out yet (KRaft's ProducerIdsRecord).
    public internal(set) var nextProducerId: Int64 = 0

    public init(clusterId: String, controllerId: Int32, brokers: [Broker]) {
        self.clusterId = clusterId
        self.controllerId = controllerId
        self.brokers = brokers
    }

    public func topic(id: Uuid) -> Topic? {
        topicNamesById[id].flatMap { topics[$0] }
    }

    mutating func put(_ topic: Topic) {
        if let previous = topics[topic.name], previous.id != topic.id { topicNamesById[previous.id] = nil }
        topics[topic.name] = topic
        topicNamesById[topic.id] = topic.name
    }

    mutating func remove(topic name: String) {
        guard let topic = topics.removeValue(forKey: name) else { return }
        topicNamesById[topic.id] = nil
    }
}
