import BrookProtocol

/// IncrementalAlterConfigs: changes single keys of a topic's overrides or of this broker's
/// dynamic configs with SET (0), DELETE (1), APPEND (2) and SUBTRACT (3); the last two only for
/// list keys, taking the current effective value as the starting list.
///
/// Errors follow Kafka, per resource: a resource named twice, a key given twice, a null value
/// for anything but DELETE, an unknown operation or resource type, or another broker's id fail
/// with INVALID_REQUEST; APPEND or SUBTRACT on a key that is not a list fails with INVALID_CONFIG;
/// the rest as for ``AlterConfigsHandler``. `validateOnly` checks everything and changes nothing.
struct IncrementalAlterConfigsHandler: RequestHandler {
    typealias Request = IncrementalAlterConfigsRequest
    let versions: ClosedRange<Int16> = 0...1
    let alterer: ConfigAlterer

    /// The operations, with Kafka's `AlterConfigOp.OpType` ids.
    enum Operation: Int8 {
        case set = 0, delete = 1, append = 2, subtract = 3

        var name: String {
            switch self {
            case .set: "SET"
            case .delete: "DELETE"
            case .append: "APPEND"
            case .subtract: "SUBTRACT"
            }
        }
    }

    func handle(_ request: IncrementalAlterConfigsRequest, context: RequestContext) async throws -> IncrementalAlterConfigsResponse? {
        var occurrences: [ResourceKey: Int] = [:]
        for resource in request.resources {
            occurrences[ResourceKey(type: resource.resourceType, name: resource.resourceName), default: 0] += 1
        }
        let responses = request.resources.map { resource in
            let duplicated = occurrences[ResourceKey(type: resource.resourceType, name: resource.resourceName), default: 0] > 1
            let error = ConfigResourceType.authorizationError(resource.resourceType, resource.resourceName, .alterConfigs, context: context)
                ?? alter(resource, duplicated: duplicated, validateOnly: request.validateOnly)
            return IncrementalAlterConfigsResponse.AlterConfigsResourceResponse(
                errorCode: (error?.code ?? .none).rawValue, errorMessage: error?.message,
                resourceType: resource.resourceType, resourceName: resource.resourceName
            )
        }
        return IncrementalAlterConfigsResponse(throttleTimeMs: 0, responses: responses)
    }

    private func alter(
        _ resource: IncrementalAlterConfigsRequest.AlterConfigsResource, duplicated: Bool, validateOnly: Bool
    ) -> MetadataError? {
        if duplicated { return MetadataError(.invalidRequest, "Each resource must appear at most once.") }
        let keys = resource.configs.map(\.name)
        let nullKeys = resource.configs.filter { $0.value == nil && $0.configOperation != Operation.delete.rawValue }.map(\.name)
        if let problem = alterer.preflightProblem(type: resource.resourceType, name: resource.resourceName, keys: keys, nullKeys: nullKeys) {
            return problem
        }
        var operations: [(key: String, operation: Operation, value: String?)] = []
        for entry in resource.configs {
            guard let operation = Operation(rawValue: entry.configOperation) else {
                return MetadataError(.invalidRequest, "Unknown operations type \(entry.configOperation)")
            }
            operations.append((entry.name, operation, entry.value))
        }
        do {
            if resource.resourceType == ConfigResourceType.topic.rawValue {
                try alterer.alterTopic(resource.resourceName, validateOnly: validateOnly) { overrides, broker throws(MetadataError) in
                    var updated = overrides
                    for (key, operation, value) in operations {
                        let isList = TopicConfigDefinitions.byName[key]?.definition.type == .list
                        let current = overrides[key] ?? broker.topicDefault(key)?.value
                        updated[key] = try Self.apply(operation, value, to: current, key: key, isList: isList,
                                                      notListMessage: "Can't \(operation.name) to key \(key) because its type is not LIST.")
                    }
                    return updated
                }
            } else {
                try alterer.alterBroker(resource.resourceName, validateOnly: validateOnly) { current throws(MetadataError) in
                    var changes: [String: String?] = [:]
                    for (key, operation, value) in operations {
                        let definition = BrokerConfigDefinitions.byName[key]
                        if definition == nil && (operation == .append || operation == .subtract) {
                            throw MetadataError(.invalidConfig, "Unknown config name: \(key)")
                        }
                        let verb = operation == .append ? "append" : "subtract"
                        changes[key] = .some(try Self.apply(operation, value, to: current.string(key), key: key, isList: definition?.type == .list,
                                                            notListMessage: "Config value \(verb) is not allowed for config key: \(key)"))
                    }
                    return changes
                }
            }
            return nil
        } catch {
            return error
        }
    }

    /// The value `key` has after `operation`; nil when it is deleted.
    static func apply(
        _ operation: Operation, _ value: String?, to current: String?, key: String, isList: Bool, notListMessage: String
    ) throws(MetadataError) -> String? {
        switch operation {
        case .set:
            return value
        case .delete:
            return nil
        case .append, .subtract:
            guard isList else { throw MetadataError(.invalidConfig, notListMessage) }
            var items = (current ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: " ") }.filter { !$0.isEmpty }
            let given = (value ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: " ") }.filter { !$0.isEmpty }
            if operation == .append {
                for item in given where !items.contains(item) { items.append(item) }
            } else {
                items.removeAll { given.contains($0) }
            }
            return items.joined(separator: ",")
        }
    }
}
