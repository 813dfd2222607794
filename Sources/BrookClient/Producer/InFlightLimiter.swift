import Synchronization

/// Bounds the requests outstanding per broker (`max.in.flight.requests.per.connection`): the
/// send loop acquires a slot before writing a request and the request's completion releases it.
final class InFlightLimiter: Sendable {
    private struct State {
        var used: [Int32: Int] = [:]
        var waiters: [Int32: [CheckedContinuation<Void, Never>]] = [:]
    }

    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Waits for a free slot on broker `nodeId` and takes it.
    func acquire(_ nodeId: Int32) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state -> Bool in
                if state.used[nodeId, default: 0] < limit {
                    state.used[nodeId, default: 0] += 1
                    return true
                }
                state.waiters[nodeId, default: []].append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    /// Frees a slot of broker `nodeId`, handing it to the oldest waiter if any.
    func release(_ nodeId: Int32) {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if var waiting = state.waiters[nodeId], !waiting.isEmpty {
                let next = waiting.removeFirst()
                state.waiters[nodeId] = waiting.isEmpty ? nil : waiting
                return next  // the slot passes on: `used` is unchanged
            }
            state.used[nodeId, default: 1] -= 1
            return nil
        }
        next?.resume()
    }
}
