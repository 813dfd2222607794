import BrookModel
import Foundation
import Synchronization

/// A partition folder set aside because it holds another topic incarnation's data.
public struct StrayLog: Sendable, Equatable {
    public var partition: TopicPartition
    /// Where the folder now is: `<log.dir>/<topic>-<partition>.<unique id>-stray`.
    public var path: String
    /// The topic id the metadata names for the partition.
    public var expectedTopicId: KafkaUUID
    /// The topic id the folder's `partition.metadata` holds.
    public var foundTopicId: KafkaUUID
}

/// A deleted partition's folder, renamed `-delete`, waiting for `log.segment.delete.delay.ms`.
public struct PendingDirectoryDeletion: Sendable, Equatable {
    public var path: String
    /// When the folder was renamed (or found at start-up), on the log manager's clock.
    public var scheduledAtMs: Int64
}

extension LogManager {
    /// Closes a partition's log and renames its folder `<topic>-<partition>.<unique id>-delete`
    /// (then fsyncs the log directory, so the rename survives a crash), queues the folder for
    /// ``removeDeletedDirectories(now:delayMs:)``, and rewrites the directory's checkpoints
    /// (recovery point, log start offset, cleaner offset) without the partition, so that a new
    /// topic of the same name never inherits them. A crash after the rename leaves a `-delete` folder, which the
    /// next start-up queues again; a crash before it leaves the folder live, and its
    /// `partition.metadata` keeps it from being served as a later topic of the same name.
    public func delete(_ partition: TopicPartition) throws {
        guard let entry = logs.withLock({ $0.removeValue(forKey: partition) }) else { return }
        deleteHorizons.withLock { _ = $0.removeValue(forKey: partition) }
        try entry.log.close()
        let path = entry.directory + "/" + PartitionDirectoryName.name(for: partition)
        let doomed = entry.directory + "/" + PartitionDirectoryName.name(for: partition, suffix: PartitionDirectoryName.deleteSuffix)
        try FileIO.move(path, to: doomed)
        try FileIO.syncDirectory(entry.directory)
        scheduleRemoval(of: doomed, now: configuration.clock.nowMilliseconds())
        try checkpoint(directory: entry.directory)
        try cleanerCheckpointWrites.withLock { _ in
            let file = OffsetCheckpointFile(directory: entry.directory, kind: .cleaner)
            var entries = try file.read()
            if entries.removeValue(forKey: partition) != nil {
                try file.write(entries)
            }
        }
    }

    /// The `-delete` folders not yet removed, oldest first.
    public var pendingDirectoryRemovals: [PendingDirectoryDeletion] {
        pendingDirectoryDeletions.withLock { $0 }
    }

    func scheduleRemoval(of path: String, now: Int64) {
        pendingDirectoryDeletions.withLock { $0.append(PendingDirectoryDeletion(path: path, scheduledAtMs: now)) }
    }

    /// Removes, with everything in them, the `-delete` folders queued at least `delayMs` before
    /// `now` (Kafka's `log.segment.delete.delay.ms`, read when the removal runs, as Kafka reads
    /// its current default). Blocking file-system work: the broker runs it on a thread made for
    /// it, never on the cooperative pool. A folder that cannot be removed is reported and
    /// forgotten (the next start-up queues it again), as Kafka does.
    public func removeDeletedDirectories(now: Int64, delayMs: Int64) -> MaintenanceReport {
        let due = pendingDirectoryDeletions.withLock { pending -> [PendingDirectoryDeletion] in
            let due = pending.filter { $0.scheduledAtMs &+ max(0, delayMs) <= now }
            pending.removeAll { $0.scheduledAtMs &+ max(0, delayMs) <= now }
            return due
        }
        var report = MaintenanceReport()
        for deletion in due {
            guard FileManager.default.fileExists(atPath: deletion.path) else { continue }
            do {
                try FileManager.default.removeItem(atPath: deletion.path)
                report.directoriesRemoved += 1
            } catch {
                report.errors.append("removing \(deletion.path): \(error)")
            }
        }
        return report
    }

    /// Renames the partition's live folder in `directory` to `<topic>-<partition>.<unique id>-stray`
    /// (kept, never loaded, never served) and tells ``Configuration/strayLogFound``.
    /// Callers then rewrite the directory's checkpoints, so that the partition's next folder does
    /// not inherit the set-aside one's recovery point or log start offset.
    func setAside(_ partition: TopicPartition, in directory: String, expected: KafkaUUID, found: KafkaUUID) throws {
        let path = directory + "/" + PartitionDirectoryName.name(for: partition)
        let stray = directory + "/" + PartitionDirectoryName.name(for: partition, suffix: PartitionDirectoryName.straySuffix)
        try FileIO.move(path, to: stray)
        try FileIO.syncDirectory(directory)
        configuration.strayLogFound(StrayLog(partition: partition, path: stray, expectedTopicId: expected, foundTopicId: found))
    }
}
