import BrookProtocol

/// CreateAcls: adds ACLs to the metadata log (an ACL already there is not added twice). Needs
/// ALTER on the cluster; without an authorizer, SECURITY_DISABLED.
struct CreateAclsHandler: RequestHandler {
    typealias Request = CreateAclsRequest
    let versions: ClosedRange<Int16> = 0...3
    let metadata: MetadataStore
    let authorizerEnabled: Bool

    func handle(_ request: CreateAclsRequest, context: RequestContext) async throws -> CreateAclsResponse? {
        func all(_ code: ErrorCode, _ message: String) -> CreateAclsResponse {
            CreateAclsResponse(results: request.creations.map { _ in .init(errorCode: code.rawValue, errorMessage: message) })
        }
        if let refusal = AclRequests.refusal(authorizerEnabled: authorizerEnabled, context: context, needs: .alter) {
            return all(refusal.code, refusal.message)
        }
        let wanted = request.creations.map {
            AclBinding(
                resourceType: AclResourceType(rawValue: $0.resourceType) ?? .unknown, resourceName: $0.resourceName,
                patternType: AclPatternType(rawValue: $0.resourcePatternType) ?? .unknown, principal: $0.principal, host: $0.host,
                operation: AclOperation(rawValue: $0.operation) ?? .unknown, permission: AclPermissionType(rawValue: $0.permissionType) ?? .unknown)
        }
        var results = wanted.map { acl in
            CreateAclsResponse.AclCreationResult(
                errorCode: acl.invalidReason == nil ? 0 : ErrorCode.invalidRequest.rawValue, errorMessage: acl.invalidReason)
        }
        do {
            try metadata.commitComputed { image throws(MetadataError) in
                var present = Set(image.acls.values)
                var records: [MetadataRecord] = []
                for acl in wanted where acl.invalidReason == nil && present.insert(acl).inserted {
                    records.append(.accessControlEntry(acl.record(id: .random())))
                }
                return records
            }
        } catch {
            for index in results.indices where results[index].errorCode == 0 {
                results[index] = .init(errorCode: error.code.rawValue, errorMessage: error.message)
            }
        }
        return CreateAclsResponse(results: results)
    }
}

/// DescribeAcls: the ACLs a filter matches, grouped by resource pattern. Needs DESCRIBE on the
/// cluster.
struct DescribeAclsHandler: RequestHandler {
    typealias Request = DescribeAclsRequest
    let versions: ClosedRange<Int16> = 0...3
    let metadata: MetadataStore
    let authorizerEnabled: Bool

    func handle(_ request: DescribeAclsRequest, context: RequestContext) async throws -> DescribeAclsResponse? {
        func failed(_ code: ErrorCode, _ message: String) -> DescribeAclsResponse {
            DescribeAclsResponse(errorCode: code.rawValue, errorMessage: message)
        }
        if let refusal = AclRequests.refusal(authorizerEnabled: authorizerEnabled, context: context, needs: .describe) {
            return failed(refusal.code, refusal.message)
        }
        let filter = AclFilter(
            resourceType: request.resourceTypeFilter, resourceName: request.resourceNameFilter, patternType: request.patternTypeFilter,
            principal: request.principalFilter, host: request.hostFilter, operation: request.operation, permission: request.permissionType)
        if let reason = filter.invalidReason { return failed(.invalidRequest, reason) }
        var response = DescribeAclsResponse(errorCode: 0, errorMessage: nil)
        response.resources = Self.grouped(metadata.image.acls.values.filter(filter.matches))
        return response
    }

    /// ACLs grouped by resource pattern, in a stable order.
    static func grouped(_ acls: some Sequence<AclBinding>) -> [DescribeAclsResponse.DescribeAclsResource] {
        let groups = Dictionary(grouping: acls) { "\($0.resourceType.rawValue)/\($0.patternType.rawValue)/\($0.resourceName)" }
        return groups.keys.sorted().compactMap { key in
            guard let members = groups[key], let first = members.first else { return nil }
            return .init(
                resourceType: first.resourceType.rawValue, resourceName: first.resourceName, patternType: first.patternType.rawValue,
                acls: members.sorted { ($0.principal, $0.host, $0.operation.rawValue, $0.permission.rawValue) < ($1.principal, $1.host, $1.operation.rawValue, $1.permission.rawValue) }
                    .map { .init(principal: $0.principal, host: $0.host, operation: $0.operation.rawValue, permissionType: $0.permission.rawValue) })
        }
    }
}

/// DeleteAcls: removes the ACLs each filter matches and lists them. Needs ALTER on the cluster.
struct DeleteAclsHandler: RequestHandler {
    typealias Request = DeleteAclsRequest
    let versions: ClosedRange<Int16> = 0...3
    let metadata: MetadataStore
    let authorizerEnabled: Bool

    func handle(_ request: DeleteAclsRequest, context: RequestContext) async throws -> DeleteAclsResponse? {
        func all(_ code: ErrorCode, _ message: String) -> DeleteAclsResponse {
            DeleteAclsResponse(filterResults: request.filters.map { _ in .init(errorCode: code.rawValue, errorMessage: message) })
        }
        if let refusal = AclRequests.refusal(authorizerEnabled: authorizerEnabled, context: context, needs: .alter) {
            return all(refusal.code, refusal.message)
        }
        let filters = request.filters.map {
            AclFilter(
                resourceType: $0.resourceTypeFilter, resourceName: $0.resourceNameFilter, patternType: $0.patternTypeFilter,
                principal: $0.principalFilter, host: $0.hostFilter, operation: $0.operation, permission: $0.permissionType)
        }
        var matched: [[AclBinding]] = filters.map { _ in [] }
        do {
            try metadata.commitComputed { image throws(MetadataError) in
                var removed = Set<Uuid>()
                var records: [MetadataRecord] = []
                for (index, filter) in filters.enumerated() where filter.invalidReason == nil {
                    let hits = image.acls.filter { filter.matches($0.value) }
                    matched[index] = hits.map(\.value)
                    for id in hits.keys where removed.insert(id).inserted {
                        records.append(.removeAccessControlEntry(RemoveAccessControlEntryRecord(id: id)))
                    }
                }
                return records
            }
        } catch {
            return all(error.code, error.message)
        }
        return DeleteAclsResponse(filterResults: zip(filters, matched).map { filter, acls in
            if let reason = filter.invalidReason { return .init(errorCode: ErrorCode.invalidRequest.rawValue, errorMessage: reason) }
            return .init(errorCode: 0, errorMessage: nil, matchingAcls: acls.map {
                .init(
                    errorCode: 0, errorMessage: nil, resourceType: $0.resourceType.rawValue, resourceName: $0.resourceName,
                    patternType: $0.patternType.rawValue, principal: $0.principal, host: $0.host, operation: $0.operation.rawValue,
                    permissionType: $0.permission.rawValue)
            })
        })
    }
}

/// What CreateAcls, DescribeAcls and DeleteAcls share.
enum AclRequests {
    /// Why the request is refused before it is looked at: SECURITY_DISABLED without an
    /// authorizer, CLUSTER_AUTHORIZATION_FAILED without `operation` on the cluster; nil to go on.
    static func refusal(authorizerEnabled: Bool, context: RequestContext, needs operation: AclOperation) -> (code: ErrorCode, message: String)? {
        guard authorizerEnabled else { return (.securityDisabled, "No Authorizer is configured.") }
        guard context.authorizedOnCluster(operation) else { return (.clusterAuthorizationFailed, "Cluster authorization failed.") }
        return nil
    }
}
