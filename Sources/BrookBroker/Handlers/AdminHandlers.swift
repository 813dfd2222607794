extension RequestRouter {
    /// Registers the administrative APIs: topics, partitions, configs, cluster description.
    mutating func registerAdminHandlers(_ context: BrokerContext) {
    }
}
