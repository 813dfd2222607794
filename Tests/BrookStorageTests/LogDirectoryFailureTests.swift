#if canImport(Glibc)
import Glibc
#endif
import BrookModel
import BrookRecords
import Foundation
import NIOCore
import Synchronization
import Testing

@testable import BrookStorage

/// A disk that fails on demand: every call of the chosen operations fails with `errno` once
/// `armed`, optionally only from the Nth call on and only on paths containing `matching`.
final class FailingDisk: StorageFaultInjector {
    private struct State {
        var failing: Set<StorageError.FileOperation> = []
        var code: Int32 = EIO
        var matching: String?
        var calls: [StorageError.FileOperation: Int] = [:]
    }
    private let state = Mutex(State())

    func fail(_ operations: Set<StorageError.FileOperation>, errno code: Int32 = EIO, matching: String? = nil) {
        state.withLock {
            $0.failing = operations
            $0.code = code
            $0.matching = matching
        }
    }

    func heal() { state.withLock { $0.failing = [] } }

    func calls(_ operation: StorageError.FileOperation) -> Int { state.withLock { $0.calls[operation, default: 0] } }

    func fault(for operation: StorageError.FileOperation, path: String) -> StorageFault? {
        state.withLock { state in
            state.calls[operation, default: 0] += 1
            guard state.failing.contains(operation), state.matching.map(path.contains) ?? true else { return nil }
            return .fail(errno: state.code)
        }
    }

    /// Installs the disk under `directory` for the duration of `body`.
    func installed<T>(under directory: String, _ body: () throws -> T) rethrows -> T {
        let id = StorageFaults.install(self, under: directory)
        defer { StorageFaults.remove(id) }
        return try body()
    }
}

@Suite struct LogDirectoryFailureTests {
    private func logDirectory(of directory: LogTestDirectory) -> String {
        (directory.path as NSString).deletingLastPathComponent
    }

    @Test func aFailedFsyncTakesTheDirectoryOfflineAndIsNeverRetried() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try LogFixtures.open(directory)
        let disk = FailingDisk()
        try disk.installed(under: logDirectory(of: directory)) {
            try log.append(LogFixtures.batch(count: 3), leaderEpoch: LeaderEpoch(0))
            disk.fail([.sync])
            #expect(throws: StorageError.self) { try log.flush() }
            #expect(log.recoveryPoint == 0)
            #expect(!log.health.isOnline)
            // The kernel would now report success for the same pages: the log must not try.
            disk.heal()
            let syncs = disk.calls(.sync)
            #expect { try log.flush() } throws: { error in
                guard case StorageError.directoryOffline = error else { return false }
                return true
            }
            #expect(disk.calls(.sync) == syncs, "no fsync after the failure")
            #expect(log.recoveryPoint == 0)
            #expect { try log.append(LogFixtures.batch(), leaderEpoch: LeaderEpoch(0)) } throws: { error in
                guard case StorageError.directoryOffline = error else { return false }
                return true
            }
            #expect(throws: StorageError.self) { try log.read(from: 0, maxBytes: 1 << 20) }
        }
    }

    @Test func everyLogOfTheDirectoryGoesOfflineAndOtherDirectoriesKeepServing() async throws {
        let root = FileManager.default.temporaryDirectory.path + "/brook-dirs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let offline = Mutex<[String]>([])
        var configuration = LogManager.Configuration(logDirs: [root + "/a", root + "/b"])
        configuration.onDirectoryOffline = { directory, _ in offline.withLock { $0.append(directory) } }
        let manager = try LogManager(configuration: configuration)
        var logs: [TopicPartition: PartitionLog] = [:]
        for partition in 0..<4 {
            let key = TopicPartition(topic: "t", partition: Int32(partition))
            logs[key] = try manager.getOrCreate(key, config: LogConfig())
        }
        let inA = logs.filter { $0.value.directory.hasPrefix(root + "/a/") }
        let inB = logs.filter { $0.value.directory.hasPrefix(root + "/b/") }
        try #require(inA.count == 2 && inB.count == 2)
        let disk = FailingDisk()
        try disk.installed(under: root + "/a") {
            disk.fail([.write])
            let first = inA.first!.value
            #expect(throws: StorageError.self) { try first.append(LogFixtures.batch(), leaderEpoch: LeaderEpoch(0)) }
        }
        #expect(offline.withLock { $0 } == [root + "/a"])
        for (_, log) in inA {
            #expect(!log.health.isOnline)
            #expect(throws: StorageError.self) { try log.append(LogFixtures.batch(), leaderEpoch: LeaderEpoch(0)) }
        }
        for (_, log) in inB {
            try log.append(LogFixtures.batch(), leaderEpoch: LeaderEpoch(0))
            #expect(log.logEndOffset == 1)
        }
        // New partitions go to the directory still online; shutdown leaves the failed one unmarked.
        let fresh = try manager.getOrCreate(TopicPartition(topic: "u", partition: 0), config: LogConfig())
        #expect(fresh.directory.hasPrefix(root + "/b/"))
        try manager.shutdown()
        #expect(CleanShutdownMarker(logDirectory: root + "/b").exists())
        #expect(!CleanShutdownMarker(logDirectory: root + "/a").exists())
    }

    @Test func aFullDiskRefusesTheAppendWholeAndTheLogGoesOn() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try LogFixtures.open(directory)
        let disk = FailingDisk()
        try disk.installed(under: logDirectory(of: directory)) {
            try log.append(LogFixtures.batch(count: 2, tag: 1), leaderEpoch: LeaderEpoch(0))
            let sizeBefore = directory.size(directory.segmentFile(0))
            disk.fail([.write], errno: ENOSPC, matching: ".log")
            #expect { try log.append(LogFixtures.batch(count: 5, tag: 2), leaderEpoch: LeaderEpoch(0)) } throws: { error in
                guard case StorageError.appendRefusedForSpace = error else { return false }
                return true
            }
            #expect(log.logEndOffset == 2)
            #expect(directory.size(directory.segmentFile(0)) == sizeBefore, "nothing half-written")
            #expect(log.health.isOnline)
            disk.heal()
            try log.append(LogFixtures.batch(count: 1, tag: 3), leaderEpoch: LeaderEpoch(0))
            #expect(log.logEndOffset == 3)
        }
        try log.close()
        let reopened = try LogFixtures.open(directory, recoveryPoint: 0, clean: false)
        #expect(try LogFixtures.allBatches(reopened).map(\.recordCount) == [2, 1])
    }

    @Test func aFullDiskWhoseCutAlsoFailsTakesTheDirectoryOffline() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try LogFixtures.open(directory)
        let disk = FailingDisk()
        try disk.installed(under: logDirectory(of: directory)) {
            disk.fail([.write, .truncate], errno: ENOSPC, matching: ".log")
            #expect(throws: StorageError.self) { try log.append(LogFixtures.batch(), leaderEpoch: LeaderEpoch(0)) }
            #expect(!log.health.isOnline)
        }
    }
}
