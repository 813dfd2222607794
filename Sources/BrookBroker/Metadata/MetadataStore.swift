import BrookProtocol
import BrookSecurity
import NIOCore
import Synchronization

/// Why a metadata change was refused; each case maps to one Kafka error code.
public struct MetadataError: Error, Sendable, Equatable {
    public var code: ErrorCode
    public var message: String

    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }
}

/// Owns the metadata image. Every change is written to the ``MetadataLog`` as records first and
/// then applied, so replaying the log at start rebuilds exactly the same image.
///
/// Changes are serialised by a mutex held across the log write and its fsync (they are rare).
/// Readers never wait for that: they copy the published image, swapped in under a lock of its
/// own, held only for the copy, once a change is stored. So a topic being created never stalls
/// the Fetch and Metadata requests that read the image.
public final class MetadataStore: Sendable {
    /// The authoritative image; its lock serialises changes, across the log write.
    private let state: Mutex<MetadataImage>
    /// What readers see: the last stored image.
    private let published: Mutex<MetadataImage>
    private let log: any MetadataLog
    /// Set when the metadata quorum replicates the log: changes are proposed to it, and the
    /// image changes only as committed records arrive (`applyCommitted`).
    let replicated: (any ReplicatedMetadataLog)?
    /// Serialises replicated changes from validation until they are applied here.
    let writer = Mutex(())
    public let nodeId: Int32
    /// Told about every committed change, after it took effect (to reconfigure logs).
    private let listeners = Mutex<[@Sendable ([MetadataRecord], MetadataImage) -> Void]>([])

    /// Opens the store and replays the log into the image.
    public init(
        log: any MetadataLog, clusterId: String, nodeId: Int32, brokers: [MetadataImage.Broker],
        localListeners: [String: MetadataImage.Broker] = [:]
    ) throws {
        var image = MetadataImage(clusterId: clusterId, controllerId: nodeId, brokers: brokers)
        image.localListeners = localListeners
        for value in try log.replay() {
            if let record = try MetadataRecord.decode(value) {
                image.apply(record)
            }
        }
        self.state = Mutex(image)
        self.published = Mutex(image)
        self.log = log
        self.replicated = nil
        self.nodeId = nodeId
    }

    /// A store whose log the metadata quorum replicates. It starts empty; the records the quorum
    /// commits, from the log's start, build the image (`applyCommitted`).
    /// `image`: the image of a snapshot loaded at start, which the committed records continue.
    /// `localListeners`: this node's endpoint on each listener, answered before any broker registered.
    init(
        replicated: any ReplicatedMetadataLog, clusterId: String, nodeId: Int32, brokers: [MetadataImage.Broker],
        image snapshot: MetadataImage? = nil, localListeners: [String: MetadataImage.Broker] = [:]
    ) {
        var image = snapshot ?? MetadataImage(clusterId: clusterId, controllerId: nodeId, brokers: brokers)
        image.localListeners = localListeners
        self.state = Mutex(image)
        self.published = Mutex(image)
        self.log = InMemoryMetadataLog()
        self.replicated = replicated
        self.nodeId = nodeId
    }

    /// Records the quorum's new leader as the cluster's active controller.
    func applyControllerChange(_ leaderId: Int32) {
        state.withLock { image in
            image.controllerId = leaderId
            publish(image)
        }
    }

    /// Applies records the quorum committed, in log order, and tells the listeners.
    func applyCommitted(_ records: [MetadataRecord]) {
        guard !records.isEmpty else { return }
        let image = state.withLock { image in
            for record in records { image.apply(record) }
            publish(image)
            return image
        }
        for listener in listeners.withLock({ $0 }) { listener(records, image) }
    }

    /// Replaces the image with a snapshot's (one fetched from the quorum's leader in place of
    /// the log this node had not yet applied), keeping the known controller. Listeners hear it
    /// as the removal of every topic it lacks followed by the records that build it.
    func replace(with snapshot: MetadataImage) {
        let (previous, image) = state.withLock { image in
            let previous = image
            image = snapshot
            image.controllerId = previous.controllerId
            image.localListeners = previous.localListeners
            publish(image)
            return (previous, image)
        }
        var records: [MetadataRecord] = []
        for topic in previous.topics.values where image.topic(id: topic.id) == nil {
            records.append(.removeTopic(RemoveTopicRecord(topicId: topic.id)))
        }
        records += MetadataSnapshot.records(of: image)
        for listener in listeners.withLock({ $0 }) { listener(records, image) }
    }

