import BrookProtocol

/// A filter over ACLs, as DescribeAcls and DeleteAcls carry it (Kafka's AclBindingFilter): nil
/// name, principal or host and the ANY codes match everything; the MATCH pattern type matches
/// the ACLs that apply to the name (literal, wildcard and prefixed ones).
struct AclFilter: Sendable, Equatable {
    var resourceType: AclResourceType
    var resourceName: String?
    var patternType: AclPatternType
    var principal: String?
    var host: String?
    var operation: AclOperation
    var permission: AclPermissionType

    /// Why the filter cannot match anything meaningful (UNKNOWN codes), or nil.
    var invalidReason: String? {
        if resourceType == .unknown { return "Resource type UNKNOWN is not a valid filter" }
        if patternType == .unknown { return "Pattern type UNKNOWN is not a valid filter" }
        if operation == .unknown { return "Operation UNKNOWN is not a valid filter" }
        if permission == .unknown { return "Permission type UNKNOWN is not a valid filter" }
        return nil
    }

    func matches(_ acl: AclBinding) -> Bool {
        guard resourceType == .any || resourceType == acl.resourceType,
            operation == .any || operation == acl.operation,
            permission == .any || permission == acl.permission,
            principal.map({ $0 == acl.principal }) ?? true,
            host.map({ $0 == acl.host }) ?? true
        else { return false }
        switch patternType {
        case .any:
            return resourceName.map { $0 == acl.resourceName } ?? true
        case .match:
            guard let name = resourceName else { return true }
            switch acl.patternType {
            case .literal: return acl.resourceName == name || acl.resourceName == AclBinding.wildcard
            case .prefixed: return name.hasPrefix(acl.resourceName)
            default: return false
            }
        default:
            return patternType == acl.patternType && (resourceName.map { $0 == acl.resourceName } ?? true)
        }
    }
}

extension AclFilter {
    /// A filter as DescribeAcls and DeleteAcls encode it (codes this build does not know are
    /// UNKNOWN, which ``invalidReason`` refuses).
    init(
        resourceType: Int8, resourceName: String?, patternType: Int8, principal: String?, host: String?, operation: Int8,
        permission: Int8
    ) {
        self.init(
            resourceType: AclResourceType(rawValue: resourceType) ?? .unknown, resourceName: resourceName,
            patternType: AclPatternType(rawValue: patternType) ?? .unknown, principal: principal, host: host,
            operation: AclOperation(rawValue: operation) ?? .unknown, permission: AclPermissionType(rawValue: permission) ?? .unknown)
    }
}

extension AclBinding {
    /// The literal resource name that matches every name.
    static let wildcard = "*"
    /// The principal and host that match everyone.
    static let wildcardPrincipal = "User:*"

    /// Why Kafka would refuse to create this ACL, or nil.
    var invalidReason: String? {
        switch resourceType {
        case .unknown, .any: return "Invalid resource type \(resourceType.name)"
        default: break
        }
        guard patternType == .literal || patternType == .prefixed else { return "Invalid pattern type \(patternType.name)" }
        switch operation {
        case .unknown, .any: return "Invalid operation \(operation.name)"
        default: break
        }
        guard permission == .allow || permission == .deny else { return "Invalid permission type \(permission.name)" }
        guard !resourceName.isEmpty else { return "Resource name should not be empty" }
        if resourceType == .cluster, resourceName != AclResourceType.clusterName || patternType != .literal {
            return "The only valid name for the CLUSTER resource is \(AclResourceType.clusterName)"
        }
        guard let colon = principal.firstIndex(of: ":"), colon != principal.startIndex, principal.index(after: colon) != principal.endIndex else {
            return "Could not parse principal from `\(principal)` (no colon is present separating the principal type from the principal name)"
        }
        guard !host.isEmpty else { return "Host should not be empty" }
        return nil
    }
}
