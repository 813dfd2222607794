import BrookCoordinator

extension MetadataImage {
    /// The topics consumer groups may subscribe to: every topic but the internal ones.
    var topicCatalog: TopicCatalog {
        var topics: [String: TopicCatalog.Topic] = [:]
        for (name, topic) in self.topics where !topic.isInternal {
            topics[name] = TopicCatalog.Topic(id: topic.id, partitionCount: Int32(topic.partitions.count))
        }
        return TopicCatalog(topics: topics)
    }
}
