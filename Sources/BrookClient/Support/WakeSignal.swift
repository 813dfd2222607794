import Synchronization

/// Lets a loop sleep until a deadline or until another task has news for it, whichever comes
/// first. A signal sent while the loop is busy is kept for its next wait.
///
/// One timer at a time: a wait arms a new one only when the armed one would ring later than its
/// deadline (and cancels that one). Arming a timer wakes another thread, which is costly on a hot
/// loop, so a wait may instead be ended early by a timer armed for an earlier wait: callers look
/// again after every return.
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
        /// The armed timer and when it rings.
        var timer: (deadline: ContinuousClock.Instant, task: Task<Void, Never>)?
    }

    private let state = Mutex(State())

    deinit {
        state.withLock { $0.timer?.task.cancel() }
    }

    /// Wakes the waiting task, or the next one to wait.
    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns at `deadline` (never, when nil), at the first signal, or when a timer armed for an
    /// earlier deadline rings.
    func wait(until deadline: ContinuousClock.Instant?) async {
        if let deadline { armTimer(for: deadline) }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if state.pending {
                    state.pending = false
                    return true
                }
                state.waiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    private func armTimer(for deadline: ContinuousClock.Instant) {
        state.withLock { state in
            if let armed = state.timer, armed.deadline <= deadline { return }
            state.timer?.task.cancel()
            state.timer = (deadline, Task { [weak self] in
                // Cancelled (replaced by an earlier timer), it must not ring.
                guard (try? await Task.sleep(until: deadline)) != nil, let self else { return }
                self.state.withLock { state in
                    if state.timer?.deadline == deadline { state.timer = nil }
                }
                self.signal()
            })
        }
    }
}
