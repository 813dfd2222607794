import Synchronization

/// How many of a connection's answers are queued and not yet written, with waits for that
/// number to fall (see ``Connection``). Thread-safe.
final class AnswerBacklog: Sendable {
    private struct State {
        var count = 0
        var waiters: [(limit: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())

    var isEmpty: Bool { state.withLock { $0.count == 0 } }

    func added() {
        state.withLock { $0.count += 1 }
    }

    /// One answer was written (or dropped); wakes whoever waits for at most this many.
    func removed() {
        let woken: [CheckedContinuation<Void, Never>] = state.withLock { state in
            state.count -= 1
            var woken: [CheckedContinuation<Void, Never>] = []
            state.waiters.removeAll { waiter in
                guard state.count <= waiter.limit else { return false }
                woken.append(waiter.continuation)
                return true
            }
            return woken
        }
        for continuation in woken { continuation.resume() }
    }

    /// Returns once at most `limit` answers are queued.
    func wait(untilAtMost limit: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                guard state.count > limit else { return true }
                state.waiters.append((limit, continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }
}
