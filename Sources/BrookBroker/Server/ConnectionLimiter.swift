import Synchronization

/// Kafka's connection quotas: `max.connections` for the whole broker and
/// `max.connections.per.ip` (with `max.connections.per.ip.overrides`) per client address.
///
/// As in Kafka, a listener at the broker-wide limit stops accepting until a connection closes
/// (clients wait in the accept backlog), while a connection over its address's limit is
/// accepted and closed at once. The limits are read at every check, so dynamic updates apply
/// to the next connection. Thread-safe.
final class ConnectionLimiter: Sendable {
    private struct State {
        var total = 0
        var perAddress: [String: Int] = [:]
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiterId: UInt64 = 0
    }

    private let limits: @Sendable () -> ConnectionLimits
    private let state = Mutex(State())

    init(limits: @escaping @Sendable () -> ConnectionLimits) {
        self.limits = limits
    }

    /// Open connections counted (for tests and logs).
    var openConnections: Int { state.withLock { $0.total } }

    /// Waits while the broker is at `max.connections`; returns at once when cancelled.
    func waitForCapacity() async {
        let id: UInt64? = state.withLock { state in
            guard state.total >= limits().maxConnections else { return nil }
            defer { state.nextWaiterId += 1 }
            return state.nextWaiterId
        }
        guard let id else { return }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if Task.isCancelled || state.total < limits().maxConnections { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Counts a new connection from `address`; false (nothing counted) when that address is at
    /// its limit and the connection must be closed.
    func admit(address: String) -> Bool {
        let limits = limits()
        return state.withLock { state in
            let current = state.perAddress[address, default: 0]
            guard current < limits.limit(for: address) else { return false }
            state.perAddress[address] = current + 1
            state.total += 1
            return true
        }
    }

    /// Forgets a closed connection and lets the listeners accept again if they waited.
    func closed(address: String) {
        let waiters: [CheckedContinuation<Void, Never>] = state.withLock { state in
            state.total -= 1
            let left = state.perAddress[address, default: 1] - 1
            state.perAddress[address] = left > 0 ? left : nil
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// The connection limits in force: `max.connections`, `max.connections.per.ip` and
/// `max.connections.per.ip.overrides`.
public struct ConnectionLimits: Sendable, Equatable {
    public var maxConnections = Int.max
    public var maxConnectionsPerIp = Int.max
    /// Per-address limits that replace `maxConnectionsPerIp` (IP address → limit).
    public var perIpOverrides: [String: Int] = [:]
    /// `max.connection.creation.rate`: new connections per second the broker accepts; more
    /// wait (KIP-612).
    public var maxConnectionCreationRate = Int.max

    public init(maxConnections: Int = .max, maxConnectionsPerIp: Int = .max, perIpOverrides: [String: Int] = [:]) {
        self.maxConnections = maxConnections
        self.maxConnectionsPerIp = maxConnectionsPerIp
        self.perIpOverrides = perIpOverrides
    }

    /// The limit for connections from `address`.
    public func limit(for address: String) -> Int {
        perIpOverrides[address] ?? maxConnectionsPerIp
    }
}
