import BrookCoordinator
import ServiceLifecycle

/// Drives the group coordinator's timers: session and rebalance timeouts every `tick`, offset
/// expiry every `offsets.retention.check.interval.ms`. On graceful shutdown it answers parked
/// group requests first, so the network, which stops after it, can drain.
struct GroupCoordinatorService: Service {
    let host: GroupCoordinatorHost
    var tick: Duration = .milliseconds(100)
    var offsetsRetentionCheck: Duration = .seconds(600)

    func run() async throws {
        var sinceRetentionCheck: Duration = .zero
        while !Task.isShuttingDownGracefully {
            do {
                try await Task.sleep(for: tick)
            } catch {
                break
            }
            guard let coordinator = host.started else { continue }
            coordinator.expireSessions()
            sinceRetentionCheck += tick
            if sinceRetentionCheck >= offsetsRetentionCheck {
                sinceRetentionCheck = .zero
                coordinator.expireOffsets()
            }
        }
        host.started?.shutdown()
    }
}
