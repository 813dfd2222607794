import BrookProtocol

/// ACL administration (Kafka's `Admin.createAcls`, `describeAcls` and `deleteAcls`; kafka-acls).
public struct AclAdmin: Sendable {
    public let cluster: Cluster

    public init(cluster: Cluster) {
        self.cluster = cluster
    }

    /// One ACL: a resource pattern and an access control entry.
    public typealias Binding = AclBinding

    /// Which ACLs to list or delete: nil and the ANY codes match everything.
    public struct Filter: Sendable, Hashable {
        public var resourceType: AclResourceType = .any
        public var resourceName: String?
        public var patternType: AclPatternType = .any
        public var principal: String?
        public var host: String?
        public var operation: AclOperation = .any
        public var permission: AclPermissionType = .any

        public init(
            resourceType: AclResourceType = .any, resourceName: String? = nil, patternType: AclPatternType = .any,
            principal: String? = nil, host: String? = nil, operation: AclOperation = .any, permission: AclPermissionType = .any
        ) {
            self.resourceType = resourceType
            self.resourceName = resourceName
            self.patternType = patternType
            self.principal = principal
            self.host = host
            self.operation = operation
            self.permission = permission
        }

        /// The filter that matches exactly `binding`.
        public init(exactly binding: Binding) {
            self.init(
                resourceType: binding.resourceType, resourceName: binding.resourceName, patternType: binding.patternType,
                principal: binding.principal, host: binding.host, operation: binding.operation, permission: binding.permission)
        }
    }

    /// Adds `bindings`; throws for the first the broker refuses.
    public func create(_ bindings: [Binding]) async throws {
        let connection = try await cluster.controllerConnection()
        let response = try await connection.send(CreateAclsRequest(creations: bindings.map {
            .init(
                resourceType: $0.resourceType.rawValue, resourceName: $0.resourceName, resourcePatternType: $0.patternType.rawValue,
                principal: $0.principal, host: $0.host, operation: $0.operation.rawValue, permissionType: $0.permission.rawValue)
        }))
        for result in response.results {
            try throwIfKafkaError(result.errorCode, result.errorMessage)
        }
    }

    /// The ACLs `filter` matches.
    public func describe(_ filter: Filter = Filter()) async throws -> [Binding] {
        let connection = try await cluster.controllerConnection()
        let response = try await connection.send(DescribeAclsRequest(
            resourceTypeFilter: filter.resourceType.rawValue, resourceNameFilter: filter.resourceName,
            patternTypeFilter: filter.patternType.rawValue, principalFilter: filter.principal, hostFilter: filter.host,
            operation: filter.operation.rawValue, permissionType: filter.permission.rawValue))
        try throwIfKafkaError(response.errorCode, response.errorMessage)
        return response.resources.flatMap { resource in
            resource.acls.map {
                Binding(
                    resourceType: AclResourceType(rawValue: resource.resourceType) ?? .unknown, resourceName: resource.resourceName,
                    patternType: AclPatternType(rawValue: resource.patternType) ?? .unknown, principal: $0.principal, host: $0.host,
                    operation: AclOperation(rawValue: $0.operation) ?? .unknown, permission: AclPermissionType(rawValue: $0.permissionType) ?? .unknown)
            }
        }
    }

    /// Deletes the ACLs each filter matches; returns them, per filter.
    @discardableResult
    public func delete(_ filters: [Filter]) async throws -> [[Binding]] {
        let connection = try await cluster.controllerConnection()
        let response = try await connection.send(DeleteAclsRequest(filters: filters.map {
            .init(
                resourceTypeFilter: $0.resourceType.rawValue, resourceNameFilter: $0.resourceName, patternTypeFilter: $0.patternType.rawValue,
                principalFilter: $0.principal, hostFilter: $0.host, operation: $0.operation.rawValue, permissionType: $0.permission.rawValue)
        }))
        return try response.filterResults.map { result in
            try throwIfKafkaError(result.errorCode, result.errorMessage)
            return result.matchingAcls.map {
                Binding(
                    resourceType: AclResourceType(rawValue: $0.resourceType) ?? .unknown, resourceName: $0.resourceName,
                    patternType: AclPatternType(rawValue: $0.patternType) ?? .unknown, principal: $0.principal, host: $0.host,
                    operation: AclOperation(rawValue: $0.operation) ?? .unknown, permission: AclPermissionType(rawValue: $0.permissionType) ?? .unknown)
            }
        }
    }
}