    /// The current image.
    public var image: MetadataImage { published.withLock { $0 } }

    /// Creates a topic with `partitions` partitions: on one node each led by this node; in a
    /// cluster placed over the usable brokers, or on the replicas of `assignment` (a manual
    /// assignment, one list per partition), each led by its first live replica.
    @discardableResult
    public func createTopic(
        name: String, partitions: Int32, replicationFactor: Int16, configs: [String: String] = [:],
        validateOnly: Bool = false, topicId: Uuid = .random(), assignment: [[Int32]]? = nil
    ) throws(MetadataError) -> MetadataImage.Topic {
        if let problem = TopicName.problem(with: name) { throw MetadataError(.invalidTopicException, problem) }
        guard partitions > 0 else { throw MetadataError(.invalidPartitions, "Number of partitions must be larger than 0.") }
        guard replicationFactor > 0 else {
            throw MetadataError(.invalidReplicationFactor, "Replication factor must be larger than 0.")
        }
        // The records depend on the brokers the image holds: in a cluster they are made from
        // the image the change is validated against, once this node is the active controller.
        let build = { (current: MetadataImage) throws(MetadataError) -> [MetadataRecord] in
            if current.topics[name] != nil { throw MetadataError(.topicAlreadyExists, "Topic '\(name)' already exists.") }
            let brokerCount = self.replicated == nil ? current.brokers.count : current.usableBrokers.count
            guard Int(replicationFactor) <= brokerCount else {
                throw MetadataError(.invalidReplicationFactor, "Unable to replicate the partition \(replicationFactor) time(s): The target replication factor of \(replicationFactor) cannot be reached because only \(brokerCount) broker(s) are registered.")
            }
            var records: [MetadataRecord] = [.topic(TopicRecord(name: name, topicId: topicId))]
            let placed = self.replicated != nil ? assignment ?? self.placement(0..<partitions, replicationFactor: replicationFactor, in: current)
                : self.placement(0..<partitions, replicationFactor: replicationFactor, in: current)
            let usable = Set(current.usableBrokers.map(\.nodeId))
            for (index, replicas) in zip(0..<partitions, placed) where !replicas.isEmpty {
                let live = self.replicated == nil ? replicas : replicas.filter(usable.contains)
                let isr = live.isEmpty ? replicas : live
                records.append(.partition(PartitionRecord(
                    partitionId: index, topicId: topicId, replicas: replicas, isr: isr,
                    leader: live.first ?? -1, leaderEpoch: 0, partitionEpoch: 0
                )))
            }
            for (key, value) in configs.sorted(by: { $0.key < $1.key }) {
                records.append(.config(ConfigRecord(
                    resourceType: MetadataRecord.ConfigResourceType.topic.rawValue, resourceName: name, name: key, value: value
                )))
            }
            return records
        }
        let created: MetadataImage
        if let replicated {
            created = try commitReplicated(replicated, validateOnly: validateOnly, records: build)
        } else {
            created = try commit(try build(image), validateOnly: validateOnly) { image throws(MetadataError) in
                if image.topics[name] != nil { throw MetadataError(.topicAlreadyExists, "Topic '\(name)' already exists.") }
            }
        }
        return created.topics[name] ?? MetadataImage.Topic(name: name, id: topicId, partitions: [], configs: configs)
    }

    /// Commits broker membership records (the cluster controller's).
    func commitBrokerRecords(_ records: [MetadataRecord]) throws(MetadataError) {
        _ = try commit(records, validateOnly: false) { _ throws(MetadataError) in }
    }

    /// Commits the records `make` computes from the image as every earlier change left it (the
    /// controller's checks and changes of partitions, which must see each other); returns the
    /// image they lead to.
    @discardableResult
    func commitComputed(_ make: (MetadataImage) throws(MetadataError) -> [MetadataRecord]) throws(MetadataError) -> MetadataImage {
        if let replicated {
            return try commitReplicated(replicated, validateOnly: false, records: make)
        }
        // One node: nothing else changes partitions concurrently.
        let records = try make(image)
        guard !records.isEmpty else { return image }
        return try commit(records, validateOnly: false) { _ throws(MetadataError) in }
    }

