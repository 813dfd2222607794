import BrookProtocol

/// One ACL: who (principal, host) may or may not (permission) do what (operation) to which
/// resources (type, name and pattern), as Kafka's AclBinding and AccessControlEntryRecord hold it.
public struct AclBinding: Sendable, Hashable {
    public var resourceType: AclResourceType
    public var resourceName: String
    public var patternType: AclPatternType
    public var principal: String
    public var host: String
    public var operation: AclOperation
    public var permission: AclPermissionType

    public init(
        resourceType: AclResourceType, resourceName: String, patternType: AclPatternType, principal: String, host: String,
        operation: AclOperation, permission: AclPermissionType
    ) {
        self.resourceType = resourceType
        self.resourceName = resourceName
        self.patternType = patternType
        self.principal = principal
        self.host = host
        self.operation = operation
        self.permission = permission
    }

    init(_ record: AccessControlEntryRecord) {
        self.init(
            resourceType: AclResourceType(rawValue: record.resourceType) ?? .unknown, resourceName: record.resourceName,
            patternType: AclPatternType(rawValue: record.patternType) ?? .unknown, principal: record.principal, host: record.host,
            operation: AclOperation(rawValue: record.operation) ?? .unknown,
            permission: AclPermissionType(rawValue: record.permissionType) ?? .unknown)
    }

    func record(id: Uuid) -> AccessControlEntryRecord {
        AccessControlEntryRecord(
            id: id, resourceType: resourceType.rawValue, resourceName: resourceName, patternType: patternType.rawValue,
            principal: principal, host: host, operation: operation.rawValue, permissionType: permission.rawValue)
    }
}
