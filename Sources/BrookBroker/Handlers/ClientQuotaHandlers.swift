import BrookProtocol

/// AlterClientQuotas: sets and removes quotas of users, client ids and IPs (ClientQuotaRecords).
/// Each entity's changes are made wholly or refused with INVALID_REQUEST. Needs ALTER_CONFIGS on
/// the cluster.
struct AlterClientQuotasHandler: RequestHandler {
    typealias Request = AlterClientQuotasRequest
    let versions: ClosedRange<Int16> = 0...1
    let metadata: MetadataStore

    func handle(_ request: AlterClientQuotasRequest, context: RequestContext) async throws -> AlterClientQuotasResponse? {
        func entity(_ entry: AlterClientQuotasRequest.EntryData) -> [AlterClientQuotasResponse.EntityData] {
            entry.entity.map { .init(entityType: $0.entityType, entityName: $0.entityName) }
        }
        guard context.authorizedOnCluster(.alterConfigs) else {
            return AlterClientQuotasResponse(entries: request.entries.map {
                .init(errorCode: ErrorCode.clusterAuthorizationFailed.rawValue, errorMessage: "Cluster authorization failed.", entity: entity($0))
            })
        }
        var problems: [String?] = []
        var records: [MetadataRecord] = []
        for entry in request.entries {
            let problem = Self.problem(with: entry)
            problems.append(problem)
            guard problem == nil else { continue }
            let target = QuotaEntity(entry.entity.map { ClientQuotaRecord.EntityData(entityType: $0.entityType, entityName: $0.entityName) })
            for op in entry.ops {
                records.append(.clientQuota(ClientQuotaRecord(entity: target.recordEntity, key: op.key, value: op.remove ? 0 : op.value, remove: op.remove)))
            }
        }
        var failure: MetadataError?
        if !request.validateOnly, !records.isEmpty {
            do {
                try metadata.commitComputed { _ throws(MetadataError) in records }
            } catch {
                failure = error
            }
        }
        return AlterClientQuotasResponse(entries: zip(request.entries, problems).map { entry, problem in
            if let problem { return .init(errorCode: ErrorCode.invalidRequest.rawValue, errorMessage: problem, entity: entity(entry)) }
            if let failure { return .init(errorCode: failure.code.rawValue, errorMessage: failure.message, entity: entity(entry)) }
            return .init(errorCode: 0, errorMessage: nil, entity: entity(entry))
        })
    }

    /// Why Kafka would refuse `entry`, or nil.
    static func problem(with entry: AlterClientQuotasRequest.EntryData) -> String? {
        let types = entry.entity.map(\.entityType)
        guard Set(types).count == types.count else { return "Duplicate entity type in the quota entity" }
        let target = QuotaEntity(entry.entity.map { ClientQuotaRecord.EntityData(entityType: $0.entityType, entityName: $0.entityName) })
        if let reason = target.invalidReason { return reason }
        let keys = entry.ops.map(\.key)
        guard Set(keys).count == keys.count else { return "Duplicate quota key in the request" }
        for op in entry.ops {
            guard target.validKeys.contains(op.key) else { return "Invalid configuration key \(op.key) for this entity" }
            guard !op.remove else { continue }
            guard op.value.isFinite, op.value > 0 else { return "Illegal value \(op.value) for quota \(op.key): it must be positive" }
            if op.key.hasSuffix("_byte_rate") || op.key == "connection_creation_rate", op.value.rounded() != op.value || op.value > Double(Int64.max) {
                return "Illegal value \(op.value) for quota \(op.key): it must be a whole number"
            }
        }
        return nil
    }
}

/// DescribeClientQuotas: the quotas of the entities matching the filter's components (EXACT
/// name, DEFAULT, or any SPECIFIED name, per entity type; `strict`: no other types). Needs
/// DESCRIBE_CONFIGS on the cluster.
struct DescribeClientQuotasHandler: RequestHandler {
    typealias Request = DescribeClientQuotasRequest
    let versions: ClosedRange<Int16> = 0...1
    let metadata: MetadataStore

    enum MatchType: Int8 {
        case exact = 0
        case `default` = 1
        case specified = 2
    }

    func handle(_ request: DescribeClientQuotasRequest, context: RequestContext) async throws -> DescribeClientQuotasResponse? {
        func failed(_ code: ErrorCode, _ message: String) -> DescribeClientQuotasResponse {
            DescribeClientQuotasResponse(errorCode: code.rawValue, errorMessage: message, entries: nil)
        }
        guard context.authorizedOnCluster(.describeConfigs) else { return failed(.clusterAuthorizationFailed, "Cluster authorization failed.") }
        var components: [String: (MatchType, String?)] = [:]
        for component in request.components {
            guard components[component.entityType] == nil else {
                return failed(.invalidRequest, "Duplicate entity type \(component.entityType) in the filter")
            }
            guard let match = MatchType(rawValue: component.matchType) else {
                return failed(.invalidRequest, "Unknown match type \(component.matchType)")
            }
            components[component.entityType] = (match, component.match)
        }
        if components[QuotaEntity.ip] != nil, components.count > 1 {
            return failed(.invalidRequest, "Invalid entity filter component combination: ip with user or client-id")
        }
        let entries = metadata.image.clientQuotas.filter { entity, _ in
            if request.strict, Set(entity.parts.keys) != Set(components.keys) { return false }
            return components.allSatisfy { type, wanted in
                guard let name = entity.parts[type] else { return false }
                switch wanted.0 {
                case .exact: return name == wanted.1
                case .default: return name == nil
                case .specified: return name != nil
                }
            }
        }
        var response = DescribeClientQuotasResponse(errorCode: 0, errorMessage: nil)
        response.entries = entries.sorted { "\($0.key.recordEntity)" < "\($1.key.recordEntity)" }.map { entity, values in
            .init(
                entity: entity.recordEntity.map { .init(entityType: $0.entityType, entityName: $0.entityName) },
                values: values.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: $0.value) })
        }
        return response
    }
}
