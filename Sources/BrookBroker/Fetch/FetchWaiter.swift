import Synchronization

/// One waiting fetch: resumed once, by whichever comes first — an append to any partition it
/// watches, its deadline, or cancellation.
final class FetchWaiter: Sendable {
    private enum State {
        case idle
        case waiting(CheckedContinuation<Void, Never>)
        case fired
    }

    private let state = Mutex(State.idle)

    /// Wakes the waiting fetch; later calls do nothing.
    func fire() {
        let resume: CheckedContinuation<Void, Never>? = state.withLock { state in
            switch state {
            case .waiting(let continuation):
                state = .fired
                return continuation
            case .idle:
                state = .fired
                return nil
            case .fired:
                return nil
            }
        }
        resume?.resume()
    }

    /// Waits until ``fire()`` or until `timeout` passes.
    func wait(timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let alreadyFired: Bool = state.withLock { state in
                            if case .fired = state { return true }
                            state = .waiting(continuation)
                            return false
                        }
                        if alreadyFired { continuation.resume() }
                    }
                } onCancel: {
                    self.fire()
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
            }
            await group.next()
            group.cancelAll()
            self.fire()
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
