extension RequestRouter {
    /// Registers the administrative APIs: topics, partitions, configs, cluster description.
    mutating func registerAdminHandlers(_ context: BrokerContext) {
        let alterer = ConfigAlterer(config: context.config, metadata: context.metadata)
        register(CreateTopicsHandler(config: context.config, metadata: context.metadata, topicCreator: context.topicCreator))
        register(DeleteTopicsHandler(config: context.config, metadata: context.metadata, topicCreator: context.topicCreator))
        register(CreatePartitionsHandler(metadata: context.metadata, topicCreator: context.topicCreator))
        register(DescribeConfigsHandler(config: context.config, metadata: context.metadata))
        register(AlterConfigsHandler(alterer: alterer))
        register(IncrementalAlterConfigsHandler(alterer: alterer))
        register(DescribeClusterHandler(metadata: context.metadata))
        register(ElectLeadersHandler(metadata: context.metadata))
        register(DescribeTopicPartitionsHandler(metadata: context.metadata))
    }
}
