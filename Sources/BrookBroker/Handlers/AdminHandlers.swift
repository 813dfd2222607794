extension RequestRouter {
    /// Registers the administrative APIs: topics, partitions, configs, cluster description. Those
    /// that change metadata (written and fsynced to the metadata log, logs created or deleted)
    /// are served on `threads`.
    mutating func registerAdminHandlers(_ context: BrokerContext, on threads: BlockingWorkThreads) {
        let alterer = ConfigAlterer(config: context.config, metadata: context.metadata)
        register(CreateTopicsHandler(config: context.config, metadata: context.metadata, topicCreator: context.topicCreator), on: threads)
        register(DeleteTopicsHandler(config: context.config, metadata: context.metadata, topicCreator: context.topicCreator), on: threads)
        register(CreatePartitionsHandler(metadata: context.metadata, topicCreator: context.topicCreator), on: threads)
        register(DescribeConfigsHandler(config: context.config, metadata: context.metadata))
        register(AlterConfigsHandler(alterer: alterer), on: threads)
        register(IncrementalAlterConfigsHandler(alterer: alterer), on: threads)
        register(DescribeClusterHandler(metadata: context.metadata))
        register(ElectLeadersHandler(metadata: context.metadata))
        register(DescribeTopicPartitionsHandler(metadata: context.metadata))
    }
}
