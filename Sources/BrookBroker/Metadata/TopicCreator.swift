import BrookProtocol

/// Creates topics on first use (`auto.create.topics.enable`), with the broker's defaults, and
/// carries the hooks that keep partition logs in step with topic changes made by any handler
/// (Metadata, CreateTopics, CreatePartitions, DeleteTopics).
struct TopicCreator: Sendable {
    let metadata: MetadataStore
    let enabled: Bool
    let partitions: Int32
    let replicationFactor: Int16
    /// Called after a topic is created, to open its partition logs.
    var onCreate: @Sendable (MetadataImage.Topic) async throws -> Void
    /// Called after partitions are added to a topic, with the updated topic and the new
    /// partitions only, to open their logs.
    var onCreatePartitions: @Sendable (MetadataImage.Topic, [MetadataImage.Partition]) async throws -> Void = { _, _ in }
    /// Called after a topic is deleted (it is no longer in the image), to drop its partition logs.
    var onDelete: @Sendable (MetadataImage.Topic) async -> Void = { _ in }
    /// Where an auto-creation runs (it writes the metadata log and creates the logs, both
    /// fsynced): the threads of the admin APIs, not the cooperative pool a Metadata request is
    /// served on. Nil: where the caller runs (tests).
    var threads: BlockingWorkThreads? = nil
    /// In a cluster, the active controller, which a broker that is not it asks to create topics.
    var controller: ControllerClient? = nil

    /// Creates `name` if auto-creation is enabled; returns the topic (also when another request
    /// created it first), or nil when it may not be created.
    func autoCreate(_ name: String) async -> MetadataImage.Topic? {
        guard case .created(let topic) = await autoCreation(of: name) else { return nil }
        return topic
    }

    /// What asking to create `name` on first use led to.
    enum AutoCreation: Equatable {
        case created(MetadataImage.Topic)
        /// The active controller took the request; this broker's image has yet to show the
        /// topic (Kafka answers LEADER_NOT_AVAILABLE meanwhile, and clients ask again).
        case requested
        /// Not created: auto-creation is off, the name is internal, or it failed.
        case refused
    }

    /// Creates `name` if auto-creation is enabled, here or, on a broker of a cluster that is not
    /// the active controller, by asking the controller (CreateTopics with this broker's defaults).
    func autoCreation(of name: String) async -> AutoCreation {
        guard enabled, !TopicName.internalTopics.contains(name) else { return .refused }
        if let controller, !controller.isController {
            return await requestCreation(of: name, from: controller)
        }
        return await withTaskExecutorPreference(threads) { await create(name) }.map { .created($0) } ?? .refused
    }

    private func requestCreation(of name: String, from controller: ControllerClient) async -> AutoCreation {
        do {
            try await controller.createTopic(name, partitions: partitions, replicationFactor: replicationFactor)
        } catch {
            return .refused
        }
        if let topic = metadata.image.topics[name] { return .created(topic) }
        return .requested
    }

    private func create(_ name: String) async -> MetadataImage.Topic? {
        do {
            let topic = try metadata.createTopic(name: name, partitions: partitions, replicationFactor: replicationFactor)
            try await created(topic)
            return topic
        } catch where error.code == .topicAlreadyExists {
            return metadata.image.topics[name]
        } catch {
            return nil
        }
    }

    /// Opens the logs of a topic just created. When they cannot be created (a full or failed
    /// disk), the topic is deleted again and KAFKA_STORAGE_ERROR thrown: a topic is never
    /// reported created without its logs.
    func created(_ topic: MetadataImage.Topic) async throws(MetadataError) {
        do {
            try await onCreate(topic)
        } catch {
            if (try? metadata.deleteTopic(name: topic.name)) != nil { await onDelete(topic) }
            throw MetadataError(.kafkaStorageError, "The logs of topic '\(topic.name)' could not be created: \(error)")
        }
    }

    /// Opens the logs of partitions just added; KAFKA_STORAGE_ERROR when they cannot be created
    /// (the partitions stay in the metadata, offline until the broker can open them).
    func partitionsAdded(_ topic: MetadataImage.Topic, _ added: [MetadataImage.Partition]) async throws(MetadataError) {
        do {
            try await onCreatePartitions(topic, added)
        } catch {
            throw MetadataError(.kafkaStorageError, "The logs of the new partitions of '\(topic.name)' could not be created: \(error)")
        }
    }
}
