import BrookClient
import BrookModel
import BrookProtocol
import BrookRaft
import Synchronization

/// The connection from this node to one other voter, over which the quorum's requests go.
///
/// Connects on first use and again after a failure, at most once per `retryBackoff`; a message
/// sent while the peer is unreachable is dropped, since Raft retries on its own timers.
/// Responses are read against the request they answer and handed to `deliver`.
final class QuorumPeerLink: Sendable {
    let peer: QuorumVoter
    let clusterId: String
    let clientId: String
    let retryBackoff: Duration = .milliseconds(200)
    /// TLS and SASL as the controller listener asks.
    let security: PeerSecurity

    private enum State {
        case idle
        case connecting
        case connected(BrokerConnection)
        case failed(at: ContinuousClock.Instant)
    }

    private let state = Mutex<State>(.idle)

    /// Where this node listens: a BeginQuorumEpoch names it (LeaderEndpoints, v1), so that a
    /// voter whose record of this node is out of date can still fetch from it.
    let localEndpoint: QuorumVoter?

    init(peer: QuorumVoter, clusterId: String, localID: BrokerID, localEndpoint: QuorumVoter? = nil, security: PeerSecurity) {
        self.peer = peer
        self.security = security
        self.clusterId = clusterId
        self.localEndpoint = localEndpoint
        self.clientId = "brook-quorum-\(localID)"
    }

    /// Sends `message` (a request kind) and delivers the peer's answer, if any, as a message;
    /// calls `unreachable` when the peer cannot be connected to or the connection fails.
    func send(
        _ message: RaftMessage, fetchMaxWaitMs: Int32, deliver: @escaping @Sendable (RaftMessage, [QuorumVoter]) -> Void,
        unreachable: @escaping @Sendable () -> Void
    ) {
        Task {
            guard let connection = await self.connection() else {
                unreachable()
                return
            }
            do {
                switch message {
                case .vote(let vote):
                    let response = try await connection.send(RaftWire.request(vote, clusterId: clusterId, voter: peer.id))
                    deliver(.voteResult(try RaftWire.voteResult(from: response, answering: vote)), [])
                case .beginEpoch(let begin):
                    var request = RaftWire.request(begin, clusterId: clusterId, voter: peer.id)
                    if let localEndpoint {
                        request.leaderEndpoints = [.init(
                            name: QuorumVoterRecords.listenerName, host: localEndpoint.host, port: UInt16(clamping: localEndpoint.port))]
                    }
                    let response = try await connection.send(request)
                    deliver(.beginEpochResult(try RaftWire.beginEpochResult(from: response)), [])
                case .endEpoch(let end):
                    _ = try await connection.send(RaftWire.request(end, clusterId: clusterId))
                case .fetch(let fetch):
                    let version = try connection.negotiatedVersion(of: FetchRequest.self)
                    guard version >= 12 else { throw RaftWire.Malformed(description: "\(peer) speaks Fetch only up to v\(version)") }
                    let request = RaftWire.request(fetch, version: version, clusterId: clusterId, maxWaitMs: 0, maxBytes: 8 << 20)
                    let response = try await connection.send(request, version: version)
                    // The answer names where the leader listens (NodeEndpoints, v16+).
                    let learned = response.nodeEndpoints.map {
                        QuorumVoter(id: BrokerID($0.nodeId), host: $0.host, port: Int($0.port))
                    }
                    deliver(.fetchResult(try RaftWire.fetchResult(from: response, answering: fetch)), learned)
                case .fetchSnapshot(let fetch):
                    let request = RaftWire.request(fetch, clusterId: clusterId, maxBytes: Int32.max)
                    let response = try await connection.send(request)
                    deliver(.fetchSnapshotResult(try RaftWire.fetchSnapshotResult(from: response, answering: fetch)), [])
                case .voteResult, .beginEpochResult, .fetchResult, .fetchSnapshotResult:
                    break  // answers travel as responses, never as requests
                }
            } catch {
                await self.drop(connection)
                if (error as? ClientError)?.isConnectionFailure == true { unreachable() }
            }
        }
    }

    /// Sends any other request to the peer (UpdateRaftVoter) and returns its answer.
    func request<Request: KafkaRequest>(_ request: Request) async throws -> Request.Response {
        guard let connection = await connection() else { throw ClientError.unreachable(broker: peer.description) }
        do {
            return try await connection.send(request)
        } catch {
            await drop(connection)
            throw error
        }
    }

    /// The open connection, opening one if none is and the last failure is old enough.
    private func connection() async -> BrokerConnection? {
        let attempt: Bool = state.withLock { state in
            switch state {
            case .connected, .connecting:
                return false
            case .failed(let at) where ContinuousClock.now - at < retryBackoff:
                return false
            case .idle, .failed:
                state = .connecting
                return true
            }
        }
        if !attempt {
            return state.withLock { if case .connected(let connection) = $0 { connection } else { nil } }
        }
        do {
            let connection = try await BrokerConnection.connect(
                host: peer.host, port: peer.port, clientId: clientId, security: security.current)
            state.withLock { $0 = .connected(connection) }
            return connection
        } catch {
            state.withLock { $0 = .failed(at: .now) }
            return nil
        }
    }

    private func drop(_ connection: BrokerConnection) async {
        let dropped: Bool = state.withLock { state in
            guard case .connected(let current) = state, current === connection else { return false }
            state = .failed(at: .now)
            return true
        }
        if dropped { await connection.close() }
    }

    func close() async {
        let open: BrokerConnection? = state.withLock { state in
            defer { state = .failed(at: .now) }
            if case .connected(let connection) = state { return connection }
            return nil
        }
        await open?.close()
    }
}
