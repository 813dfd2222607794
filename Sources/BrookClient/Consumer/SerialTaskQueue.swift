import Synchronization

/// Runs jobs one after another in the order they were enqueued, each in its own task, without
/// the enqueuer waiting (the consumer's asynchronous commits).
final class SerialTaskQueue: Sendable {
    private let tail = Mutex<Task<Void, Never>?>(nil)

    /// Starts `job` once every job enqueued before it has finished.
    func enqueue(_ job: @escaping @Sendable () async -> Void) {
        tail.withLock { tail in
            let previous = tail
            tail = Task {
                await previous?.value
                await job()
            }
        }
    }

    /// Waits until every job enqueued so far has finished.
    func drain() async {
        await tail.withLock { $0 }?.value
    }
}
