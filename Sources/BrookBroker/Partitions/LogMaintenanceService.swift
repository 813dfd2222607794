import BrookStorage
import Logging
import ServiceLifecycle

/// Periodic log work: retention (`log.retention.check.interval.ms`), delayed deletion of
/// `.deleted` files and due flushes (every second), and the recovery-point and log-start-offset
/// checkpoints (`log.flush.offset.checkpoint.interval.ms`), and the log cleaner for compacted
/// topics (every `log.cleaner.backoff.ms` when `log.cleaner.enable`), and the expiry of idle
/// idempotent producers (`producer.id.expiration.ms`, with retention).
struct LogMaintenanceService: Service {
    struct Intervals: Sendable {
        var retentionCheck: Duration
        var checkpoint: Duration
        /// `log.cleaner.backoff.ms`; nil when `log.cleaner.enable` is false.
        var cleaner: Duration? = nil
        var tick: Duration = .seconds(1)
        /// `producer.id.expiration.ms`, applied at every retention check.
        var producerIdExpirationMs: Int64 = 86_400_000
    }

    let logs: LogManager
    let intervals: Intervals
    let logger: Logger
    let clock: any LogClock = SystemLogClock()

    func run() async throws {
        let monotonic = ContinuousClock()
        var nextRetention = monotonic.now + intervals.retentionCheck
        var nextCheckpoint = monotonic.now + intervals.checkpoint
        var nextCleaning = intervals.cleaner.map { monotonic.now + $0 }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await Task.sleep(for: intervals.tick)
            } catch {
                return
            }
            let now = clock.nowMilliseconds()
            report(logs.flushAndCollect(now: now))
            if monotonic.now >= nextRetention {
                report(logs.applyRetention(now: now))
                report(logs.expireProducers(now: now, expirationMs: intervals.producerIdExpirationMs))
                nextRetention = monotonic.now + intervals.retentionCheck
            }
            if let due = nextCleaning, let backoff = intervals.cleaner, monotonic.now >= due {
                report(logs.clean(now: now))
                nextCleaning = monotonic.now + backoff
            }
            if monotonic.now >= nextCheckpoint {
                do {
                    try logs.checkpoint()
                } catch {
                    logger.error("could not write the log checkpoints: \(error)")
                }
                nextCheckpoint = monotonic.now + intervals.checkpoint
            }
        }
    }

    private func report(_ report: LogManager.MaintenanceReport) {
        if report.segmentsDeleted > 0 { logger.info("retention deleted \(report.segmentsDeleted) segment(s)") }
        if report.segmentsCleaned > 0 { logger.info("the log cleaner cleaned \(report.segmentsCleaned) segment(s)") }
        for error in report.errors { logger.error("\(error)") }
    }
}
