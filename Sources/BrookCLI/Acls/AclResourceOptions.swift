import ArgumentParser
import BrookClient
import BrookProtocol

/// kafka-acls' resource, principal, host and operation flags, and the `--producer` and
/// `--consumer` shortcuts, turned into the ACLs they name.
struct AclResourceOptions: ParsableArguments, Sendable {
    @Option(name: .customLong("topic"), help: "A topic (repeatable; '*' for all topics).") var topics: [String] = []
    @Option(name: .customLong("group"), help: "A consumer group (repeatable; '*' for all groups).") var groups: [String] = []
    @Option(name: .customLong("transactional-id"), help: "A transactional id (repeatable; '*' for all).") var transactionalIds: [String] = []
    @Option(name: .customLong("delegation-token"), help: "A delegation token (repeatable).") var delegationTokens: [String] = []
    @Option(name: .customLong("user-principal"), help: "A user principal resource (repeatable).") var userPrincipals: [String] = []
    @Flag(name: .customLong("cluster"), help: "The cluster resource.") var cluster = false
    @Option(name: .customLong("resource-pattern-type"),
            help: "literal or prefixed (adding); also any or match (listing and removing). Default: literal.")
    var resourcePatternType: String = "literal"

    @Option(name: .customLong("allow-principal"), help: "A principal to allow, as Type:name (repeatable).") var allowPrincipals: [String] = []
    @Option(name: .customLong("deny-principal"), help: "A principal to deny, as Type:name (repeatable).") var denyPrincipals: [String] = []
    @Option(name: .customLong("allow-host"), help: "A host the allowed principals may connect from (default: *).") var allowHosts: [String] = []
    @Option(name: .customLong("deny-host"), help: "A host the denied principals are refused from (default: *).") var denyHosts: [String] = []
    @Option(name: .customLong("operation"), help: "An operation: Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, All (repeatable; default All).")
    var operations: [String] = []
    @Flag(name: .customLong("producer"), help: "The ACLs of a producer: WRITE, DESCRIBE and CREATE on the topics (and WRITE, DESCRIBE on the transactional ids).")
    var producer = false
    @Flag(name: .customLong("idempotent"), help: "With --producer: IDEMPOTENT_WRITE on the cluster.") var idempotent = false
    @Flag(name: .customLong("consumer"), help: "The ACLs of a consumer: READ and DESCRIBE on the topics, READ on the groups.")
    var consumer = false

    /// The resource patterns named, of `patternType`.
    func resources(_ patternType: AclPatternType) -> [(AclResourceType, String)] {
        topics.map { (.topic, $0) } + groups.map { (.group, $0) } + transactionalIds.map { (.transactionalId, $0) }
            + delegationTokens.map { (.delegationToken, $0) } + userPrincipals.map { (.user, $0) }
            + (cluster ? [(.cluster, AclResourceType.clusterName)] : [])
    }

    /// `--resource-pattern-type`, refused when `adding` and it is not literal or prefixed.
    func patternType(adding: Bool) throws -> AclPatternType {
        guard let type = AclPatternType.allCases.first(where: { $0.name == resourcePatternType.uppercased() }),
            type != .unknown, !adding || type == .literal || type == .prefixed
        else {
            throw CommandFailure(adding
                ? "A '--resource-pattern-type' value of '\(resourcePatternType)' is not valid when adding acls: use literal or prefixed"
                : "Invalid --resource-pattern-type \(resourcePatternType): use literal, prefixed, any or match")
        }
        return type
    }

    /// The operations named (All when none is).
    func namedOperations() throws -> [AclOperation] {
        guard !operations.isEmpty else { return [.all] }
        return try operations.map { name in
            guard let operation = AclOperation(name: name), operation != .unknown, operation != .any else {
                throw CommandFailure("Invalid operation \(name): use Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite or All")
            }
            return operation
        }
    }

