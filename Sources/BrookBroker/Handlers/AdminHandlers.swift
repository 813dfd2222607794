import BrookProtocol

extension RequestRouter {
    /// Registers the administrative APIs: topics, partitions, configs, cluster description. Those
    /// that change metadata (written and fsynced to the metadata log, logs created or deleted)
    /// are served on `threads`.
    mutating func registerAdminHandlers(_ context: BrokerContext, on threads: BlockingWorkThreads, controller: ControllerClient? = nil) {
        let alterer = ConfigAlterer(config: context.config, metadata: context.metadata)
        registerChange(CreateTopicsHandler(config: context.config, metadata: context.metadata, topicCreator: context.topicCreator),
                       on: threads, controller: controller)
        registerChange(DeleteTopicsHandler(config: context.config, metadata: context.metadata, topicCreator: context.topicCreator),
                       on: threads, controller: controller)
        registerChange(CreatePartitionsHandler(metadata: context.metadata, topicCreator: context.topicCreator),
                       on: threads, controller: controller)
        // Topic configs and brokers' dynamic configs both live in the cluster's metadata: in a
        // cluster the controller records them, and each broker applies its own as they commit.
        registerChange(AlterConfigsHandler(alterer: alterer), on: threads, controller: controller)
        registerChange(IncrementalAlterConfigsHandler(alterer: alterer), on: threads, controller: controller)
        register(DescribeConfigsHandler(config: context.config, metadata: context.metadata))
        register(DescribeClusterHandler(metadata: context.metadata))
        registerChange(ElectLeadersHandler(metadata: context.metadata), on: threads, controller: controller)
        registerChange(AlterPartitionReassignmentsHandler(metadata: context.metadata), on: threads, controller: controller)
        register(ListPartitionReassignmentsHandler(metadata: context.metadata))
        register(DescribeTopicPartitionsHandler(metadata: context.metadata))
        registerChange(AlterUserScramCredentialsHandler(metadata: context.metadata), on: threads, controller: controller)
        register(DescribeUserScramCredentialsHandler(metadata: context.metadata))
        let acls = context.authorizer != nil
        registerChange(CreateAclsHandler(metadata: context.metadata, authorizerEnabled: acls), on: threads, controller: controller)
        register(DescribeAclsHandler(metadata: context.metadata, authorizerEnabled: acls))
        registerChange(DeleteAclsHandler(metadata: context.metadata, authorizerEnabled: acls), on: threads, controller: controller)
        registerChange(AlterClientQuotasHandler(metadata: context.metadata), on: threads, controller: controller)
        register(DescribeClientQuotasHandler(metadata: context.metadata))
    }

    /// Registers a handler of metadata changes; in a cluster, wrapped to forward what
    /// `needsController` selects to the active controller.
    private mutating func registerChange<Handler: RequestHandler>(
        _ handler: Handler, on threads: BlockingWorkThreads, controller: ControllerClient?,
        needsController: @escaping @Sendable (Handler.Request) -> Bool = { _ in true }
    ) {
        guard let controller else {
            register(handler, on: threads)
            return
        }
        register(ForwardedToController(inner: handler, controller: controller, needsController: needsController), on: threads)
    }
}