    /// Replica lists for new partitions: this node alone on a single node; in a cluster, spread
    /// over the usable brokers (`PartitionPlacement`).
    private func placement(_ indexes: Range<Int32>, replicationFactor: Int16, in image: MetadataImage) -> [[Int32]] {
        guard replicated != nil else { return indexes.map { _ in [nodeId] } }
        let brokers = image.usableBrokers
        return PartitionPlacement.assign(
            indexes, replicationFactor: Int(replicationFactor), brokers: brokers, start: Int.random(in: 0..<max(1, brokers.count)))
    }

    /// Deletes a topic.
    public func deleteTopic(name: String) throws(MetadataError) -> MetadataImage.Topic {
        guard let topic = image.topics[name] else {
            throw MetadataError(.unknownTopicOrPartition, "This server does not host this topic-partition.")
        }
        _ = try commit([.removeTopic(RemoveTopicRecord(topicId: topic.id))], validateOnly: false) { image throws(MetadataError) in
            if image.topics[name]?.id != topic.id {
                throw MetadataError(.unknownTopicOrPartition, "This server does not host this topic-partition.")
            }
        }
        return topic
    }

    /// Grows a topic to `totalCount` partitions.
    public func createPartitions(topic name: String, totalCount: Int32, validateOnly: Bool) throws(MetadataError) {
        let build = { (image: MetadataImage) throws(MetadataError) -> [MetadataRecord] in
            guard let topic = image.topics[name] else {
                throw MetadataError(.unknownTopicOrPartition, "This server does not host this topic-partition.")
            }
            let current = Int32(topic.partitions.count)
            guard totalCount > current else {
                throw MetadataError(.invalidPartitions, "Topic currently has \(current) partitions, which is higher than the requested \(totalCount).")
            }
            let replicationFactor = Int16(clamping: topic.partitions.first?.replicas.count ?? 1)
            if self.replicated != nil, Int(replicationFactor) > image.usableBrokers.count {
                throw MetadataError(.invalidReplicationFactor, "Unable to replicate the new partitions \(replicationFactor) time(s): only \(image.usableBrokers.count) broker(s) are usable.")
            }
            let placed = self.placement(current..<totalCount, replicationFactor: replicationFactor, in: image)
            return zip(current..<totalCount, placed).map { index, replicas in
                MetadataRecord.partition(PartitionRecord(
                    partitionId: index, topicId: topic.id, replicas: replicas, isr: replicas,
                    leader: replicas[0], leaderEpoch: 0, partitionEpoch: 0
                ))
            }
        }
        if let replicated {
            _ = try commitReplicated(replicated, validateOnly: validateOnly, records: build)
            return
        }
        let before = image.topics[name]?.partitions.count
        _ = try commit(try build(image), validateOnly: validateOnly) { image throws(MetadataError) in
            if image.topics[name]?.partitions.count != before {
                throw MetadataError(.invalidPartitions, "Topic \(name) changed concurrently.")
            }
        }
    }

    /// Sets (or, with a nil value, removes) topic config overrides.
    public func alterTopicConfigs(topic name: String, _ changes: [String: String?], validateOnly: Bool) throws(MetadataError) {
        guard image.topics[name] != nil else {
            throw MetadataError(.unknownTopicOrPartition, "Topic \(name) does not exist.")
        }
        let records = changes.sorted { $0.key < $1.key }.map { key, value in
            MetadataRecord.config(ConfigRecord(
                resourceType: MetadataRecord.ConfigResourceType.topic.rawValue, resourceName: name, name: key, value: value
            ))
        }
        _ = try commit(records, validateOnly: validateOnly) { _ throws(MetadataError) in }
    }

    /// Checks `precondition` against the current image, writes the records, applies them.
    private func commit(
        _ records: [MetadataRecord], validateOnly: Bool,
        precondition: (MetadataImage) throws(MetadataError) -> Void
    ) throws(MetadataError) -> MetadataImage {
        if let replicated {
            return try commitReplicated(replicated, validateOnly: validateOnly) { image throws(MetadataError) in
                try precondition(image)
                return records
            }
        }
        let result: Result<MetadataImage, MetadataError> = state.withLock { image in
            do {
                try precondition(image)
                if validateOnly { return .success(image) }
                var encoded: [ByteBuffer] = []
                for record in records { encoded.append(try record.encoded()) }
                try log.append(encoded)
                for record in records { image.apply(record) }
                publish(image)
                return .success(image)
            } catch let error as MetadataError {
                return .failure(error)
            } catch {
                return .failure(MetadataError(.kafkaStorageError, "metadata log write failed: \(error)"))
            }
        }
        let image = try result.get()
        if !validateOnly {
            for listener in listeners.withLock({ $0 }) { listener(records, image) }
        }
        return image
    }

