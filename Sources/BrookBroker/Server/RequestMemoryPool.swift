import NIOCore
import Synchronization

/// The bytes of requests read but not yet answered, across every connection, bounded by Kafka's
/// `queued.max.request.bytes`.
///
/// A connection takes a request's size from the pool as soon as the size prefix arrives, and
/// gives it back once the request is answered. While the pool is exhausted, a connection at a
/// request boundary stops reading until answered requests give bytes back. As in Kafka's
/// (non-strict) memory pool, a request is admitted whenever anything is left, so one larger than
/// what remains, even larger than the whole pool (up to `socket.request.max.bytes`), is still
/// served: the pool is overdrawn by at most the requests that started while bytes remained,
/// plus what a paused connection had already received in its last read.
///
/// Thread-safe; waiters are woken off the pool's lock.
final class RequestMemoryPool: Sendable {
    private struct State {
        var available: Int
        var waiters: [UInt64: @Sendable () -> Void] = [:]
        var nextWaiterId: UInt64 = 0
    }

    private let state: Mutex<State>

    init(capacity: Int) {
        precondition(capacity > 0, "a request memory pool needs a positive capacity")
        self.state = Mutex(State(available: capacity))
    }

    /// Bytes left; zero or negative while exhausted or overdrawn.
    var available: Int { state.withLock { $0.available } }

    /// Takes `bytes` for a request that has started arriving, even past what is left.
    func take(_ bytes: Int) {
        state.withLock { $0.available -= bytes }
    }

    /// Gives `bytes` back; when that leaves anything available, wakes every waiting connection.
    func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        let woken: [@Sendable () -> Void] = state.withLock { state in
            state.available += bytes
            guard state.available > 0, !state.waiters.isEmpty else { return [] }
            defer { state.waiters.removeAll() }
            return state.waiters.sorted { $0.key < $1.key }.map(\.value)
        }
        for wake in woken { wake() }
    }

    /// Returns nil when bytes are available now; else queues `wake` to run once they are, and
    /// returns the id that ``cancel(_:)`` takes.
    func waitUntilAvailable(_ wake: @escaping @Sendable () -> Void) -> UInt64? {
        state.withLock { state in
            guard state.available <= 0 else { return nil }
            let id = state.nextWaiterId
            state.nextWaiterId += 1
            state.waiters[id] = wake
            return id
        }
    }

    /// Forgets a queued wake-up (the connection closed).
    func cancel(_ id: UInt64) {
        _ = state.withLock { $0.waiters.removeValue(forKey: id) }
    }
}

/// One connection's share of a ``RequestMemoryPool``: what it reserved and has not given back.
/// The connection's reader takes per request and its request loop releases per answered
/// request; when the connection ends, ``close()`` returns whatever is still held, and later
/// releases are ignored, so no byte is returned twice.
final class ConnectionRequestMemory: Sendable {
    let pool: RequestMemoryPool
    private let state = Mutex<(held: Int, closed: Bool)>((0, false))

    init(pool: RequestMemoryPool) {
        self.pool = pool
    }

    /// Takes `bytes` from the pool for a request of this connection that has started arriving.
    func take(_ bytes: Int) {
        let taken = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.held += bytes
            return true
        }
        if taken { pool.take(bytes) }
    }

    /// Gives back one answered request's bytes.
    func release(_ bytes: Int) {
        let returned = state.withLock { state -> Int in
            guard !state.closed else { return 0 }
            let returned = min(bytes, state.held)
            state.held -= returned
            return returned
        }
        pool.release(returned)
    }

    /// Gives back everything held and ignores later releases.
    func close() {
        let returned = state.withLock { state -> Int in
            guard !state.closed else { return 0 }
            state.closed = true
            defer { state.held = 0 }
            return state.held
        }
        pool.release(returned)
    }

    /// Bytes held (for tests).
    var held: Int { state.withLock { $0.held } }
}
