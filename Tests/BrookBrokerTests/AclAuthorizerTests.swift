@testable import BrookBroker
import BrookProtocol
import Logging
import Testing

/// The authorizer's semantics, as Kafka's StandardAuthorizer decides.
@Suite struct AclAuthorizerTests {
    static func acl(
        _ name: String, pattern: AclPatternType = .literal, principal: String = "User:alice", host: String = "*",
        _ operation: AclOperation, _ permission: AclPermissionType = .allow, type: AclResourceType = .topic
    ) -> AclBinding {
        AclBinding(resourceType: type, resourceName: name, patternType: pattern, principal: principal, host: host, operation: operation, permission: permission)
    }

    static func authorizer(_ acls: [AclBinding], superUsers: Set<String> = ["User:admin"], allowIfNoAcl: Bool = false) -> AclAuthorizer {
        let authorizer = AclAuthorizer(superUsers: superUsers, allowEveryoneIfNoAclFound: allowIfNoAcl)
        authorizer.update(acls)
        return authorizer
    }

    @Test func literalWildcardAndPrefixedPatternsMatchAsKafkas() {
        let authorizer = Self.authorizer([
            Self.acl("orders", .read), Self.acl("*", .describe), Self.acl("logs-", pattern: .prefixed, .write),
        ])
        func can(_ operation: AclOperation, _ name: String) -> Bool {
            authorizer.authorize(principal: "User:alice", host: "10.0.0.1", operation, .topic, name)
        }
        #expect(can(.read, "orders") && !can(.read, "orders2") && !can(.read, "order"))
        #expect(can(.describe, "anything"))
        #expect(can(.write, "logs-a") && can(.write, "logs-") && !can(.write, "logs") && !can(.write, "xlogs-a"))
        // Group ACLs do not leak into topics.
        #expect(!authorizer.authorize(principal: "User:alice", host: "h", .read, .group, "orders"))
    }

    @Test func denyBeatsAllowAndAllCoversEveryOperation() {
        let authorizer = Self.authorizer([
            Self.acl("orders", pattern: .prefixed, .all), Self.acl("orders-secret", .read, .deny), Self.acl("*", principal: "User:*", .write, .deny),
        ])
        func can(_ operation: AclOperation, _ name: String) -> Bool {
            authorizer.authorize(principal: "User:alice", host: "h", operation, .topic, name)
        }
        #expect(can(.read, "orders-open") && can(.alter, "orders-open"))
        #expect(!can(.read, "orders-secret") && can(.describe, "orders-secret"))
        #expect(!can(.write, "orders-open"))
    }

