import Logging

/// What the group and the transaction coordinator hosts share: which partitions of their topic
/// this broker coordinates, and the coordinator loaded for them (``OwnedCoordinatorLoader``).
///
/// On one node the broker coordinates everything: the first lookup creates the topic and loads
/// the coordinator at once. In a cluster it coordinates the keys whose partitions it leads; a
/// missing topic is asked of the active controller (COORDINATOR_NOT_AVAILABLE until it exists),
/// and the coordinator reloads whenever the partitions led here change.
final class CoordinatorHosting<Coordinator: Sendable>: Sendable {
    let topic: CoordinatorTopic
    let metadata: MetadataStore
    /// In a cluster, the active controller; nil on one node.
    let controller: ControllerClient?
    let logger: Logger
    private let loaders: OwnedCoordinatorLoader<Coordinator>

    /// `load` builds and replays a coordinator for an ownership; `shutdown` stops a retired one.
    init(
        topic: CoordinatorTopic, metadata: MetadataStore, controller: ControllerClient?, logger: Logger,
        loader: @escaping @Sendable (CoordinatorOwnership) -> CoordinatorLoader<Coordinator>,
        shutdown: @escaping @Sendable (Coordinator) -> Void
    ) {
        self.topic = topic
        self.metadata = metadata
        self.controller = controller
        self.logger = logger
        self.loaders = OwnedCoordinatorLoader(make: loader, shutdown: shutdown)
    }

    /// The partitions this broker coordinates: all on one node; in a cluster those it leads,
    /// nil while the topic does not exist.
    var ownership: CoordinatorOwnership? {
        guard controller != nil else { return .everything }
        return CoordinatorOwnership.of(topic.name, in: metadata.image, nodeId: metadata.nodeId)
    }

    /// Whether this broker coordinates `key` (a group or transactional id): in a cluster, false
    /// when another broker leads its partition (NOT_COORDINATOR); true on one node, and while the
    /// topic does not exist (the lookup then asks for it).
    func coordinates(_ key: String) -> Bool {
        guard controller != nil, let leader = metadata.image.coordinatorLeader(of: key, in: topic.name) else { return true }
        return leader == metadata.nodeId
    }

    /// The coordinator once loaded.
    var started: Coordinator? { loaders.ready }

    /// The coordinator, or ``CoordinatorUnavailable/loadInProgress`` while it loads.
    func coordinator() throws(CoordinatorUnavailable) -> Coordinator {
        guard let ownership else {
            requestTopic()
            throw .failed("\(topic.name) is being created")
        }
        return try loaders.loader(for: ownership).coordinator(inline: controller == nil && metadata.image.topics[topic.name] == nil)
    }

    /// In a cluster, asks for the topic if it does not exist yet.
    func requestTopic() {
        guard let controller, metadata.image.topics[topic.name] == nil else { return }
        topic.requestCreation(metadata: metadata, controller: controller, logger: logger)
    }

    /// Retires a coordinator loaded for partitions this broker no longer leads (the services'
    /// timers call it, so that no stale coordinator keeps working).
    func followOwnership() {
        guard controller != nil, let ownership else { return }
        _ = loaders.loader(for: ownership)
    }

    /// Starts replaying the topic in the background if it exists (broker start-up).
    func loadIfPresent() {
        guard metadata.image.topics[topic.name] != nil, let ownership else { return }
        loaders.loader(for: ownership).loadInBackground()
    }

    /// Loads the coordinator on this thread (tests).
    func loadNow() throws -> Coordinator {
        guard let ownership else { throw CoordinatorTopicMissing() }
        return try loaders.loader(for: ownership).loadNow()
    }

    /// Stops handing the coordinator out (shutdown).
    func close() { loaders.close() }
}
