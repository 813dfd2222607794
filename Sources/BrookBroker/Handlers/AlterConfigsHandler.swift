import BrookProtocol

/// AlterConfigs (the legacy, non-incremental API): replaces the whole set of overrides of a topic
/// or of this broker's dynamic configs with the given ones; keys not given are removed.
///
/// Kafka's semantics, answered per resource: a resource named twice fails with INVALID_REQUEST
/// (every occurrence), as do repeated keys, null values, unknown resource types and broker ids
/// other than this node's. Topics: an illegal name fails with INVALID_TOPIC_EXCEPTION, an unknown
/// key or a bad value with INVALID_CONFIG, a missing topic with UNKNOWN_TOPIC_OR_PARTITION.
/// Brokers: see ``ConfigAlterer/alterBroker(_:validateOnly:changes:)``. `validateOnly` checks
/// everything and changes nothing.
struct AlterConfigsHandler: RequestHandler {
    typealias Request = AlterConfigsRequest
    let versions: ClosedRange<Int16> = 0...2
    let alterer: ConfigAlterer

    func handle(_ request: AlterConfigsRequest, context: RequestContext) async throws -> AlterConfigsResponse? {
        var occurrences: [ResourceKey: Int] = [:]
        for resource in request.resources {
            occurrences[ResourceKey(type: resource.resourceType, name: resource.resourceName), default: 0] += 1
        }
        let responses = request.resources.map { resource in
            let error = ConfigResourceType.authorizationError(resource.resourceType, resource.resourceName, .alterConfigs, context: context)
                ?? alter(resource, duplicated: occurrences[ResourceKey(type: resource.resourceType, name: resource.resourceName), default: 0] > 1,
                         validateOnly: request.validateOnly)
            return AlterConfigsResponse.AlterConfigsResourceResponse(
                errorCode: (error?.code ?? .none).rawValue, errorMessage: error?.message,
                resourceType: resource.resourceType, resourceName: resource.resourceName
            )
        }
        return AlterConfigsResponse(throttleTimeMs: 0, responses: responses)
    }

    private func alter(_ resource: AlterConfigsRequest.AlterConfigsResource, duplicated: Bool, validateOnly: Bool) -> MetadataError? {
        if duplicated { return MetadataError(.invalidRequest, "Each resource must appear at most once.") }
        let keys = resource.configs.map(\.name)
        let nullKeys = resource.configs.filter { $0.value == nil }.map(\.name)
        if let problem = alterer.preflightProblem(type: resource.resourceType, name: resource.resourceName, keys: keys, nullKeys: nullKeys) {
            return problem
        }
        var given: [String: String] = [:]
        for entry in resource.configs { given[entry.name] = entry.value }
        do {
            if resource.resourceType == ConfigResourceType.topic.rawValue {
                try alterer.alterTopic(resource.resourceName, validateOnly: validateOnly) { _, _ in given }
            } else {
                try alterer.alterBroker(resource.resourceName, validateOnly: validateOnly) { current in
                    var changes: [String: String?] = given.mapValues { .some($0) }
                    for key in alterer.dynamicKeys(of: resource.resourceName, current: current) where given[key] == nil {
                        changes[key] = .some(nil)
                    }
                    return changes
                }
            }
            return nil
        } catch {
            return error
        }
    }
}
