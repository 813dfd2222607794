import BrookModel

extension LogManager {
    /// What one maintenance pass did.
    public struct MaintenanceReport: Sendable, Equatable {
        public var segmentsDeleted = 0
        public var filesRemoved = 0
        public var errors: [String] = []
    }

    /// Deletes what retention no longer keeps: segments past `retention.ms` or `retention.bytes`
    /// and below the log start offset, for every log whose `cleanup.policy` includes delete.
    /// The active segment is rolled first when it has expired entirely, as Kafka does.
    public func applyRetention(now: Int64) -> MaintenanceReport {
        var report = MaintenanceReport()
        for (partition, log) in allLogs.sorted(by: { $0.key.description < $1.key.description }) {
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
        for (partition, log) in allLogs.sorted(by: { $0.key.description < $1.key.description }) {
            do {
                report.filesRemoved += try log.deleteExpiredSegmentFiles(now: now)
                try log.flushIfDue()
            } catch {
                report.errors.append("maintenance of \(partition): \(error)")
            }
        }
        return report
    }
}
