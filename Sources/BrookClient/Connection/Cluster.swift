import BrookModel
import BrookProtocol
import Synchronization

/// The brokers of a cluster as seen from a bootstrap address: metadata, partition leaders,
/// group coordinators, and one connection per broker, opened on first use. A connection found
/// closed (the broker restarted or closed it) is opened again on next use.
public final class Cluster: Sendable {
    public let clientId: String
    public let bootstrapServers: String
    /// How connections to the brokers are secured.
    public let security: ClientSecurity
    private let bootstrapConnection: Mutex<BrokerConnection>
    private let connections = Mutex<[Int32: BrokerConnection]>([:])
    private let brokers = Mutex<[Int32: (host: String, port: Int)]>([:])

    private init(bootstrap: BrokerConnection, bootstrapServers: String, clientId: String, security: ClientSecurity) {
        bootstrapConnection = Mutex(bootstrap)
        self.bootstrapServers = bootstrapServers
        self.clientId = clientId
        self.security = security
    }

    /// Connects to the first reachable `host:port` of a comma-separated bootstrap list, secured
    /// as `security` says (TLS, SASL).
    public static func connect(
        bootstrapServers: String, clientId: String = "brook-cli", security: ClientSecurity = .plaintext
    ) async throws -> Cluster {
        Cluster(
            bootstrap: try await openBootstrap(bootstrapServers, clientId: clientId, security: security),
            bootstrapServers: bootstrapServers, clientId: clientId, security: security)
    }

    /// The bootstrap connection, reopened if it closed.
    private var bootstrap: BrokerConnection {
        get async throws {
            let current = bootstrapConnection.withLock { $0 }
            if current.isOpen { return current }
            let fresh = try await Self.openBootstrap(bootstrapServers, clientId: clientId, security: security)
            bootstrapConnection.withLock { $0 = fresh }
            return fresh
        }
    }

    private static func openBootstrap(_ bootstrapServers: String, clientId: String, security: ClientSecurity) async throws -> BrokerConnection {
        var lastError: (any Error)?
        for server in bootstrapServers.split(separator: ",") {
            let parts = server.filter { $0 != " " }.split(separator: ":")
            guard parts.count == 2, let port = Int(parts[1]) else {
                throw ClientError.notFound("bootstrap server '\(server)' is not host:port")
            }
            do {
                return try await BrokerConnection.connect(host: String(parts[0]), port: port, clientId: clientId, security: security)
            } catch {
                lastError = error
            }
        }
        throw lastError ?? ClientError.notFound("no bootstrap servers given")
    }

    /// Topic metadata (all topics when `topics` is nil); also learns the brokers' addresses.
    public func metadata(topics: [String]?) async throws -> MetadataResponse {
        let request = MetadataRequest(topics: topics.map { $0.map { MetadataRequest.MetadataRequestTopic(name: $0) } })
        let response = try await bootstrap.send(request)
        brokers.withLock { known in
            for broker in response.brokers { known[broker.nodeId] = (broker.host, Int(broker.port)) }
        }
        return response
    }

    /// The connection to broker `nodeId`.
    public func connection(to nodeId: Int32) async throws -> BrokerConnection {
        if let existing = connections.withLock({ $0[nodeId] }) {
            guard !existing.isOpen else { return existing }
            // The broker went away (restart, idle close): connect again.
            connections.withLock { open in if open[nodeId] === existing { open[nodeId] = nil } }
        }
        if brokers.withLock({ $0[nodeId] }) == nil { _ = try await metadata(topics: []) }
        guard let address = brokers.withLock({ $0[nodeId] }) else { throw ClientError.notFound("broker \(nodeId) is unknown") }
        let connection = try await BrokerConnection.connect(host: address.host, port: address.port, clientId: clientId, security: security)
        return connections.withLock { open in
            if let other = open[nodeId] { return other }
            open[nodeId] = connection
            return connection
        }
    }

    /// The connection to the coordinator of `groupId`.
    public func groupCoordinator(_ groupId: String) async throws -> BrokerConnection {
        try await coordinator(for: groupId, keyType: 0)
    }

    /// The connection to the transaction coordinator of `transactionalId`.
    public func transactionCoordinator(_ transactionalId: String) async throws -> BrokerConnection {
        try await coordinator(for: transactionalId, keyType: 1)
    }

    /// FindCoordinator for `key` (key type 0: group, 1: transactional id).
    private func coordinator(for key: String, keyType: Int8) async throws -> BrokerConnection {
        let bootstrap = try await bootstrap
        let version = try bootstrap.negotiatedVersion(of: FindCoordinatorRequest.self)
        let request = version >= 4
            ? FindCoordinatorRequest(keyType: keyType, coordinatorKeys: [key])
            : FindCoordinatorRequest(key: key, keyType: keyType)
        let response = try await bootstrap.send(request, version: version)
        let (error, message, node, host, port): (Int16, String?, Int32, String, Int32) = version >= 4
            ? response.coordinators.first.map { ($0.errorCode, $0.errorMessage, $0.nodeId, $0.host, $0.port) } ?? (-1, nil, -1, "", 0)
            : (response.errorCode, response.errorMessage, response.nodeId, response.host, response.port)
        guard error == 0 else { throw ClientError.broker(ErrorCode(rawValue: error) ?? .unknownServerError, message) }
        brokers.withLock { $0[node] = (host, Int(port)) }
        return try await connection(to: node)
    }

    /// Forgets `connection` to broker `nodeId` after it failed, so the next use reconnects.
    public func discard(_ connection: BrokerConnection, of nodeId: Int32) async {
        let removed = connections.withLock { open -> Bool in
            guard open[nodeId] === connection else { return false }
            open[nodeId] = nil
            return true
        }
        if removed { await connection.close() }
    }

    /// Closes every connection.
    public func close() async {
        for connection in connections.withLock({ Array($0.values) }) { await connection.close() }
        await bootstrapConnection.withLock { $0 }.close()
    }
}
