/// The shared state handlers are built from. Each handler takes only the parts it needs.
struct BrokerContext: Sendable {
    let config: BrokerConfigStore
    let metadata: MetadataStore
    let topicCreator: TopicCreator
    /// This node's id.
    var nodeId: Int32 { metadata.nodeId }
}
