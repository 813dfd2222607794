import BrookModel
import Synchronization

extension LogManager {
    /// What one maintenance pass did.
    public struct MaintenanceReport: Sendable, Equatable {
        public var segmentsDeleted = 0
        /// Segments replaced by cleaned ones.
        public var segmentsCleaned = 0
        public var filesRemoved = 0
        /// Deleted partitions' `-delete` folders removed.
        public var directoriesRemoved = 0
        public var errors: [String] = []

        public init() {}
    }

    /// Forgets idempotent producers idle for longer than `expirationMs` (`producer.id.expiration.ms`).
    public func expireProducers(now: Int64, expirationMs: Int64) -> MaintenanceReport {
        var report = MaintenanceReport()
        for (partition, log) in onlineLogs {
            do {
                try log.expireProducers(before: now - expirationMs)
            } catch {
                report.errors.append("producer expiry of \(partition): \(error)")
            }
        }
        return report
    }

    /// Deletes what retention no longer keeps: segments past `retention.ms` or `retention.bytes`
    /// and below the log start offset, for every log whose `cleanup.policy` includes delete.
    /// The active segment is rolled first when it has expired entirely, as Kafka does.
    public func applyRetention(now: Int64) -> MaintenanceReport {
        var report = MaintenanceReport()
        for (partition, log) in onlineLogs.sorted(by: { $0.key.description < $1.key.description }) {
            let config = log.config
            let policy = RetentionPolicy(
                retentionMs: config.retentionMs, retentionBytes: config.retentionBytes,
                deletesByPolicy: config.deletesOldSegments
            )
            do {
                var decision = policy.evaluate(
                    segments: try log.segmentSummaries(), logStartOffset: log.logStartOffset,
                    highWatermark: log.logEndOffset, nowMs: now
                )
                if decision.rollsActiveSegment {
                    try log.roll()
                    decision = policy.evaluate(
                        segments: try log.segmentSummaries(), logStartOffset: log.logStartOffset,
                        highWatermark: log.logEndOffset, nowMs: now
                    )
                }
                let doomed = Set(decision.segmentsToDelete.map(\.baseOffset))
                guard !doomed.isEmpty else { continue }
                report.segmentsDeleted += try log.deleteSegments { doomed.contains($0.baseOffset) }.count
            } catch {
                report.errors.append("retention of \(partition): \(error)")
            }
        }
        return report
    }

    /// Removes `.deleted` files whose `file.delete.delay.ms` has passed, and fsyncs logs whose
    /// `flush.messages` / `flush.ms` are due.
    public func flushAndCollect(now: Int64) -> MaintenanceReport {
        var report = MaintenanceReport()
        for (partition, log) in onlineLogs.sorted(by: { $0.key.description < $1.key.description }) {
            do {
                report.filesRemoved += try log.deleteExpiredSegmentFiles(now: now)
                try log.flushIfDue()
            } catch {
                report.errors.append("maintenance of \(partition): \(error)")
            }
        }
        return report
    }

    /// Runs the log cleaner over every log whose `cleanup.policy` includes compact (see
    /// ``LogCleaner``), one log after another, and writes each directory's
    /// `cleaner-offset-checkpoint` when an entry changed. A failure is reported and leaves that
    /// log as it was; the others are still cleaned.
    public func clean(now: Int64) -> MaintenanceReport {
        var report = MaintenanceReport()
        let cleaner = LogCleaner(configuration: configuration.cleaner)
        for (directory, logs) in logsByDirectory.sorted(by: { $0.key < $1.key }) where health[directory]?.isOnline ?? true {
            let file = OffsetCheckpointFile(directory: directory, kind: .cleaner)
            var checkpoints: [TopicPartition: Int64]
            do {
                checkpoints = try file.read()
            } catch {
                report.errors.append("reading \(file.path): \(error)")
                checkpoints = [:]
            }
            var changed = false
            for partition in checkpoints.keys where logs[partition]?.config.isCompacted != true {
                // Deleted partitions and topics no longer compacted lose their entry.
                checkpoints.removeValue(forKey: partition)
                changed = true
            }
            for (partition, log) in logs.sorted(by: { $0.key.description < $1.key.description }) where log.config.isCompacted {
                do {
                    let horizon = deleteHorizons.withLock { $0[partition] }
                    let result = try cleaner.cleanIfNeeded(
                        log: log, now: now, checkpoint: checkpoints[partition], pendingDeleteHorizonMs: horizon)
                    report.segmentsCleaned += result.segmentsCleaned
                    deleteHorizons.withLock { $0[partition] = result.nextDeleteHorizonMs }
                    if let next = result.newCheckpoint, next != checkpoints[partition] {
                        checkpoints[partition] = next
                        changed = true
                    }
                } catch {
                    report.errors.append("cleaning of \(partition): \(error)")
                }
            }
            if changed {
                cleanerCheckpointWrites.withLock { _ in
                    // A partition deleted (or replaced by a new incarnation) during this pass loses
                    // its entry, which delete(_:) may already have removed from the file.
                    let live = allLogs
                    for partition in checkpoints.keys where live[partition] !== logs[partition] {
                        checkpoints.removeValue(forKey: partition)
                    }
                    do {
                        try file.write(checkpoints)
                    } catch {
                        report.errors.append("writing \(file.path): \(error)")
                    }
                }
            }
        }
        return report
    }
}
