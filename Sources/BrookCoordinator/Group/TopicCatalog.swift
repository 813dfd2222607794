import BrookProtocol

/// The topics a consumer group can subscribe to, as the metadata image shows them: names,
/// topic ids and partition counts. The broker hands the current catalog to every
/// ConsumerGroupHeartbeat.
public struct TopicCatalog: Sendable, Equatable {
    public struct Topic: Sendable, Equatable {
        public var id: Uuid
        public var partitionCount: Int32

        public init(id: Uuid, partitionCount: Int32) {
            self.id = id
            self.partitionCount = partitionCount
        }
    }

    public private(set) var topics: [String: Topic]
    private var namesById: [Uuid: String]

    public init(topics: [String: Topic]) {
        self.topics = topics
        namesById = Dictionary(topics.map { ($0.value.id, $0.key) }, uniquingKeysWith: { first, _ in first })
    }

    public func name(of id: Uuid) -> String? { namesById[id] }
}
