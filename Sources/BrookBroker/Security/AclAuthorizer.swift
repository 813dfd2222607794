import BrookProtocol
import Foundation
import Synchronization

/// Brook's authorizer, with the semantics of Kafka's StandardAuthorizer: super users may do
/// anything; otherwise the ACLs of the resource (literal, `*` and prefixed) decide, DENY before
/// ALLOW; a resource no ACL names is allowed only with `allow.everyone.if.no.acl.found`.
///
/// The ACLs come from the metadata image and are replaced whole when they change; each change
/// bumps ``version``, which connections' caches compare with (one atomic load per check).
public final class AclAuthorizer: Sendable {
    /// Kafka's names for its authorizer, which turn Brook's on; and Brook's own.
    static let classNames: Set<String> = [
        "org.apache.kafka.metadata.authorizer.StandardAuthorizer", "kafka.security.authorizer.AclAuthorizer", "brook.AclAuthorizer",
    ]

    let superUsers: Set<String>
    let allowIfNoAcl: Bool
    private let index = Mutex(AclIndex(acls: []))
    private let changes = Atomic<UInt64>(0)

    init(superUsers: Set<String>, allowEveryoneIfNoAclFound: Bool) {
        self.superUsers = superUsers
        self.allowIfNoAcl = allowEveryoneIfNoAclFound
    }

    /// The authorizer `config` turns on (`authorizer.class.name`), or nil when none is set.
    static func of(_ config: BrokerConfig) throws -> AclAuthorizer? {
        guard let name = config.string("authorizer.class.name")?.trimmingCharacters(in: .whitespaces), !name.isEmpty else { return nil }
        guard classNames.contains(name) else {
            throw BrokerConfig.InvalidConfig(message: "Invalid value \(name) for configuration authorizer.class.name: Brook's authorizer is org.apache.kafka.metadata.authorizer.StandardAuthorizer (or brook.AclAuthorizer)")
        }
        let superUsers = (config.string("super.users") ?? "").split(separator: ";")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return AclAuthorizer(
            superUsers: Set(superUsers), allowEveryoneIfNoAclFound: config.string("allow.everyone.if.no.acl.found")?.lowercased() == "true")
    }

    /// Replaces the ACLs.
    func update(_ acls: some Collection<AclBinding>) {
        let built = AclIndex(acls: acls)
        index.withLock { $0 = built }
        changes.add(1, ordering: .releasing)
    }

    /// Grows with every ``update(_:)``.
    var version: UInt64 { changes.load(ordering: .acquiring) }

    /// Whether `principal` connecting from `host` may do `operation` on the resource.
    func authorize(principal: String, host: String, _ operation: AclOperation, _ type: AclResourceType, _ name: String) -> Bool {
        if superUsers.contains(principal) { return true }
        return index.withLock { $0 }.authorize(principal: principal, host: host, operation, type, name, allowIfNoAcl: allowIfNoAcl)
    }

    /// Whether `principal` may do `operation` on some resource of `type` (Kafka's
    /// `authorizeByResourceType`: an ALLOW on any name or prefix not undone by a DENY that covers it).
    func authorizeAny(principal: String, host: String, _ operation: AclOperation, _ type: AclResourceType) -> Bool {
        if superUsers.contains(principal) { return true }
        return index.withLock { $0 }.authorizeAny(principal: principal, host: host, operation, type, allowIfNoAcl: allowIfNoAcl)
    }
}

/// The ACLs arranged for lookups: literal ones by resource, prefixed ones by type.
struct AclIndex: Sendable {
    private struct Key: Hashable {
        var type: AclResourceType
        var name: String
    }

    private var literal: [Key: [AclBinding]] = [:]
    private var prefixed: [AclResourceType: [AclBinding]] = [:]
    let all: [AclBinding]

    init(acls: some Collection<AclBinding>) {
        all = Array(acls)
        for acl in acls {
            switch acl.patternType {
            case .literal: literal[Key(type: acl.resourceType, name: acl.resourceName), default: []].append(acl)
            case .prefixed: prefixed[acl.resourceType, default: []].append(acl)
            default: break
            }
        }
    }

    /// The ACLs that apply to a resource.
    private func applying(to type: AclResourceType, _ name: String) -> [AclBinding] {
        var found = literal[Key(type: type, name: name)] ?? []
        if name != AclBinding.wildcard { found += literal[Key(type: type, name: AclBinding.wildcard)] ?? [] }
        found += (prefixed[type] ?? []).filter { name.hasPrefix($0.resourceName) }
        return found
    }

    func authorize(principal: String, host: String, _ operation: AclOperation, _ type: AclResourceType, _ name: String, allowIfNoAcl: Bool) -> Bool {
        let acls = applying(to: type, name)
        if acls.isEmpty { return allowIfNoAcl }
        let mine = acls.filter { $0.applies(toPrincipal: principal, host: host) }
        if mine.contains(where: { $0.permission == .deny && ($0.operation == .all || $0.operation == operation) }) { return false }
        return mine.contains { $0.permission == .allow && $0.allows(operation) }
    }

    func authorizeAny(principal: String, host: String, _ operation: AclOperation, _ type: AclResourceType, allowIfNoAcl: Bool) -> Bool {
        let mine = all.filter { $0.resourceType == type && $0.applies(toPrincipal: principal, host: host) }
        let denies = mine.filter { $0.permission == .deny && ($0.operation == .all || $0.operation == operation) }
        // A DENY on every name (`*` or the empty prefix) leaves nothing.
        if denies.contains(where: { ($0.patternType == .literal && $0.resourceName == AclBinding.wildcard) || ($0.patternType == .prefixed && $0.resourceName.isEmpty) }) {
            return false
        }
        for allow in mine where allow.permission == .allow && allow.allows(operation) {
            let covered = denies.contains { deny in
                switch (deny.patternType, allow.patternType) {
                case (.literal, .literal): deny.resourceName == allow.resourceName
                case (.prefixed, _): allow.resourceName.hasPrefix(deny.resourceName)
                default: false
                }
            }
            if !covered { return true }
        }
        return allowIfNoAcl && !all.contains { $0.resourceType == type }
    }
}

extension AclBinding {
    func applies(toPrincipal principal: String, host: String) -> Bool {
        (self.principal == principal || self.principal == Self.wildcardPrincipal) && (self.host == host || self.host == Self.wildcard)
    }

    /// Whether this ALLOW grants `operation`: the same, ALL, or one that implies it (READ, WRITE,
    /// DELETE and ALTER imply DESCRIBE; ALTER_CONFIGS implies DESCRIBE_CONFIGS).
    func allows(_ operation: AclOperation) -> Bool {
        if self.operation == .all || self.operation == operation { return true }
        switch operation {
        case .describe: return [.read, .write, .delete, .alter].contains(self.operation)
        case .describeConfigs: return self.operation == .alterConfigs
        default: return false
        }
    }
}
