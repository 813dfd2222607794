import BrookCoordinator
import BrookModel
import BrookProtocol
import BrookSecurity

/// The cluster's metadata as the broker serves it: brokers, topics, partitions and their configs.
///
/// A value type; the ``MetadataStore`` owns the current image and publishes new ones, so readers
/// (Metadata, DescribeConfigs, ...) work on a consistent snapshot without locks.
public struct MetadataImage: Sendable, Equatable {
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
        /// Grows with every change of the partition (leader, ISR or replicas): an AlterPartition
        /// made against an older one is refused.
        public var partitionEpoch: Int32 = 0
        /// An ongoing reassignment's replicas being added (in `replicas` already) and removed
        /// (still in `replicas` until the added ones are in sync).
        public var addingReplicas: [Int32] = []
        public var removingReplicas: [Int32] = []

        /// Whether a reassignment is under way.
        public var isReassigning: Bool { !addingReplicas.isEmpty || !removingReplicas.isEmpty }

        /// The record of this partition changed as given (what is not given stays, the
        /// reassignment in flight included).
        func record(
            topicId: Uuid, leader: Int32? = nil, leaderEpoch: Int32? = nil, isr: [Int32]? = nil, partitionEpoch: Int32? = nil,
            replicas: [Int32]? = nil, adding: [Int32]? = nil, removing: [Int32]? = nil
        ) -> PartitionRecord {
            PartitionRecord(
                partitionId: index, topicId: topicId, replicas: replicas ?? self.replicas, isr: isr ?? self.isr,
                removingReplicas: removing ?? removingReplicas, addingReplicas: adding ?? addingReplicas,
                leader: leader ?? self.leader, leaderEpoch: leaderEpoch ?? self.leaderEpoch,
                partitionEpoch: partitionEpoch ?? self.partitionEpoch)
        }
    }

    public struct Topic: Sendable, Equatable {
        public var name: String
        public var id: Uuid
        public var partitions: [Partition]
        /// Topic-level config overrides (not the defaults).
        public var configs: [String: String]
        public var isInternal: Bool { TopicName.internalTopics.contains(name) }

        /// Adds or replaces a partition, keeping them ordered by index (a partition usually sits
        /// at its index, so that is looked at first).
        mutating func put(_ partition: Partition) {
            let position = Int(partition.index)
            if partitions.indices.contains(position), partitions[position].index == partition.index {
                partitions[position] = partition
            } else if let existing = partitions.firstIndex(where: { $0.index == partition.index }) {
                partitions[existing] = partition
            } else {
                partitions.append(partition)
                if partitions.count > 1, partitions[partitions.count - 2].index > partition.index {
                    partitions.sort { $0.index < $1.index }
                }
            }
        }
    }

    /// A broker as the quorum registered it (RegisterBrokerRecord), fenced until the controller
    /// sees it caught up, and again when its session expires.
    public struct Registration: Sendable, Equatable {
        public var nodeId: Int32
        /// The broker epoch: a new one on every registration, so a stale process is told apart.
        public var epoch: Int64
        public var incarnation: Uuid
        public var endpoints: [Broker]
        /// The listener name and security protocol id of each endpoint.
        public var listenerNames: [String] = []
        public var securityProtocols: [Int16] = []
        public var rack: String?
        public var fenced: Bool
        public var inControlledShutdown: Bool

        /// Whether it may lead, join an ISR or serve reads: neither fenced nor shutting down.
        public var isUsable: Bool { !fenced && !inControlledShutdown }

        /// The endpoint of the listener named `listener` (any case), else the first.
        func endpoint(on listener: String) -> Broker? {
            if let index = listenerNames.firstIndex(where: { $0.uppercased() == listener.uppercased() }),
                index < endpoints.count
            {
                return endpoints[index]
            }
            return endpoints.first
        }
    }

    public var clusterId: String
    public var controllerId: Int32
    /// The brokers clients are told about: in a cluster, the registered ones not fenced.
    public var brokers: [Broker]
    /// This node's address on each of its listeners, so that a client is told the address of
    /// the listener it came in on: a single node's always, a cluster node's until brokers
    /// have registered (then they come from the registrations).
    public var localListeners: [String: Broker] = [:]
    /// Every broker the quorum registered (a cluster only; empty on a single node).
    public internal(set) var registrations: [Int32: Registration] = [:]
    public internal(set) var topics: [String: Topic] = [:]
    public private(set) var topicNamesById: [Uuid: String] = [:]
    /// The first producer id no block has handed out yet (KRaft's ProducerIdsRecord).
    public internal(set) var nextProducerId: Int64 = 0
    /// Dynamic broker configs by broker resource name (a node id), as ConfigRecords of resource
    /// type BROKER set them in a cluster; each broker applies its own.
    public internal(set) var brokerConfigs: [String: [String: String]] = [:]
    /// SCRAM credentials by user and mechanism (UserScramCredentialRecord).
    public internal(set) var scramCredentials: [String: [ScramMechanism: ScramCredential]] = [:]
    /// The ACLs by id (AccessControlEntryRecord).
    public internal(set) var acls: [Uuid: AclBinding] = [:]
    /// Client quotas by entity (ClientQuotaRecord): key to value.
    public internal(set) var clientQuotas: [QuotaEntity: [String: Double]] = [:]

    public init(clusterId: String, controllerId: Int32, brokers: [Broker]) {
        self.clusterId = clusterId
        self.controllerId = controllerId
        self.brokers = brokers
    }

    public func topic(id: Uuid) -> Topic? {
        topicNamesById[id].flatMap { topics[$0] }
    }

    /// Adds or replaces a topic. A topic is its id, as in KRaft's image: a name taken by another
    /// id, or an id known under another name, leaves the old topic behind.
    mutating func put(_ topic: Topic) {
        if let previous = topics[topic.name], previous.id != topic.id { topicNamesById[previous.id] = nil }
        if let previousName = topicNamesById[topic.id], previousName != topic.name { topics[previousName] = nil }
        topics[topic.name] = topic
        topicNamesById[topic.id] = topic.name
    }

    mutating func remove(topic name: String) {
        guard let topic = topics.removeValue(forKey: name) else { return }
        topicNamesById[topic.id] = nil
    }
}