    /// The principals with their permission and hosts.
    func entries() throws -> [(principal: String, host: String, permission: AclPermissionType)] {
        for principal in allowPrincipals + denyPrincipals where !principal.contains(":") {
            throw CommandFailure("Invalid principal \(principal): a principal is Type:name, e.g. User:alice")
        }
        let allow = allowPrincipals.flatMap { principal in (allowHosts.isEmpty ? ["*"] : allowHosts).map { (principal, $0, AclPermissionType.allow) } }
        let deny = denyPrincipals.flatMap { principal in (denyHosts.isEmpty ? ["*"] : denyHosts).map { (principal, $0, AclPermissionType.deny) } }
        return allow + deny
    }

    /// Every ACL the flags name for `add` (and `remove` with exact flags).
    func bindings() throws -> [AclAdmin.Binding] {
        let pattern = try patternType(adding: true)
        let entries = try entries()
        guard !entries.isEmpty else { throw CommandFailure("You must specify one of: --allow-principal, --deny-principal when trying to add ACLs.") }
        var resourceOperations: [(AclResourceType, String, [AclOperation])] = []
        if producer || consumer {
            guard operations.isEmpty else { throw CommandFailure("--operation cannot be used with --producer or --consumer") }
            if producer {
                guard !topics.isEmpty else { throw CommandFailure("With --producer you must specify a --topic") }
                resourceOperations += topics.map { (.topic, $0, [.write, .describe, .create]) }
                resourceOperations += transactionalIds.map { (.transactionalId, $0, [.write, .describe]) }
                if idempotent { resourceOperations.append((.cluster, AclResourceType.clusterName, [.idempotentWrite])) }
            }
            if consumer {
                guard !topics.isEmpty, !groups.isEmpty else { throw CommandFailure("With --consumer you must specify a --topic and a --group") }
                resourceOperations += topics.map { (.topic, $0, [.read, .describe]) }
                resourceOperations += groups.map { (.group, $0, [.read]) }
            }
        } else {
            let named = try namedOperations()
            let resources = resources(pattern)
            guard !resources.isEmpty else {
                throw CommandFailure("You must specify one of: --topic, --cluster, --group, --transactional-id, --delegation-token or --user-principal")
            }
            resourceOperations = resources.map { ($0.0, $0.1, named) }
        }
        var bindings: [AclAdmin.Binding] = []
        for (type, name, operations) in resourceOperations {
            let patternType: AclPatternType = type == .cluster ? .literal : pattern
            for entry in entries {
                for operation in operations {
                    let binding = AclAdmin.Binding(
                        resourceType: type, resourceName: name, patternType: patternType, principal: entry.principal, host: entry.host,
                        operation: operation, permission: entry.permission)
                    if !bindings.contains(binding) { bindings.append(binding) }
                }
            }
        }
        return bindings
    }
}

/// How kafka-acls prints resource patterns and entries.
enum AclRendering {
    static func pattern(_ type: AclResourceType, _ name: String, _ patternType: AclPatternType) -> String {
        "ResourcePattern(resourceType=\(type.name), name=\(name), patternType=\(patternType.name))"
    }

    static func entry(_ binding: AclAdmin.Binding) -> String {
        "(principal=\(binding.principal), host=\(binding.host), operation=\(binding.operation.name), permissionType=\(binding.permission.name))"
    }

    /// `heading` `ResourcePattern(...)`: then one tab-indented entry per line, per resource.
    static func grouped(_ bindings: [AclAdmin.Binding], heading: String) -> [String] {
        var order: [String] = []
        var byPattern: [String: [AclAdmin.Binding]] = [:]
        for binding in bindings {
            let key = pattern(binding.resourceType, binding.resourceName, binding.patternType)
            if byPattern[key] == nil { order.append(key) }
            byPattern[key, default: []].append(binding)
        }
        return order.flatMap { key in
            ["\(heading) `\(key)`: "] + (byPattern[key] ?? []).map { " \t\(entry($0)) " } + [""]
        }
    }
}