    @Test func impliedOperationsFollowKafka() {
        let authorizer = Self.authorizer([
            Self.acl("r", .read), Self.acl("w", .write), Self.acl("d", .delete), Self.acl("a", .alter), Self.acl("c", .alterConfigs),
            Self.acl("x", .create),
        ])
        func can(_ operation: AclOperation, _ name: String) -> Bool {
            authorizer.authorize(principal: "User:alice", host: "h", operation, .topic, name)
        }
        for name in ["r", "w", "d", "a"] { #expect(can(.describe, name), "\(name) implies DESCRIBE") }
        #expect(can(.describeConfigs, "c") && !can(.describe, "c"))
        #expect(!can(.describe, "x") && !can(.write, "r") && !can(.read, "w"))
    }

    @Test func principalsHostsSuperUsersAndResourcesWithoutAcls() {
        let authorizer = Self.authorizer([
            Self.acl("orders", principal: "User:bob", host: "10.0.0.2", .read), Self.acl("orders", principal: "User:*", host: "10.0.0.9", .describe),
        ])
        #expect(authorizer.authorize(principal: "User:bob", host: "10.0.0.2", .read, .topic, "orders"))
        #expect(!authorizer.authorize(principal: "User:bob", host: "10.0.0.3", .read, .topic, "orders"))
        #expect(!authorizer.authorize(principal: "User:alice", host: "10.0.0.2", .read, .topic, "orders"))
        #expect(authorizer.authorize(principal: "User:carol", host: "10.0.0.9", .describe, .topic, "orders"))
        #expect(authorizer.authorize(principal: "User:admin", host: "any", .alter, .cluster, "kafka-cluster"))
        // A resource no ACL names: denied, unless allow.everyone.if.no.acl.found.
        #expect(!authorizer.authorize(principal: "User:bob", host: "10.0.0.2", .read, .topic, "other"))
        let open = Self.authorizer([Self.acl("orders", .read)], allowIfNoAcl: true)
        #expect(open.authorize(principal: "User:bob", host: "h", .read, .topic, "other"))
        #expect(!open.authorize(principal: "User:bob", host: "h", .read, .topic, "orders"))
    }

    @Test func authorizingByResourceTypeLooksForAnAllowNotCoveredByADeny() {
        #expect(Self.authorizer([Self.acl("t", .write)]).authorizeAny(principal: "User:alice", host: "h", .write, .topic))
        #expect(!Self.authorizer([Self.acl("t", .read)]).authorizeAny(principal: "User:alice", host: "h", .write, .topic))
        #expect(!Self.authorizer([Self.acl("t", .write), Self.acl("t", .write, .deny)]).authorizeAny(principal: "User:alice", host: "h", .write, .topic))
        #expect(!Self.authorizer([Self.acl("t-a", .write), Self.acl("t-", pattern: .prefixed, .write, .deny)]).authorizeAny(principal: "User:alice", host: "h", .write, .topic))
        #expect(!Self.authorizer([Self.acl("t", .write), Self.acl("*", .all, .deny)]).authorizeAny(principal: "User:alice", host: "h", .write, .topic))
    }

    @Test func aConnectionCachesAnswersUntilTheAclsChange() {
        let authorizer = Self.authorizer([Self.acl("orders", .read)])
        let connection = ConnectionAuthorization(authorizer: authorizer, host: "h", logger: Logger(label: "test"))
        #expect(connection.authorize(principal: "User:alice", .read, .topic, "orders"))
        #expect(!connection.authorize(principal: "User:alice", .read, .topic, "payments"))
        authorizer.update([Self.acl("payments", .read)])
        #expect(!connection.authorize(principal: "User:alice", .read, .topic, "orders"))
        #expect(connection.authorize(principal: "User:alice", .read, .topic, "payments"))
    }

    @Test func filtersMatchAsDescribeAndDeleteAclsDo() {
        let literal = Self.acl("orders", .read), wildcard = Self.acl("*", .read), prefixed = Self.acl("ord", pattern: .prefixed, .read)
        let match = AclFilter(resourceType: .topic, resourceName: "orders", patternType: .match, principal: nil, host: nil, operation: .any, permission: .any)
        #expect([literal, wildcard, prefixed].allSatisfy(match.matches))
        let exact = AclFilter(resourceType: .any, resourceName: "orders", patternType: .literal, principal: nil, host: nil, operation: .any, permission: .any)
        #expect(exact.matches(literal) && !exact.matches(wildcard) && !exact.matches(prefixed))
        let anyPattern = AclFilter(resourceType: .topic, resourceName: nil, patternType: .any, principal: "User:bob", host: nil, operation: .read, permission: .allow)
        #expect(!anyPattern.matches(literal))
        #expect(AclFilter(resourceType: .unknown, resourceName: nil, patternType: .any, principal: nil, host: nil, operation: .any, permission: .any).invalidReason != nil)
    }

    @Test func newAclsAreCheckedAsKafkaChecksThem() {
        #expect(Self.acl("orders", .read).invalidReason == nil)
        #expect(Self.acl("kafka-cluster", .alter, type: .cluster).invalidReason == nil)
        #expect(Self.acl("other", .alter, type: .cluster).invalidReason != nil)
        #expect(Self.acl("orders", .read, type: .any).invalidReason != nil)
        #expect(Self.acl("orders", .any).invalidReason != nil)
        #expect(Self.acl("orders", pattern: .match, .read).invalidReason != nil)
        #expect(Self.acl("orders", principal: "alice", .read).invalidReason != nil)
        #expect(Self.acl("", .read).invalidReason != nil)
        #expect(Self.acl("orders", .read, .any).invalidReason != nil)
    }
}
