/// The codes of Kafka's ACL model, as CreateAcls, DescribeAcls, DeleteAcls and
/// AccessControlEntryRecord carry them, with the names kafka-acls prints.
public enum AclResourceType: Int8, Sendable, CaseIterable {
    case unknown = 0
    case any = 1
    case topic = 2
    case group = 3
    case cluster = 4
    case transactionalId = 5
    case delegationToken = 6
    case user = 7

    public var name: String {
        switch self {
        case .unknown: "UNKNOWN"
        case .any: "ANY"
        case .topic: "TOPIC"
        case .group: "GROUP"
        case .cluster: "CLUSTER"
        case .transactionalId: "TRANSACTIONAL_ID"
        case .delegationToken: "DELEGATION_TOKEN"
        case .user: "USER"
        }
    }

    /// The cluster resource's only name.
    public static let clusterName = "kafka-cluster"
}

public enum AclPatternType: Int8, Sendable, CaseIterable {
    case unknown = 0
    /// A filter matching any pattern type.
    case any = 1
    /// A filter matching the ACLs that apply to a name: literal, wildcard and prefixed ones.
    case match = 2
    case literal = 3
    case prefixed = 4

    public var name: String {
        switch self {
        case .unknown: "UNKNOWN"
        case .any: "ANY"
        case .match: "MATCH"
        case .literal: "LITERAL"
        case .prefixed: "PREFIXED"
        }
    }
}

public enum AclOperation: Int8, Sendable, CaseIterable {
    case unknown = 0
    case any = 1
    case all = 2
    case read = 3
    case write = 4
    case create = 5
    case delete = 6
    case alter = 7
    case describe = 8
    case clusterAction = 9
    case describeConfigs = 10
    case alterConfigs = 11
    case idempotentWrite = 12
    case createTokens = 13
    case describeTokens = 14
    case twoPhaseCommit = 15

    public var name: String {
        switch self {
        case .unknown: "UNKNOWN"
        case .any: "ANY"
        case .all: "ALL"
        case .read: "READ"
        case .write: "WRITE"
        case .create: "CREATE"
        case .delete: "DELETE"
        case .alter: "ALTER"
        case .describe: "DESCRIBE"
        case .clusterAction: "CLUSTER_ACTION"
        case .describeConfigs: "DESCRIBE_CONFIGS"
        case .alterConfigs: "ALTER_CONFIGS"
        case .idempotentWrite: "IDEMPOTENT_WRITE"
        case .createTokens: "CREATE_TOKENS"
        case .describeTokens: "DESCRIBE_TOKENS"
        case .twoPhaseCommit: "TWO_PHASE_COMMIT"
        }
    }

    /// The operation named `name` as kafka-acls writes it (any case, `-` or `_`, or
    /// CamelCase such as `IdempotentWrite`).
    public init?(name: String) {
        let squeezed = name.uppercased().filter { $0 != "-" && $0 != "_" }
        guard let found = Self.allCases.first(where: { $0.name.filter { $0 != "_" } == squeezed }) else { return nil }
        self = found
    }
}

public enum AclPermissionType: Int8, Sendable, CaseIterable {
    case unknown = 0
    case any = 1
    case deny = 2
    case allow = 3

    public var name: String {
        switch self {
        case .unknown: "UNKNOWN"
        case .any: "ANY"
        case .deny: "DENY"
        case .allow: "ALLOW"
        }
    }
}

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
        resourceType: AclResourceType, resourceName: String, patternType: AclPatternType = .literal, principal: String,
        host: String = "*", operation: AclOperation, permission: AclPermissionType = .allow
    ) {
        self.resourceType = resourceType
        self.resourceName = resourceName
        self.patternType = patternType
        self.principal = principal
        self.host = host
        self.operation = operation
        self.permission = permission
    }
}
