import BrookCoordinator
import ServiceLifecycle

/// Drives the transaction coordinator's timers: finishing prepared transactions (after a load,
/// or when markers failed) every `tick`, aborting timed-out transactions every
/// `transaction.abort.timed.out.transaction.cleanup.interval.ms`, and forgetting idle
/// transactional ids every `transaction.remove.expired.transaction.cleanup.interval.ms`.
struct TransactionCoordinatorService: Service {
    let host: TransactionCoordinatorHost
    /// Where the timers' work runs: it appends to the coordinator's log under shard locks.
    let threads: BlockingWorkThreads
    var tick: Duration = .seconds(1)
    var abortCheck: Duration = .seconds(10)
    var expiryCheck: Duration = .seconds(3_600)

    func run() async throws {
        await withTaskExecutorPreference(threads) { await runTimers() }
    }

    private func runTimers() async {
        var sinceAbortCheck: Duration = .zero
        var sinceExpiryCheck: Duration = .zero
        let step = min(tick, abortCheck)
        while !Task.isShuttingDownGracefully {
            do {
                try await Task.sleep(for: step)
            } catch {
                break
            }
            host.hosting.followOwnership()
            guard let coordinator = host.started else { continue }
            await coordinator.completePreparedTransactions()
            sinceAbortCheck += step
            sinceExpiryCheck += step
            if sinceAbortCheck >= abortCheck {
                sinceAbortCheck = .zero
                await coordinator.abortTimedOutTransactions()
            }
            if sinceExpiryCheck >= expiryCheck {
                sinceExpiryCheck = .zero
                await coordinator.expireTransactionalIds()
            }
        }
        let loaded = host.started
        host.close()  // a load still under way shuts its coordinator down when it ends
        loaded?.shutdown()
    }
}
