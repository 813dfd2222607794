import BrookProtocol
import Logging
import Synchronization

/// One connection's use of the authorizer: its host, and the answers it already got, so that a
/// client producing to the same topics pays for the ACL lookup once (until the ACLs change).
/// Only this connection's requests use it, so its lock is never contended.
final class ConnectionAuthorization: Sendable {
    private struct Question: Hashable {
        var principal: String
        var operation: AclOperation
        var type: AclResourceType
        var name: String
    }

    private struct Answers {
        var version: UInt64
        var byQuestion: [Question: Bool] = [:]
    }

    /// Answers kept per connection before they are dropped and asked again.
    static let maximumAnswers = 4096

    let authorizer: AclAuthorizer
    /// The client's IP address, as ACL hosts name it.
    let host: String
    private let logger: Logger
    private let answers: Mutex<Answers>

    init(authorizer: AclAuthorizer, host: String, logger: Logger) {
        self.authorizer = authorizer
        self.host = host
        self.logger = logger
        answers = Mutex(Answers(version: authorizer.version))
    }

    /// Whether `principal` may do `operation` on the resource; a denial is logged the first time
    /// the connection is refused it, as Kafka's authorizer logger does.
    func authorize(principal: String, _ operation: AclOperation, _ type: AclResourceType, _ name: String, logDenial: Bool = true) -> Bool {
        let question = Question(principal: principal, operation: operation, type: type, name: name)
        let version = authorizer.version
        let known: Bool? = answers.withLock { answers in
            if answers.version != version { answers = Answers(version: version) }
            return answers.byQuestion[question]
        }
        if let known { return known }
        let allowed = authorizer.authorize(principal: principal, host: host, operation, type, name)
        answers.withLock { answers in
            if answers.byQuestion.count >= Self.maximumAnswers { answers.byQuestion.removeAll(keepingCapacity: true) }
            if answers.version == version { answers.byQuestion[question] = allowed }
        }
        if !allowed, logDenial {
            logger.info("Principal = \(principal) is Denied operation = \(operation.name) from host = \(host) on resource = \(type.kafkaName):\(name)")
        }
        return allowed
    }

    /// Whether `principal` may do `operation` on some resource of `type`.
    func authorizeAny(principal: String, _ operation: AclOperation, _ type: AclResourceType) -> Bool {
        authorizer.authorizeAny(principal: principal, host: host, operation, type)
    }
}

extension AclResourceType {
    /// The resource type as Kafka's logs write it (Topic, Group, Cluster, ...).
    var kafkaName: String {
        switch self {
        case .topic: "Topic"
        case .group: "Group"
        case .cluster: "Cluster"
        case .transactionalId: "TransactionalId"
        case .delegationToken: "DelegationToken"
        case .user: "User"
        case .any: "Any"
        case .unknown: "Unknown"
        }
    }
}

extension RequestContext {
    /// Whether the client may do `operation` on the resource (always, without an authorizer).
    func authorized(_ operation: AclOperation, _ type: AclResourceType, _ name: String, logDenial: Bool = true) -> Bool {
        authorization?.authorize(principal: principal, operation, type, name, logDenial: logDenial) ?? true
    }

    /// Whether the client may do `operation` on the cluster.
    func authorizedOnCluster(_ operation: AclOperation) -> Bool {
        authorized(operation, .cluster, AclResourceType.clusterName)
    }

    /// Whether the client may do `operation` on some resource of `type`.
    func authorizedOnAny(_ operation: AclOperation, _ type: AclResourceType) -> Bool {
        authorization?.authorizeAny(principal: principal, operation, type) ?? true
    }

    /// Whether an authorizer checks this connection's requests.
    var checksAcls: Bool { authorization != nil }

    /// The operations of `candidates` the client may do on the resource, as the bit field
    /// Metadata, DescribeCluster and DescribeGroups answer (bit n: operation code n).
    func authorizedOperations(_ type: AclResourceType, _ name: String, among candidates: [AclOperation]) -> Int32 {
        candidates.filter { authorized($0, type, name, logDenial: false) }.reduce(Int32(0)) { $0 | (1 << Int32($1.rawValue)) }
    }
}

extension AclOperation {
    /// The operations Kafka reports for a topic, a group and the cluster.
    static let topicOperations: [AclOperation] = [.read, .write, .create, .delete, .alter, .describe, .describeConfigs, .alterConfigs]
    static let groupOperations: [AclOperation] = [.read, .delete, .describe]
    static let clusterOperations: [AclOperation] = [.create, .alter, .describe, .clusterAction, .describeConfigs, .alterConfigs, .idempotentWrite]
}
