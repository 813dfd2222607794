import NIOPosix
import Synchronization

/// Threads for request handlers that block: on a coordinator's log append, on a metadata fsync.
/// Kafka has request handler and coordinator threads for this; Brook runs such handlers with
/// this executor as their task executor preference, so that a slow disk holds up one of these
/// threads instead of one of the cooperative pool's (one per core), which every produce and
/// fetch needs.
///
/// A task that prefers this executor runs its jobs here until it ends; suspended (a JoinGroup
/// parked for a rebalance, a request waiting for its coordinator shard), it holds no thread.
/// The threads start with the first job, so an idle broker does not have them. After
/// ``shutdown()`` jobs run on the global concurrent executor, so that no task is stranded.
final class BlockingWorkThreads: TaskExecutor {
    let name: String
    private let pool: NIOThreadPool
    private let started = Mutex(false)

    /// `threads` threads (at least one), started on first use.
    init(name: String, threads: Int) {
        self.name = name
        pool = NIOThreadPool(numberOfThreads: max(1, threads))
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        startIfNeeded()
        pool.submit { state in
            switch state {
            case .active: job.runSynchronously(on: executor)
            case .cancelled: globalConcurrentExecutor.enqueue(job)
            }
        }
    }

    private func startIfNeeded() {
        started.withLock { started in
            guard !started else { return }
            pool.start()
            started = true
        }
    }

    /// Stops the threads once their queued jobs have run; later jobs run elsewhere (a pool never
    /// started is never started now: it refuses them as a stopped one does).
    func shutdown() async {
        let wasStarted = started.withLock { started -> Bool in
            defer { started = true }
            return started
        }
        if wasStarted { try? await pool.shutdownGracefully() }
    }
}
