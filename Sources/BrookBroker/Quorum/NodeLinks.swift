import BrookClient
import BrookProtocol
import Synchronization

/// This broker's connections to other nodes of its cluster (the active controller, the leaders
/// its transaction coordinator writes markers to): one per address, opened on first use and
/// dropped when a request on it fails or goes unanswered.
final class NodeLinks: Sendable {
    let clientId: String
    /// The listener other brokers are reached on (`inter.broker.listener.name`); nil: each
    /// broker's first.
    let listener: String?
    /// TLS and SASL as that listener asks.
    let security: PeerSecurity
    private let open = Mutex<[String: BrokerConnection]>([:])

    init(clientId: String, listener: String? = nil, security: PeerSecurity) {
        self.clientId = clientId
        self.listener = listener
        self.security = security
    }

    /// Sends `request` to the node at `host:port` (at `version`, else the highest both speak)
    /// and returns its answer; REQUEST_TIMED_OUT when none came within `timeout`.
    func send<Request: KafkaRequest>(
        _ request: Request, host: String, port: Int, version: Int16? = nil, timeout: Duration = .seconds(30)
    ) async throws -> Request.Response {
        let connection = try await connection(host: host, port: port, timeout: timeout)
        do {
            return try await connection.enqueue(request, version: version).get(timeout: timeout)
        } catch {
            // Its answer may never come (a paused peer), or the connection is broken: the next
            // request opens another.
            let dropped = open.withLock { open -> BrokerConnection? in
                guard open[connection.address] === connection else { return nil }
                return open.removeValue(forKey: connection.address)
            }
            await dropped?.close()
            if case ClientError.timedOut = error {
                throw MetadataError(.requestTimedOut, "\(host):\(port) did not answer \(Request.apiKey.name) within \(timeout)")
            }
            throw error
        }
    }

    private func connection(host: String, port: Int, timeout: Duration) async throws -> BrokerConnection {
        let address = "\(host):\(port)"
        if let existing = open.withLock({ $0[address] }), existing.isOpen { return existing }
        let connected = try await BrokerConnection.connect(
            host: host, port: port, clientId: clientId, timeout: timeout, security: security.current)
        let (chosen, surplus) = open.withLock { open -> (BrokerConnection, BrokerConnection?) in
            if let existing = open[address], existing.isOpen { return (existing, connected) }
            let replaced = open[address]
            open[address] = connected
            return (connected, replaced)
        }
        await surplus?.close()
        return chosen
    }

    /// Closes every connection.
    func close() async {
        let all = open.withLock { open in defer { open.removeAll() }; return Array(open.values) }
        for connection in all { await connection.close() }
    }
}
