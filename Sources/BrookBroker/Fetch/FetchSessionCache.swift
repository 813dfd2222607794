import BrookModel
import BrookProtocol
import Synchronization

/// The broker's fetch sessions (`max.incremental.fetch.session.cache.slots`), per KIP-227.
///
/// Session id 0 with epoch 0 asks for a new session; epoch -1 means "no session" (a full fetch
/// every time, as librdkafka does); an existing id with the expected epoch continues the session.
/// Sessions are evicted least-recently-used when the cache is full.
final class FetchSessionCache: Sendable {
    /// The outcome of resolving a request's session fields.
    enum Resolution: Sendable {
        /// A full fetch without a session.
        case sessionless
        /// A session (new or continued); `isFull` when the request listed every partition.
        case session(id: Int32, isFull: Bool)
        /// The request must be answered with this top-level error.
        case error(ErrorCode)
    }

    private struct State {
        var sessions: [Int32: FetchSession] = [:]
        var lastUsed: [Int32: UInt64] = [:]
        var clock: UInt64 = 0
        var nextId: Int32 = 1
    }

    private let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Creates, continues or closes a session for a request.
    func resolve(sessionId: Int32, epoch: Int32) -> Resolution {
        state.withLock { state in
            state.clock += 1
            if epoch == -1 {
                // FINAL_EPOCH: close the session if any, then fetch sessionlessly.
                if sessionId != 0 {
                    state.sessions[sessionId] = nil
                    state.lastUsed[sessionId] = nil
                }
                return .sessionless
            }
            if epoch == 0 {
                if sessionId != 0 {
                    state.sessions[sessionId] = nil
                    state.lastUsed[sessionId] = nil
                }
                guard capacity > 0 else { return .sessionless }
                if state.sessions.count >= capacity, let oldest = state.lastUsed.min(by: { $0.value < $1.value })?.key {
                    state.sessions[oldest] = nil
                    state.lastUsed[oldest] = nil
                }
                let id = state.nextId
                state.nextId = state.nextId == Int32.max ? 1 : state.nextId + 1
                state.sessions[id] = FetchSession(id: id)
                state.lastUsed[id] = state.clock
                return .session(id: id, isFull: true)
            }
            guard var session = state.sessions[sessionId] else { return .error(.fetchSessionIdNotFound) }
            guard session.nextEpoch == epoch else { return .error(.invalidFetchSessionEpoch) }
            session.nextEpoch = epoch == Int32.max ? 1 : epoch + 1
            state.sessions[sessionId] = session
            state.lastUsed[sessionId] = state.clock
            return .session(id: sessionId, isFull: false)
        }
    }

    /// Runs `body` on a session's state; nil if the session is gone.
    func update<Result>(_ id: Int32, _ body: (inout FetchSession) -> Result) -> Result? {
        state.withLock { state in
            guard var session = state.sessions[id] else { return nil }
            let result = body(&session)
            state.sessions[id] = session
            return result
        }
    }
}
