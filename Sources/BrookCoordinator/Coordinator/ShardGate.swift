import Synchronization

/// Serialises a coordinator shard's work, first come first served, without holding a thread
/// while waiting: a request that finds the shard busy (appending to its log, perhaps on a slow
/// disk) is suspended until its turn, as Kafka's coordinator queues a shard's events. A shard's
/// lock is then only ever taken by the one task inside the gate, so no thread blocks on it.
final class ShardGate: Sendable {
    private struct State {
        var busy = false
        var waiters: [CheckedContinuation<Void, Never>] = []
        var head = 0
    }

    private let state = Mutex(State())

    /// Waits for the shard; every `enter` must be followed by one ``leave()``.
    func enter() async {
        if tryEnter() { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                guard state.busy else {
                    state.busy = true
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Enters if the shard is free; returns whether it did.
    func tryEnter() -> Bool {
        state.withLock { state in
            guard !state.busy else { return false }
            state.busy = true
            return true
        }
    }

    /// Hands the shard to the next waiter, or frees it.
    func leave() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.head < state.waiters.count else {
                state.busy = false
                state.waiters.removeAll(keepingCapacity: true)
                state.head = 0
                return nil
            }
            defer { state.head += 1 }
            return state.waiters[state.head]
        }
        next?.resume()
    }

    /// Runs `body` once the shard is free; the shard is busy until it returns.
    func run<T>(_ body: () throws -> T) async rethrows -> T {
        await enter()
        defer { leave() }
        return try body()
    }
}
