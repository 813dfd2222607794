/// The shared state handlers are built from. Each handler takes only the parts it needs.
struct BrokerContext: Sendable {
    let config: BrokerConfigStore
    let metadata: MetadataStore
    let topicCreator: TopicCreator
    /// The ACL authorizer; nil when `authorizer.class.name` is not set.
    var authorizer: AclAuthorizer? = nil
    /// This node's id.
    var nodeId: Int32 { metadata.nodeId }
}
