import Synchronization

/// One waiting fetch: resumed once, by whichever comes first — an append to any partition it
/// watches, its deadline, or cancellation.
final class FetchWaiter: Sendable {
    private enum State {
        case idle
        case waiting(CheckedContinuation<Void, Never>)
        /// Woken by ``fire()``.
        case fired
        /// The deadline passed (or the task was cancelled) first.
        case expired
    }

    private let state = Mutex(State.idle)

    /// Wakes the waiting fetch; later calls do nothing.
    func fire() {
        end(as: .fired)
    }

    private func end(as outcome: State) {
        let resume: CheckedContinuation<Void, Never>? = state.withLock { state in
            switch state {
            case .waiting(let continuation):
                state = outcome
                return continuation
            case .idle:
                state = outcome
                return nil
            case .fired, .expired:
                return nil
            }
        }
        resume?.resume()
    }

    /// Waits until ``fire()`` or until `timeout` passes; returns whether it was fired.
    @discardableResult
    func wait(timeout: Duration) async -> Bool {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let finished: Bool = state.withLock { state in
                            switch state {
                            case .fired, .expired:
                                return true
                            case .idle, .waiting:
                                state = .waiting(continuation)
                                return false
                            }
                        }
                        if finished { continuation.resume() }
                    }
                } onCancel: {
                    self.end(as: .expired)
                }
            }
            group.addTask { [self] in
                try? await Task.sleep(for: timeout)
                self.end(as: .expired)
            }
            await group.next()
            group.cancelAll()
        }
        return state.withLock { state in
            if case .fired = state { return true }
            return false
        }
    }
}

/// The fetches waiting on one partition. Owned by the partition, so appends to different
/// partitions never contend.
final class PartitionWaiters: Sendable {
    private let waiters = Mutex<[ObjectIdentifier: FetchWaiter]>([:])

    func add(_ waiter: FetchWaiter) {
        waiters.withLock { $0[ObjectIdentifier(waiter)] = waiter }
    }

    func remove(_ waiter: FetchWaiter) {
        _ = waiters.withLock { $0.removeValue(forKey: ObjectIdentifier(waiter)) }
    }

    /// Wakes every fetch waiting on the partition.
    func notifyAll() {
        let current = waiters.withLock { waiters in
            let all = Array(waiters.values)
            waiters.removeAll(keepingCapacity: true)
            return all
        }
        for waiter in current { waiter.fire() }
    }
}
