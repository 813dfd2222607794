import BrookProtocol
import Synchronization

/// A connection of the member's own to its group coordinator, for the membership requests
/// (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, ConsumerGroupHeartbeat).
///
/// The broker answers a connection's requests one at a time and in order, and a JoinGroup may
/// be parked there for a whole rebalance: on the connection the consumer shares for fetches and
/// commits it would hold them up (as the Java client, membership gets a connection apart). The
/// coordinator is found again after a coordinator error or a broken connection (``reset()``).
final class GroupCoordinatorLink: Sendable {
    let cluster: Cluster
    let groupId: String
    private let current = Mutex<BrokerConnection?>(nil)
    private let isShutDown = Atomic(false)

    init(cluster: Cluster, groupId: String) {
        self.cluster = cluster
        self.groupId = groupId
    }

    /// The coordinator's connection, found and opened on first use.
    func connection() async throws -> BrokerConnection {
        if let open = current.withLock({ $0 }) { return open }
        guard !isShutDown.load(ordering: .relaxed) else { throw ClientError.connectionClosed(broker: "group coordinator") }
        let shared = try await cluster.groupCoordinator(groupId)
        guard let colon = shared.address.lastIndex(of: ":"), let port = Int(shared.address[shared.address.index(after: colon)...]) else {
            throw ClientError.notFound("coordinator address \(shared.address)")
        }
        let opened = try await BrokerConnection.connect(
            host: String(shared.address[..<colon]), port: port, clientId: cluster.clientId, security: cluster.security)
        let (kept, extra) = current.withLock { current -> (BrokerConnection?, BrokerConnection?) in
            if isShutDown.load(ordering: .relaxed) { return (nil, opened) }
            if let other = current { return (other, opened) }
            current = opened
            return (opened, nil)
        }
        await extra?.close()
        guard let kept else { throw ClientError.connectionClosed(broker: "group coordinator") }
        return kept
    }

    /// Sends the request `build` makes for the negotiated version. A broken connection is
    /// dropped (and rethrown) so that the next call looks for the coordinator again.
    func send<Request: KafkaRequest>(_ build: (Int16) -> Request) async throws -> Request.Response {
        let connection = try await connection()
        let version = try connection.negotiatedVersion(of: Request.self)
        do {
            return try await connection.send(build(version), version: version)
        } catch let error as ClientError {
            if case .connectionClosed = error { await reset() }
            throw error
        }
    }

    /// The version `Request` goes out at.
    func version<Request: KafkaRequest>(of request: Request.Type) async throws -> Int16 {
        try await connection().negotiatedVersion(of: request)
    }

    /// Refuses to open connections from now on (the member is closing).
    func shutDown() {
        isShutDown.store(true, ordering: .relaxed)
    }

    /// Forgets the coordinator (after NOT_COORDINATOR and the like) and closes its connection.
    func reset() async {
        let old = current.withLock { current -> BrokerConnection? in
            defer { current = nil }
            return current
        }
        await old?.close()
    }
}

extension ErrorCode {
    /// Errors after which the coordinator is to be looked up again.
    var meansCoordinatorMoved: Bool {
        self == .notCoordinator || self == .coordinatorNotAvailable || self == .coordinatorLoadInProgress
    }
}
