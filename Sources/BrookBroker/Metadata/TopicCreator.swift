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
    let onCreate: @Sendable (MetadataImage.Topic) async -> Void
    /// Called after partitions are added to a topic, with the updated topic and the new
    /// partitions only, to open their logs.
    var onCreatePartitions: @Sendable (MetadataImage.Topic, [MetadataImage.Partition]) async -> Void = { _, _ in }
    /// Called after a topic is deleted (it is no longer in the image), to drop its partition logs.
    var onDelete: @Sendable (MetadataImage.Topic) async -> Void = { _ in }

    /// Creates `name` if auto-creation is enabled; returns the topic (also when another request
    /// created it first), or nil when it may not be created.
    func autoCreate(_ name: String) async -> MetadataImage.Topic? {
        guard enabled, !TopicName.internalTopics.contains(name) else { return nil }
        do {
            let topic = try metadata.createTopic(name: name, partitions: partitions, replicationFactor: replicationFactor)
            await onCreate(topic)
            return topic
        } catch where error.code == .topicAlreadyExists {
            return metadata.image.topics[name]
        } catch {
            return nil
        }
    }
}
