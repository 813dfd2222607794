import BrookProtocol
import BrookSecurity
import NIOCore

/// SCRAM credential administration (Kafka's `Admin.describeUserScramCredentials` and
/// `alterUserScramCredentials`; kafka-configs' `--entity-type users` SCRAM configs). A password
/// is salted and hashed here: only the salted password crosses the network, and the broker
/// keeps only the keys derived from it.
public struct ScramAdmin: Sendable {
    public let cluster: Cluster

    public init(cluster: Cluster) {
        self.cluster = cluster
    }

    /// One change: set `user`'s credential for `mechanism` to `password`, or delete it.
    public enum Alteration: Sendable {
        case upsert(user: String, mechanism: ScramMechanism, password: String, iterations: Int32 = ScramMechanism.minimumIterations)
        case delete(user: String, mechanism: ScramMechanism)

        var user: String {
            switch self {
            case .upsert(let user, _, _, _), .delete(let user, _): user
            }
        }
    }

    /// Which mechanisms each user has a credential for, with its iteration count: the users
    /// named, or every user with a credential. Throws for a named user without one
    /// (RESOURCE_NOT_FOUND).
    public func describe(users: [String]? = nil) async throws -> [String: [ScramMechanism: Int32]] {
        let connection = try await cluster.controllerConnection()
        let response = try await connection.send(DescribeUserScramCredentialsRequest(users: users.map { $0.map { .init(name: $0) } }))
        try throwIfKafkaError(response.errorCode, response.errorMessage)
        var described: [String: [ScramMechanism: Int32]] = [:]
        for result in response.results {
            try throwIfKafkaError(result.errorCode, result.errorMessage, result.user)
            var mechanisms: [ScramMechanism: Int32] = [:]
            for info in result.credentialInfos {
                if let mechanism = ScramMechanism(rawValue: info.mechanism) { mechanisms[mechanism] = info.iterations }
            }
            described[result.user] = mechanisms
        }
        return described
    }

    /// Makes `alterations` in one request; throws for the first user the broker refuses
    /// (that user's changes are not made; other users' are).
    public func alter(_ alterations: [Alteration]) async throws {
        var request = AlterUserScramCredentialsRequest()
        for alteration in alterations {
            switch alteration {
            case .upsert(let user, let mechanism, let password, let iterations):
                let salt = ScramMessages.randomSalt()
                let salted = try mechanism.saltedPassword(password, salt: salt, iterations: iterations)
                request.upsertions.append(.init(
                    name: user, mechanism: mechanism.rawValue, iterations: iterations, salt: .init(bytes: salt),
                    saltedPassword: .init(bytes: salted)))
            case .delete(let user, let mechanism):
                request.deletions.append(.init(name: user, mechanism: mechanism.rawValue))
            }
        }
        let connection = try await cluster.controllerConnection()
        let response = try await connection.send(request)
        for result in response.results {
            try throwIfKafkaError(result.errorCode, result.errorMessage, result.user)
        }
    }
}