    /// Writes one record computed from the current image under the lock, and applies it.
    private func commitAllocation(_ make: (MetadataImage) -> MetadataRecord) throws(MetadataError) -> MetadataImage {
        if let replicated {
            return try commitReplicated(replicated, validateOnly: false) { image throws(MetadataError) in [make(image)] }
        }
        let result: Result<MetadataImage, MetadataError> = state.withLock { image in
            let record = make(image)
            do {
                try log.append([try record.encoded()])
            } catch {
                return .failure(MetadataError(.kafkaStorageError, "metadata log write failed: \(error)"))
            }
            image.apply(record)
            publish(image)
            return .success(image)
        }
        return try result.get()
    }

    /// A change through the quorum: validated against the image as applied here, proposed, and
    /// returned once committed and applied. Changes wait for each other (`writer`), so each is
    /// validated against every change before it.
    private func commitReplicated(
        _ replicated: any ReplicatedMetadataLog, validateOnly: Bool,
        records make: (MetadataImage) throws(MetadataError) -> [MetadataRecord]
    ) throws(MetadataError) -> MetadataImage {
        let result: Result<MetadataImage, MetadataError> = writer.withLock { _ in
            do {
                try replicated.awaitActive()
                let records = try make(state.withLock { $0 })
                if validateOnly || records.isEmpty { return .success(state.withLock { $0 }) }
                var encoded: [ByteBuffer] = []
                for record in records { encoded.append(try record.encoded()) }
                try replicated.commit(encoded)
                return .success(state.withLock { $0 })
            } catch let error as MetadataError {
                return .failure(error)
            } catch {
                return .failure(MetadataError(.kafkaStorageError, "metadata record encoding failed: \(error)"))
            }
        }
        return try result.get()
    }

    /// Makes `image` the one readers see (called holding the change lock, so in order).
    private func publish(_ image: MetadataImage) {
        published.withLock { $0 = image }
    }

    /// Registers a function told about every committed change.
    func addListener(_ listener: @escaping @Sendable ([MetadataRecord], MetadataImage) -> Void) {
        listeners.withLock { $0.append(listener) }
    }
}

extension MetadataStore {
    /// Reserves the next `size` producer ids for this broker: a ProducerIdsRecord moves the
    /// cluster's next free id past them before any is used, so ids never repeat, even after a
    /// crash (KRaft's AllocateProducerIds).
    public func allocateProducerIds(count size: Int64) throws(MetadataError) -> Range<Int64> {
        var start: Int64 = 0
        _ = try commitAllocation { image in
            start = image.nextProducerId
            return .producerIds(ProducerIdsRecord(brokerId: nodeId, brokerEpoch: 0, nextProducerId: start + size))
        }
        return start..<(start + size)
    }

    /// Makes this node the leader of every partition of `name` again, in a new leader epoch: a
    /// PartitionRecord per partition with the leader epoch (and partition epoch) one higher.
    /// Kafka's coordinators take the leader epoch of their partition as their coordinator epoch,
    /// and it grows on each election; on one node a coordinator loading the partition is that
    /// election, so the epoch is durable (in the metadata log) and grows with every load.
    public func bumpLeaderEpochs(topic name: String) throws(MetadataError) -> MetadataImage.Topic {
        guard let topic = image.topics[name] else {
            throw MetadataError(.unknownTopicOrPartition, "This server does not host this topic-partition.")
        }
        var records: [MetadataRecord] = []
        for partition in topic.partitions {
            let (next, overflow) = partition.leaderEpoch.addingReportingOverflow(1)
            guard !overflow else {
                throw MetadataError(.unknownServerError, "the leader epoch of \(name)-\(partition.index) cannot grow past \(partition.leaderEpoch)")
            }
            records.append(.partition(partition.record(
                topicId: topic.id, leader: nodeId, leaderEpoch: next, partitionEpoch: partition.partitionEpoch &+ 1)))
        }
        let image = try commit(records, validateOnly: false) { image throws(MetadataError) in
            if image.topics[name]?.id != topic.id || image.topics[name]?.partitions != topic.partitions {
                throw MetadataError(.unknownTopicOrPartition, "Topic \(name) changed concurrently.")
            }
        }
        guard let bumped = image.topics[name] else {
            throw MetadataError(.unknownTopicOrPartition, "This server does not host this topic-partition.")
        }
        return bumped
    }

