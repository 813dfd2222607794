import BrookProtocol

/// Config administration (kafka-configs; Kafka's `Admin.describeConfigs` and
/// `incrementalAlterConfigs`) for topics, brokers and the broker defaults.
///
/// A broker's own configs are asked of that broker, as Kafka requires; topics and the broker
/// defaults of the controller. A resource the broker refuses throws ``ClientError/broker(_:_:)``
/// with the Kafka error (UNKNOWN_TOPIC_OR_PARTITION, INVALID_CONFIG, INVALID_REQUEST...) and
/// the broker's message.
public struct ConfigAdmin: Sendable {
    public let cluster: Cluster

    public init(cluster: Cluster) {
        self.cluster = cluster
    }

    /// Every config key of `resource` (or only `keys`) with its value, source and flags.
    /// Synonyms and documentation come only when asked for and when the broker's DescribeConfigs
    /// carries them (v1+ and v3+). A v0 broker reports no source: its entries say
    /// `defaultConfig` or `unknown`.
    public func describe(
        _ resource: ConfigResource, keys: [String]? = nil, includeSynonyms: Bool = false, includeDocumentation: Bool = false
    ) async throws -> [ConfigEntry] {
        let described = try await describe([resource], keys: keys, includeSynonyms: includeSynonyms, includeDocumentation: includeDocumentation)
        return described[resource] ?? []
    }

    /// The configs of several resources, each as ``describe(_:keys:includeSynonyms:includeDocumentation:)``
    /// gives them; throws for the first resource the broker refuses.
    public func describe(
        _ resources: [ConfigResource], keys: [String]? = nil, includeSynonyms: Bool = false, includeDocumentation: Bool = false
    ) async throws -> [ConfigResource: [ConfigEntry]] {
        var described: [ConfigResource: [ConfigEntry]] = [:]
        for (node, group) in Self.route(resources) {
            let connection = try await connection(for: node)
            let version = try connection.negotiatedVersion(of: DescribeConfigsRequest.self)
            var request = DescribeConfigsRequest(resources: group.map {
                DescribeConfigsRequest.DescribeConfigsResource(resourceType: $0.kind.rawValue, resourceName: $0.name, configurationKeys: keys)
            })
            if version >= 1 { request.includeSynonyms = includeSynonyms }
            if version >= 3 { request.includeDocumentation = includeDocumentation }
            let response = try await connection.send(request, version: version)
            for result in response.results {
                let resource = ConfigResource(kind: ConfigResource.Kind(rawValue: result.resourceType) ?? .topic, name: result.resourceName)
                try throwIfKafkaError(result.errorCode, result.errorMessage, resource.description)
                described[resource] = result.configs.map { Self.entry($0, version: version) }
            }
        }
        return described
    }

    /// Applies `alterations` to `resource` in one step (all or nothing), or with `validateOnly`
    /// only checks them. APPEND and SUBTRACT work on list keys only (INVALID_CONFIG otherwise).
    public func incrementalAlter(_ resource: ConfigResource, _ alterations: [ConfigAlteration], validateOnly: Bool = false) async throws {
        let connection = try await connection(for: Self.route([resource]).first?.node)
        let request = IncrementalAlterConfigsRequest(resources: [
            IncrementalAlterConfigsRequest.AlterConfigsResource(
                resourceType: resource.kind.rawValue, resourceName: resource.name,
                configs: alterations.map {
                    IncrementalAlterConfigsRequest.AlterableConfig(
                        name: $0.name, configOperation: $0.operation.rawValue, value: $0.operation == .delete ? nil : $0.value
                    )
                }
            ),
        ], validateOnly: validateOnly)
        let response = try await connection.send(request)
        guard let result = response.responses.first else {
            throw ClientError.notFound("the IncrementalAlterConfigs response does not mention \(resource)")
        }
        try throwIfKafkaError(result.errorCode, result.errorMessage, resource.description)
    }

    /// The resources grouped by the broker that must answer for them: a broker (or broker
    /// logger) resource naming a node id goes to that node; the rest (nil) to the controller.
    private static func route(_ resources: [ConfigResource]) -> [(node: Int32?, resources: [ConfigResource])] {
        var order: [Int32?] = []
        var groups: [Int32?: [ConfigResource]] = [:]
        for resource in resources {
            let node: Int32? = resource.kind == .topic ? nil : Int32(resource.name)
            if groups[node] == nil { order.append(node) }
            groups[node, default: []].append(resource)
        }
        return order.map { ($0, groups[$0] ?? []) }
    }

    private func connection(for node: Int32?) async throws -> BrokerConnection {
        if let node { return try await cluster.connection(to: node) }
        return try await cluster.controllerConnection()
    }

    private static func entry(_ config: DescribeConfigsResponse.DescribeConfigsResourceResult, version: Int16) -> ConfigEntry {
        let source: ConfigEntry.Source = version == 0
            ? (config.isDefault ? .defaultConfig : .unknown)
            : ConfigEntry.Source(rawValue: config.configSource) ?? .unknown
        return ConfigEntry(
            name: config.name, value: config.value, source: source, isSensitive: config.isSensitive, isReadOnly: config.readOnly,
            synonyms: config.synonyms.map {
                ConfigEntry.Synonym(name: $0.name, value: $0.value, source: ConfigEntry.Source(rawValue: $0.source) ?? .unknown)
            },
            documentation: version >= 3 ? config.documentation : nil
        )
    }
}
