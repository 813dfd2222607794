import BrookProtocol

extension AclBinding {
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
