import NIOPosix

/// Threads for request handlers that block: on a coordinator's log append, on a shard lock held
/// across one, on a metadata fsync. Kafka has request handler and coordinator threads for this;
/// Brook runs such handlers with this executor as their task executor preference, so that a
/// slow disk holds up one of these threads instead of one of the cooperative pool's (one per
/// core), which every produce and fetch needs.
///
/// A task that prefers this executor runs its jobs here until it ends; suspended (a JoinGroup
/// parked for a rebalance), it holds no thread. After ``shutdown()`` jobs run on the global
/// concurrent executor, so that no task is stranded.
final class BlockingWorkThreads: TaskExecutor {
    let name: String
    private let pool: NIOThreadPool

    /// Starts `threads` threads (at least one).
    init(name: String, threads: Int) {
        self.name = name
        pool = NIOThreadPool(numberOfThreads: max(1, threads))
        pool.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        pool.submit { state in
            switch state {
            case .active: job.runSynchronously(on: executor)
            case .cancelled: globalConcurrentExecutor.enqueue(job)
            }
        }
    }

    /// Stops the threads once their queued jobs have run.
    func shutdown() async {
        try? await pool.shutdownGracefully()
    }
}
