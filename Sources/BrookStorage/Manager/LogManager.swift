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
/// Shutdown: every log is flushed and closed, then the checkpoints are written and the marker is
/// created. Thread-safety: the table of logs is guarded by a mutex; each log guards itself.
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

        public init(logDirs: [String], recoveryThreadsPerDataDir: Int = 2) {
            self.logDirs = logDirs
            self.recoveryThreadsPerDataDir = recoveryThreadsPerDataDir
        }
    }

    private struct Entry: Sendable {
        let log: PartitionLog
        let directory: String
    }

    public let configuration: Configuration
    private let logs = Mutex<[TopicPartition: Entry]>([:])
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
    /// configuration (nil skips a partition the metadata no longer knows; its folder stays).
    @discardableResult
    public func loadLogs(config: @Sendable (TopicPartition) -> LogConfig?) async throws -> [TopicPartition: PartitionLog] {
        var opened: [TopicPartition: PartitionLog] = [:]
        for directory in configuration.logDirs {
            let recoveryPoints = try OffsetCheckpointFile(directory: directory, kind: .recoveryPoint).read()
            let startOffsets = try OffsetCheckpointFile(directory: directory, kind: .logStartOffset).read()
            let clean = hadCleanShutdown[directory] ?? false
            let names = try FileManager.default.contentsOfDirectory(atPath: directory)
            var jobs: [(TopicPartition, String, LogConfig)] = []
            for name in names.sorted() {
                let path = directory + "/" + name
                if name.hasSuffix(PartitionDirectoryName.deleteSuffix) {
                    try? FileManager.default.removeItem(atPath: path)
                    continue
                }
                guard let partition = PartitionDirectoryName.parse(name), let logConfig = config(partition) else { continue }
                jobs.append((partition, path, logConfig))
            }
            let clock = configuration.clock
            let inline = configuration.syncsRolledSegmentsInline
            let directoryHealth = health[directory]
            let results = try await Self.run(jobs, parallelism: max(1, configuration.recoveryThreadsPerDataDir)) { job in
                let (partition, path, logConfig) = job
                let log = try PartitionLog.open(
                    directory: path, config: logConfig, recoveryPoint: recoveryPoints[partition] ?? 0,
                    logStartOffset: startOffsets[partition], hadCleanShutdown: clean, clock: clock,
                    syncsRolledSegmentsInline: inline, health: directoryHealth
                )
                return (partition, log)
            }
            logs.withLock { table in
                for (partition, log) in results {
                    table[partition] = Entry(log: log, directory: directory)
                    opened[partition] = log
                }
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

    /// Opens the partition's log, creating it in the directory with the fewest partitions.
    public func getOrCreate(_ partition: TopicPartition, config: LogConfig) throws -> PartitionLog {
        if let existing = log(partition) { return existing }
        let online = onlineDirectories
        guard !online.isEmpty else {
            let failed = configuration.logDirs[0]
            throw StorageError.directoryOffline(
                directory: failed, cause: health[failed]?.failure?.description ?? "every log directory is offline")
        }
        let directory = logs.withLock { table in
            online.min { left, right in
                table.values.filter { $0.directory == left }.count < table.values.filter { $0.directory == right }.count
            } ?? online[0]
        }
        let path = directory + "/" + PartitionDirectoryName.name(for: partition)
        let log = try PartitionLog.open(
            directory: path, config: config, recoveryPoint: 0, hadCleanShutdown: true, clock: configuration.clock,
            syncsRolledSegmentsInline: configuration.syncsRolledSegmentsInline, health: health[directory]
        )
        return logs.withLock { table in
            if let raced = table[partition] {
                try? log.close()
                return raced.log
            }
            table[partition] = Entry(log: log, directory: directory)
            return log
        }
    }

    /// Closes a partition's log and deletes its folder (renamed with `-delete` first, so a crash
    /// midway leaves nothing that looks like a live partition).
    public func delete(_ partition: TopicPartition) throws {
        guard let entry = logs.withLock({ $0.removeValue(forKey: partition) }) else { return }
        try entry.log.close()
        let name = PartitionDirectoryName.name(for: partition)
        let path = entry.directory + "/" + name
        let doomed = entry.directory + "/" + name + "." + UUID().uuidString.replacingOccurrences(of: "-", with: "") + PartitionDirectoryName.deleteSuffix
        try FileManager.default.moveItem(atPath: path, toPath: doomed)
        try FileIO.syncDirectory(entry.directory)
        try FileManager.default.removeItem(atPath: doomed)
    }

    /// Writes each directory's recovery-point and log-start-offset checkpoints.
    public func checkpoint() throws {
        let snapshot = logs.withLock { $0 }
        for directory in onlineDirectories {
            let here = snapshot.filter { $0.value.directory == directory }
            try OffsetCheckpointFile(directory: directory, kind: .recoveryPoint).write(here.mapValues { $0.log.recoveryPoint })
            try OffsetCheckpointFile(directory: directory, kind: .logStartOffset).write(here.mapValues { $0.log.logStartOffset })
        }
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
