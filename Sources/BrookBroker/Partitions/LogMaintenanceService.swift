import BrookStorage
import Logging
import NIOPosix
import ServiceLifecycle

/// Periodic log work: retention (`log.retention.check.interval.ms`), delayed deletion of
/// `.deleted` files, of deleted partitions' `-delete` folders (after `log.segment.delete.delay.ms`,
/// read at each pass as Kafka reads its current default) and due flushes (every second), and the
/// recovery-point and log-start-offset
/// checkpoints (`log.flush.offset.checkpoint.interval.ms`), and the log cleaner for compacted
/// topics (every `log.cleaner.backoff.ms` when `log.cleaner.enable`), and the expiry of idle
/// idempotent producers (`producer.id.expiration.ms`, with retention).
///
/// Every pass is blocking file-system work (unlinks, fsyncs, recursive removals, cleaning), so
/// it runs on NIO's blocking-I/O thread pool, not on the cooperative pool that serves requests.
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
    /// `log.segment.delete.delay.ms` as currently configured.
    var directoryDeleteDelayMs: @Sendable () -> Int64 = { 60_000 }
    var threadPool: NIOThreadPool = .singleton
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
            let logs = self.logs
            let delayMs = directoryDeleteDelayMs()
            await offload { logs.flushAndCollect(now: now) }
            await offload { logs.removeDeletedDirectories(now: now, delayMs: delayMs) }
            if monotonic.now >= nextRetention {
                let expirationMs = intervals.producerIdExpirationMs
                await offload { logs.applyRetention(now: now) }
                await offload { logs.expireProducers(now: now, expirationMs: expirationMs) }
                nextRetention = monotonic.now + intervals.retentionCheck
            }
            if let due = nextCleaning, let backoff = intervals.cleaner, monotonic.now >= due {
                await offload { logs.clean(now: now) }
                nextCleaning = monotonic.now + backoff
            }
            if monotonic.now >= nextCheckpoint {
                await offload {
                    var report = LogManager.MaintenanceReport()
                    do {
                        try logs.checkpoint()
                    } catch {
                        report.errors.append("could not write the log checkpoints: \(error)")
                    }
                    return report
                }
                nextCheckpoint = monotonic.now + intervals.checkpoint
            }
        }
    }

    /// Runs one pass on the thread pool and reports it (a pool already shut down runs nothing).
    private func offload(_ pass: @escaping @Sendable () -> LogManager.MaintenanceReport) async {
        do {
            report(try await threadPool.runIfActive(pass))
        } catch {
            logger.debug("log maintenance skipped: \(error)")
        }
    }

    private func report(_ report: LogManager.MaintenanceReport) {
        if report.segmentsDeleted > 0 { logger.info("retention deleted \(report.segmentsDeleted) segment(s)") }
        if report.segmentsCleaned > 0 { logger.info("the log cleaner cleaned \(report.segmentsCleaned) segment(s)") }
        if report.directoriesRemoved > 0 { logger.info("removed \(report.directoriesRemoved) deleted partition folder(s)") }
        for error in report.errors { logger.error("\(error)") }
    }
}
