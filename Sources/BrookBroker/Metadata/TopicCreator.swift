import BrookProtocol

/// Creates topics on first use (`auto.create.topics.enable`), with the broker's defaults.
struct TopicCreator: Sendable {
    let metadata: MetadataStore
    let enabled: Bool
    let partitions: Int32
    let replicationFactor: Int16
    /// Called after a topic is created, to open its partition logs.
    let onCreate: @Sendable (MetadataImage.Topic) async -> Void

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