extension MetadataImage {
    /// The registered brokers that may lead partitions: not fenced, not shutting down.
    public var usableBrokers: [Registration] {
        registrations.values.filter(\.isUsable).sorted { $0.nodeId < $1.nodeId }
    }

    mutating func register(_ record: RegisterBrokerRecord) {
        let endpoints = record.endPoints.map { Broker(nodeId: record.brokerId, host: $0.host, port: Int32($0.port), rack: record.rack) }
        registrations[record.brokerId] = Registration(
            nodeId: record.brokerId, epoch: record.brokerEpoch, incarnation: record.incarnationId, endpoints: endpoints,
            listenerNames: record.endPoints.map(\.name), securityProtocols: record.endPoints.map(\.securityProtocol), rack: record.rack.flatMap { $0.isEmpty ? nil : $0 }, fenced: record.fenced, inControlledShutdown: record.inControlledShutdown
        )
        brokersFromRegistrations()
    }

    /// Fences (or unfences) the broker `id` if `epoch` is its current registration's.
    mutating func setFenced(_ fenced: Bool, broker id: Int32, epoch: Int64) {
        guard var registration = registrations[id], registration.epoch == epoch else { return }
        registration.fenced = fenced
        if !fenced { registration.inControlledShutdown = false }
        registrations[id] = registration
        brokersFromRegistrations()
    }

    /// A change of the broker `record` names, if `record`'s epoch is its current registration's:
    /// fenced (1) or unfenced (-1), and entering controlled shutdown (1).
    mutating func changeRegistration(_ record: BrokerRegistrationChangeRecord) {
        guard var registration = registrations[record.brokerId], registration.epoch == record.brokerEpoch else { return }
        if record.fenced == 1 { registration.fenced = true }
        if record.fenced == -1 {
            registration.fenced = false
            registration.inControlledShutdown = false
        }
        if record.inControlledShutdown == 1 { registration.inControlledShutdown = true }
        registrations[record.brokerId] = registration
        brokersFromRegistrations()
    }

    /// The live brokers as a client on `listener` reaches them: each broker's endpoint of that
    /// listener, else its first (as `brokers`). A single node's own list, on any listener.
    func brokers(on listener: String) -> [Broker] {
        guard !registrations.isEmpty else { return localListeners[listener].map { [$0] } ?? brokers }
        return registrations.values.filter { !$0.fenced }.sorted { $0.nodeId < $1.nodeId }.compactMap { $0.endpoint(on: listener) }
    }

    /// Live broker `id`'s endpoint on `listener` (its first when it has none by that name).
    func broker(_ id: Int32, on listener: String?) -> Broker? {
        guard let listener, let registration = registrations[id] else {
            if let listener, let local = localListeners[listener], local.nodeId == id { return local }
            return brokers.first { $0.nodeId == id }
        }
        return registration.fenced ? nil : registration.endpoint(on: listener)
    }

    private mutating func brokersFromRegistrations() {
        brokers = registrations.values.filter { !$0.fenced }.sorted { $0.nodeId < $1.nodeId }.compactMap { $0.endpoints.first }
    }
}


extension MetadataImage {
    /// The error for a partition this broker does not host: NOT_LEADER_OR_FOLLOWER when the
    /// cluster has it on another broker (the client refreshes its metadata and goes there),
    /// UNKNOWN_TOPIC_OR_PARTITION when it does not exist.
    static func missingPartitionError(_ key: TopicPartition, in metadata: MetadataStore?) -> ErrorCode {
        guard let metadata, metadata.replicated != nil,
            metadata.image.topics[key.topic]?.partitions.contains(where: { $0.index == key.partition }) == true
        else { return .unknownTopicOrPartition }
        return .notLeaderOrFollower
    }
}

extension MetadataImage {
    /// The controller id clients are told (Metadata, DescribeCluster): the active controller when
    /// it is a live broker, else, as KRaft brokers answer, a live broker (`asking`, the broker
    /// answering, when it is one), which forwards what only the controller can do. Clients
    /// cannot reach a controller-only node.
    func controllerIdForClients(asking nodeId: Int32) -> Int32 {
        let live = brokers.map(\.nodeId)
        if live.contains(controllerId) || registrations.isEmpty { return controllerId }
        if live.contains(nodeId) { return nodeId }
        return live.min() ?? controllerId
    }
}

extension MetadataImage {
    /// The leader of the partition of the coordinator topic `topic` that `key` (a group or
    /// transactional id) belongs to, by Kafka's `abs(key.hashCode) % partitions`: the broker that
    /// coordinates `key` in a cluster (-1 while that partition is offline); nil while the topic
    /// has no partitions.
    func coordinatorLeader(of key: String, in topic: String) -> Int32? {
        guard let partitions = topics[topic]?.partitions, !partitions.isEmpty else { return nil }
        let index = GroupCoordinator.partition(for: key, partitions: Int32(partitions.count))
        return partitions.first { $0.index == index }?.leader ?? -1
    }
}

