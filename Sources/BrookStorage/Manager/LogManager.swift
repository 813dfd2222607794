import BrookModel
import Foundation
import Synchronization

/// The partition logs of a node's `log.dirs`: finding and recovering them at start, creating and
/// deleting them, and the per-directory files — `recovery-point-offset-checkpoint`,
/// `log-start-offset-checkpoint`, `meta.properties` and the clean-shutdown marker.
///
/// Start-up: the clean-shutdown marker of each directory is read and removed (so a crash from now
/// on is detected next time), and every partition folder is opened; after an unclean stop its
/// segments past the checkpointed recovery point are scanned. Directories recover in parallel, up
/// to `num.recovery.threads.per.data.dir` partitions each.
///
/// Topic incarnations: each partition folder carries the id of its topic in `partition.metadata`
/// (``PartitionMetadataFile``). A folder that names another id than the metadata's is never
/// served: it is renamed `<topic>-<partition>.<unique id>-stray` and kept for the operator (Kafka
/// 3.7+ does the same with stray logs), and the partition starts empty in a new folder. Deleting
/// a partition renames its folder `<topic>-<partition>.<unique id>-delete` (fsynced, so a crash
/// afterwards never brings the partition back) and queues it; ``removeDeletedDirectories(now:delayMs:)``
/// removes it once `log.segment.delete.delay.ms` has passed. Start-up queues every `-delete`
/// folder it finds again and never loads it or a `-stray` one.
///
/// Shutdown: every log is flushed and closed, then the checkpoints are written and the marker is
/// created. Thread-safety: the table of logs is guarded by a mutex; each log guards itself; the
/// checkpoint files are written under a lock of their own, so two writers never interleave.
///
/// A disk failure in a directory takes it offline (``LogDirectoryHealth``): its logs refuse
/// reads and writes, new partitions go to the directories still online, and nothing of it is
/// flushed, checkpointed or marked clean again, so the next start recovers it.
public final class LogManager: Sendable {
    public struct Configuration: Sendable {
        public var logDirs: [String]
        public var recoveryThreadsPerDataDir: Int = 2
        public var clock: any LogClock = SystemLogClock()
        /// Whether the append that rolls a segment fsyncs the old one itself. The broker's
        /// maintenance service calls `flushIfDue()` every second, which fsyncs rolled segments
        /// as Kafka's scheduler does, so appends do not wait for the disk by default.
        public var syncsRolledSegmentsInline = false
        /// The log cleaner's settings (`log.cleaner.dedupe.buffer.size`...).
        public var cleaner = LogCleaner.Configuration()
        /// Told once per directory when a disk failure takes it offline.
        public var onDirectoryOffline: @Sendable (String, StorageError) -> Void = { _, _ in }
        /// Told about every folder set aside as `-stray` (the broker logs a warning).
        public var strayLogFound: @Sendable (StrayLog) -> Void = { _ in }

        public init(logDirs: [String], recoveryThreadsPerDataDir: Int = 2) {
            self.logDirs = logDirs
            self.recoveryThreadsPerDataDir = recoveryThreadsPerDataDir
        }
    }

    struct Entry: Sendable {
        let log: PartitionLog
        let directory: String
    }

    public let configuration: Configuration
    let logs = Mutex<[TopicPartition: Entry]>([:])
    /// Deleted partitions' folders, renamed `-delete`, waiting for their removal.
    let pendingDirectoryDeletions = Mutex<[PendingDirectoryDeletion]>([])
    /// Serialises the writes of the recovery-point and log-start-offset checkpoints.
    let checkpointWrites = Mutex(())
    /// Serialises the writes of `replication-offset-checkpoint`.
    let highWatermarkWrites = Mutex(())
    /// Serialises the writes of `cleaner-offset-checkpoint` (the cleaner's and a deletion's).
    let cleanerCheckpointWrites = Mutex(())
    /// Per compacted partition, the earliest delete horizon of the tombstones its last cleaning
    /// kept (see ``CleaningReport/nextDeleteHorizonMs``). In memory: after a restart the
    /// tombstones go at the next cleaning the dirty ratio triggers.
    let deleteHorizons = Mutex<[TopicPartition: Int64]>([:])
    /// Whether each directory was shut down cleanly last time.
    public let hadCleanShutdown: [String: Bool]
    /// Each log directory's health, shared by the logs in it.
    public let health: [String: LogDirectoryHealth]