    /// Writes dynamic broker config changes to the log as ConfigRecords of resource type BROKER
    /// (a nil value removes the key), as KRaft stores them. The live values are kept by the
    /// ``BrokerConfigStore``; ``dynamicBrokerConfigs(broker:)`` reads them back at start.
    public func recordBrokerConfigs(broker resourceName: String, _ changes: [String: String?]) throws(MetadataError) {
        let records = changes.sorted { $0.key < $1.key }.map { key, value in
            MetadataRecord.config(ConfigRecord(
                resourceType: MetadataRecord.ConfigResourceType.broker.rawValue, resourceName: resourceName, name: key, value: value
            ))
        }
        _ = try commit(records, validateOnly: false) { _ throws(MetadataError) in }
    }

    /// The dynamic configs of the broker resource `resourceName` (a node id, or "" for the
    /// cluster-wide defaults) as the log holds them, replayed from its start.
    public func dynamicBrokerConfigs(broker resourceName: String) throws -> [String: String] {
        var configs: [String: String] = [:]
        for value in try log.replay() {
            guard case .config(let record)? = try MetadataRecord.decode(value),
                  record.resourceType == MetadataRecord.ConfigResourceType.broker.rawValue,
                  record.resourceName == resourceName else { continue }
            configs[record.name] = record.value
        }
        return configs
    }
}

extension MetadataImage {
    /// Applies one record to the image.
    package mutating func apply(_ record: MetadataRecord) {
        switch record {
        case .topic(let topic):
            put(Topic(name: topic.name, id: topic.topicId, partitions: [], configs: [:]))
        case .partition(let partition):
            guard let name = topicNamesById[partition.topicId] else { return }
            // Changed in place in the dictionary: a copy would copy every partition each time.
            topics[name]?.put(Partition(
                index: partition.partitionId, leader: partition.leader, leaderEpoch: partition.leaderEpoch,
                replicas: partition.replicas, isr: partition.isr, partitionEpoch: partition.partitionEpoch,
                addingReplicas: partition.addingReplicas, removingReplicas: partition.removingReplicas
            ))
        case .config(let config) where config.resourceType == MetadataRecord.ConfigResourceType.broker.rawValue:
            brokerConfigs[config.resourceName, default: [:]][config.name] = config.value
            if brokerConfigs[config.resourceName]?.isEmpty == true { brokerConfigs[config.resourceName] = nil }
        case .config(let config):
            guard config.resourceType == MetadataRecord.ConfigResourceType.topic.rawValue,
                  var topic = topics[config.resourceName] else { return }
            topic.configs[config.name] = config.value
            put(topic)
        case .removeTopic(let removal):
            if let name = topicNamesById[removal.topicId] { remove(topic: name) }
        case .producerIds(let record):
            nextProducerId = max(nextProducerId, record.nextProducerId)
        case .registerBroker(let record):
            register(record)
        case .fenceBroker(let record):
            setFenced(true, broker: record.id, epoch: record.epoch)
        case .unfenceBroker(let record):
            setFenced(false, broker: record.id, epoch: record.epoch)
        case .brokerRegistrationChange(let record):
            changeRegistration(record)
        case .userScramCredential(let record):
            guard let mechanism = ScramMechanism(rawValue: record.mechanism) else { return }
            scramCredentials[record.name, default: [:]][mechanism] = ScramCredential(
                salt: Array(buffer: record.salt), storedKey: Array(buffer: record.storedKey),
                serverKey: Array(buffer: record.serverKey), iterations: record.iterations)
        case .removeUserScramCredential(let record):
            guard let mechanism = ScramMechanism(rawValue: record.mechanism) else { return }
            scramCredentials[record.name]?[mechanism] = nil
            if scramCredentials[record.name]?.isEmpty == true { scramCredentials[record.name] = nil }
        case .accessControlEntry(let record):
            acls[record.id] = AclBinding(record)
        case .removeAccessControlEntry(let record):
            acls[record.id] = nil
        case .clientQuota(let record):
            // AlterClientQuotas admits only finite values; another one comes from a damaged log
            // and would make the image unequal to itself.
            guard record.remove || record.value.isFinite else { return }
            let entity = QuotaEntity(record.entity)
            clientQuotas[entity, default: [:]][record.key] = record.remove ? nil : record.value
            if clientQuotas[entity]?.isEmpty == true { clientQuotas[entity] = nil }
        }
    }
}
