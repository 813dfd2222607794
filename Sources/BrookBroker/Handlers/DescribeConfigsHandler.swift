import BrookProtocol

/// DescribeConfigs: every config key of a topic (resource type 2) or of this broker (type 4,
/// named by its node id) with its effective value, where it comes from (v1+; `isDefault` in v0),
/// whether it is read-only or sensitive, its type (v3+), its documentation (v3+, when asked) and
/// its synonyms (v1+, when asked), optionally only the keys in `configurationKeys`.
///
/// Defaults are listed too, with their source, as clients expect. The broker resource named ""
/// describes the cluster-wide dynamic defaults, of which Brook has none, so it lists nothing.
/// Errors follow Kafka, per resource: an illegal topic name gives INVALID_TOPIC_EXCEPTION, a
/// missing topic UNKNOWN_TOPIC_OR_PARTITION, another broker's id or an unsupported resource type
/// INVALID_REQUEST.
struct DescribeConfigsHandler: RequestHandler {
    typealias Request = DescribeConfigsRequest
    let versions: ClosedRange<Int16> = 0...4
    let config: BrokerConfigStore
    let metadata: MetadataStore

    private typealias Result = DescribeConfigsResponse.DescribeConfigsResult

    func handle(_ request: DescribeConfigsRequest, context: RequestContext) async throws -> DescribeConfigsResponse? {
        let version = context.apiVersion
        let broker = config.current
        let image = metadata.image
        let results = request.resources.map { resource -> Result in
            func failure(_ code: ErrorCode, _ message: String) -> Result {
                Result(errorCode: code.rawValue, errorMessage: message, resourceType: resource.resourceType,
                       resourceName: resource.resourceName, configs: [])
            }
            if let refusal = ConfigResourceType.authorizationError(
                resource.resourceType, resource.resourceName, .describeConfigs, context: context) {
                return failure(refusal.code, refusal.message)
            }
            let described: [ConfigDescription]
            switch ConfigResourceType(rawValue: resource.resourceType) {
            case .topic:
                let name = resource.resourceName
                if let problem = TopicName.problem(with: name) { return failure(.invalidTopicException, problem) }
                guard let topic = image.topics[name] else {
                    return failure(.unknownTopicOrPartition, AdminChecks.unknownTopicMessage)
                }
                described = ConfigDescriber.topic(overrides: topic.configs, broker: broker)
            case .broker:
                let name = resource.resourceName
                if name.isEmpty {
                    described = []
                } else if let id = Int32(name) {
                    guard id == metadata.nodeId else {
                        return failure(.invalidRequest, "Unexpected broker id, expected \(metadata.nodeId) or empty string, but received \(name)")
                    }
                    described = ConfigDescriber.broker(broker)
                } else {
                    return failure(.invalidRequest, "Broker id must be an integer, but it is: \(name)")
                }
            default:
                return failure(.invalidRequest, "Unsupported resource type: \(resource.resourceType)")
            }
            let wanted = resource.configurationKeys.flatMap { $0.isEmpty ? nil : Set($0) }
            let configs = described.filter { wanted?.contains($0.name) ?? true }.map {
                Self.entry($0, version: version, synonyms: request.includeSynonyms, documentation: request.includeDocumentation)
            }
            return Result(errorCode: ErrorCode.none.rawValue, errorMessage: nil, resourceType: resource.resourceType,
                          resourceName: resource.resourceName, configs: configs)
        }
        return DescribeConfigsResponse(throttleTimeMs: 0, results: results)
    }

    private static func entry(
        _ config: ConfigDescription, version: Int16, synonyms: Bool, documentation: Bool
    ) -> DescribeConfigsResponse.DescribeConfigsResourceResult {
        var entry = DescribeConfigsResponse.DescribeConfigsResourceResult(
            name: config.name, value: config.value, readOnly: config.readOnly, configSource: config.source.rawValue,
            isSensitive: config.isSensitive, configType: config.type.rawValue,
            documentation: documentation ? config.documentation : nil
        )
        if version == 0 { entry.isDefault = config.source == .defaultConfig }
        if synonyms {
            entry.synonyms = config.synonyms.map {
                DescribeConfigsResponse.DescribeConfigsSynonym(name: $0.name, value: $0.value, source: $0.source.rawValue)
            }
        }
        return entry
    }
}