    /// Prepares the directories (created when missing) and consumes their clean-shutdown markers.
    public init(configuration: Configuration) throws {
        self.configuration = configuration
        var clean: [String: Bool] = [:]
        for directory in configuration.logDirs {
            try FileIO.createDirectory(directory)
            let marker = CleanShutdownMarker(logDirectory: directory)
            let isNew = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).isEmpty
            clean[directory] = isNew || marker.exists()
            try marker.remove()
        }
        hadCleanShutdown = clean
        let report = configuration.onDirectoryOffline
        health = Dictionary(uniqueKeysWithValues: configuration.logDirs.map { directory in
            (directory, LogDirectoryHealth(directory: directory, onOffline: report))
        })
    }

    /// The log directories still online.
    public var onlineDirectories: [String] {
        configuration.logDirs.filter { health[$0]?.isOnline ?? true }
    }

    /// Opens every partition found in the log directories, with `config(partition)` as its
    /// configuration (nil skips a partition the metadata no longer knows; its folder stays) and
    /// `topicId(partition)` as the topic id its folder must hold (nil checks nothing). A folder
    /// holding another topic id is set aside as `-stray` and not opened; `-delete` folders are
    /// queued for removal.
    @discardableResult
    public func loadLogs(
        config: @Sendable (TopicPartition) -> LogConfig?,
        topicId: @Sendable (TopicPartition) -> KafkaUUID? = { _ in nil }
    ) async throws -> [TopicPartition: PartitionLog] {
        var opened: [TopicPartition: PartitionLog] = [:]
        let now = configuration.clock.nowMilliseconds()
        for directory in configuration.logDirs {
            let recoveryPoints = try OffsetCheckpointFile(directory: directory, kind: .recoveryPoint).read()
            let startOffsets = try OffsetCheckpointFile(directory: directory, kind: .logStartOffset).read()
            let clean = hadCleanShutdown[directory] ?? false
            let names = try FileManager.default.contentsOfDirectory(atPath: directory)
            var jobs: [(TopicPartition, String, LogConfig, KafkaUUID?)] = []
            for name in names.sorted() {
                let path = directory + "/" + name
                if name.hasSuffix(PartitionDirectoryName.deleteSuffix) {
                    scheduleRemoval(of: path, now: now)
                    continue
                }
                guard let partition = PartitionDirectoryName.parse(name), let logConfig = config(partition) else { continue }
                jobs.append((partition, path, logConfig, topicId(partition)))
            }
            let clock = configuration.clock
            let inline = configuration.syncsRolledSegmentsInline
            let directoryHealth = health[directory]
            let results = try await Self.run(jobs, parallelism: max(1, configuration.recoveryThreadsPerDataDir)) { job -> (TopicPartition, PartitionLog)? in
                let (partition, path, logConfig, topicId) = job
                do {
                    let log = try PartitionLog.open(
                        directory: path, config: logConfig, recoveryPoint: recoveryPoints[partition] ?? 0,
                        logStartOffset: startOffsets[partition], hadCleanShutdown: clean, topicId: topicId, clock: clock,
                        syncsRolledSegmentsInline: inline, health: directoryHealth
                    )
                    return (partition, log)
                } catch {
                    guard case StorageError.inconsistentTopicId(_, let expected, let found) = error else { throw error }
                    try self.setAside(partition, in: directory, expected: expected, found: found)
                    return nil
                }
            }
            logs.withLock { table in
                for case let .some((partition, log)) in results {
                    table[partition] = Entry(log: log, directory: directory)
                    opened[partition] = log
                }
            }
            if results.contains(where: { $0 == nil }) {
                // The set-aside folders' recovery points and start offsets must not outlive them.
                try checkpoint(directory: directory)
            }
        }
        return opened
    }

    /// Runs `body` over `jobs` with at most `parallelism` at once.
    private static func run<Job: Sendable, Result: Sendable>(
        _ jobs: [Job], parallelism: Int, _ body: @escaping @Sendable (Job) throws -> Result
    ) async throws -> [Result] {
        try await withThrowingTaskGroup(of: Result.self) { group in
            var results: [Result] = []
            var next = 0
            while next < jobs.count && next < parallelism {
                let job = jobs[next]
                group.addTask { try body(job) }
                next += 1
            }
            while let result = try await group.next() {
                results.append(result)
                if next < jobs.count {
                    let job = jobs[next]
                    group.addTask { try body(job) }
                    next += 1
                }
            }
            return results
        }
    }

    /// The open log of a partition.
    public func log(_ partition: TopicPartition) -> PartitionLog? {
        logs.withLock { $0[partition]?.log }
    }

    /// Every open log.
    public var allLogs: [TopicPartition: PartitionLog] {
        logs.withLock { $0.mapValues(\.log) }
    }

    /// The open logs of the directories still online (maintenance leaves offline ones alone).
    public var onlineLogs: [TopicPartition: PartitionLog] {
        allLogs.filter { $0.value.health.isOnline }
    }

    /// The open logs grouped by log directory.
    public var logsByDirectory: [String: [TopicPartition: PartitionLog]] {
        logs.withLock { table in
            var result: [String: [TopicPartition: PartitionLog]] = [:]
            for (key, entry) in table { result[entry.directory, default: [:]][key] = entry.log }
            return result
        }
    }

    /// Opens the partition's log, creating it in the directory with the fewest partitions unless
    /// a folder for it exists already. With a `topicId`, a folder (or an open log) of another
    /// topic incarnation is set aside as `-stray` and the partition starts empty.
    public func getOrCreate(_ partition: TopicPartition, config: LogConfig, topicId: KafkaUUID? = nil) throws -> PartitionLog {
        if let existing = log(partition) {
            guard let topicId, let held = existing.topicId, held != topicId else { return existing }
            // Still open from another incarnation (its deletion failed): never served as this one.
            let detached = logs.withLock { table -> Entry? in
                guard table[partition]?.log === existing else { return nil }
                return table.removeValue(forKey: partition)
            }
            if let detached {
                try detached.log.close()
                try setAside(partition, in: detached.directory, expected: topicId, found: held)
                try checkpoint(directory: detached.directory)
            }
            return try getOrCreate(partition, config: config, topicId: topicId)
        }
        let name = PartitionDirectoryName.name(for: partition)
        let online = onlineDirectories
        guard !online.isEmpty else {
            let failed = configuration.logDirs[0]
            throw StorageError.directoryOffline(
                directory: failed, cause: health[failed]?.failure?.description ?? "every log directory is offline")
        }
        let directory = online.first { FileManager.default.fileExists(atPath: $0 + "/" + name) }
            ?? logs.withLock { table in
                online.min { left, right in
                    table.values.filter { $0.directory == left }.count < table.values.filter { $0.directory == right }.count
                } ?? online[0]
            }
        let log = try openSettingAside(partition, in: directory, config: config, topicId: topicId)
        return logs.withLock { table in
            if let raced = table[partition] {
                try? log.close()
                return raced.log
            }
            table[partition] = Entry(log: log, directory: directory)
            return log
        }
    }

    /// Opens (creating) the partition's folder in `directory`, first setting aside a folder of
    /// another topic incarnation found there.
    private func openSettingAside(
        _ partition: TopicPartition, in directory: String, config: LogConfig, topicId: KafkaUUID?
    ) throws -> PartitionLog {
        let path = directory + "/" + PartitionDirectoryName.name(for: partition)
        func open() throws(StorageError) -> PartitionLog {
            try PartitionLog.open(
                directory: path, config: config, recoveryPoint: 0, hadCleanShutdown: true, topicId: topicId,
                clock: configuration.clock, syncsRolledSegmentsInline: configuration.syncsRolledSegmentsInline,
                health: health[directory]
            )
        }
        do {
            return try open()
        } catch {
            guard case .inconsistentTopicId(_, let expected, let found) = error else { throw error }
            try setAside(partition, in: directory, expected: expected, found: found)
            try checkpoint(directory: directory)
            return try open()
        }
    }

    /// Writes each directory's recovery-point and log-start-offset checkpoints.
    public func checkpoint() throws {
        for directory in onlineDirectories {
            try checkpoint(directory: directory)
        }
    }

    /// Writes one directory's checkpoints from the logs open in it now.
    func checkpoint(directory: String) throws {
        try checkpointWrites.withLock { _ in
            let here = logs.withLock { $0.filter { $0.value.directory == directory } }
            try OffsetCheckpointFile(directory: directory, kind: .recoveryPoint).write(here.mapValues { $0.log.recoveryPoint })
            try OffsetCheckpointFile(directory: directory, kind: .logStartOffset).write(here.mapValues { $0.log.logStartOffset })
        }
    }

    /// Writes each online directory's `replication-offset-checkpoint`: the high watermarks of
    /// its partitions among `highWatermarks` (the broker knows them; the logs do not).
    public func checkpointHighWatermarks(_ highWatermarks: [TopicPartition: Int64]) throws {
        let placed = logs.withLock { logs in logs.mapValues(\.directory) }
        try highWatermarkWrites.withLock { _ in
            for directory in onlineDirectories {
                let here = highWatermarks.filter { placed[$0.key] == directory }
                try OffsetCheckpointFile(directory: directory, kind: .replication).write(here)
            }
        }
    }

    /// The high watermarks the directories' `replication-offset-checkpoint` files hold (a
    /// missing or unreadable file counts as empty: those partitions start from their leader's).
    public func checkpointedHighWatermarks() -> [TopicPartition: Int64] {
        var found: [TopicPartition: Int64] = [:]
        for directory in onlineDirectories {
            guard let values = try? OffsetCheckpointFile(directory: directory, kind: .replication).read() else { continue }
            found.merge(values) { max($0, $1) }
        }
        return found
    }

    /// Flushes and closes every log, writes the checkpoints and the clean-shutdown markers.
    /// Offline directories are left as they are, unmarked, so the next start recovers them.
    public func shutdown() throws {
        let snapshot = logs.withLock { $0 }.filter { health[$0.value.directory]?.isOnline ?? true }
        for entry in snapshot.values {
            try entry.log.flush()
        }
        try checkpoint()
        for entry in snapshot.values {
            try entry.log.close()
        }
        for directory in onlineDirectories {
            try CleanShutdownMarker(logDirectory: directory).create()
        }
    }
}
