import BrookCoordinator
import Logging
import ServiceLifecycle

/// Drives the group coordinator's timers: session and rebalance timeouts every `tick`, offset
/// expiry every `offsets.retention.check.interval.ms` (a pass that could not write its tombstones
/// is logged by the coordinator and retried at the next interval). On graceful shutdown it answers parked
/// group requests first, so the network, which stops after it, can drain.
struct GroupCoordinatorService: Service {
    let host: GroupCoordinatorHost
    /// Where the timers' work runs: it appends to the coordinator's log under shard locks.
    let threads: BlockingWorkThreads
    var tick: Duration = .milliseconds(100)
    var offsetsRetentionCheck: Duration = .seconds(600)

    func run() async throws {
        await withTaskExecutorPreference(threads) { await runTimers() }
    }

    private func runTimers() async {
        var sinceRetentionCheck: Duration = .zero
        while !Task.isShuttingDownGracefully {
            do {
                try await Task.sleep(for: tick)
            } catch {
                break
            }
            host.hosting.followOwnership()
            guard let coordinator = host.started else { continue }
            coordinator.expireSessions()
            sinceRetentionCheck += tick
            if sinceRetentionCheck >= offsetsRetentionCheck {
                sinceRetentionCheck = .zero
                // Tombstones the log refused are logged at error by their shard, and their
                // offsets stay for the next pass.
                let pass = await coordinator.expireOffsets()
                if pass.expiredOffsets > 0 || pass.removedGroups > 0 {
                    host.logger.info("expired \(pass.expiredOffsets) offsets and removed \(pass.removedGroups) empty groups")
                }
            }
        }
        let loaded = host.started
        host.close()  // a load still under way shuts its coordinator down when it ends
        loaded?.shutdown()
    }
}
