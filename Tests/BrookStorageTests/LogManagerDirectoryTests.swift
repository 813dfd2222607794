import BrookModel
import Foundation
import Synchronization
import Testing

@testable import BrookStorage

/// Deleted partitions' `-delete` folders and other incarnations' `-stray` folders.
@Suite struct LogManagerDirectoryTests {
    static let first = KafkaUUID("MkU3OEVBNTcwNTJENDM2Qg")!
    static let second = KafkaUUID("AAAAAAAAAAAAAAAAAAAAAQ")!
    static let partition = TopicPartition(topic: "t", partition: 0)

    /// A log directory of its own, a manual clock, and the stray folders reported.
    struct Fixture {
        let root: LogTestDirectory
        let logDir: String
        let clock = ManualLogClock()
        let strays = StrayRecorder()

        init() throws {
            root = try LogTestDirectory("manager-dirs")
            logDir = (root.path as NSString).deletingLastPathComponent + "/data"
        }

        func manager() throws -> LogManager {
            var configuration = LogManager.Configuration(logDirs: [logDir])
            configuration.clock = clock
            let strays = self.strays
            configuration.strayLogFound = { stray in strays.list.withLock { $0.append(stray) } }
            return try LogManager(configuration: configuration)
        }

        var names: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: logDir)) ?? []).sorted() }

        func names(matching pattern: String) -> [String] {
            names.filter { $0.range(of: pattern, options: .regularExpression) != nil }
        }

        func remove() { root.remove() }
    }

    func append(_ log: PartitionLog, count: Int) throws {
        try log.append(LogFixtures.batch(count: count), leaderEpoch: LeaderEpoch(0))
    }

    @Test func highWatermarksAreCheckpointedPerDirectoryAndReadBack() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let manager = try fixture.manager()
        let other = TopicPartition(topic: "u", partition: 3)
        _ = try manager.getOrCreate(Self.partition, config: LogConfig(), topicId: Self.first)
        #expect(manager.checkpointedHighWatermarks().isEmpty, "no file yet")
        // A partition without a log here is left out: the file names only what the directory holds.
        try manager.checkpointHighWatermarks([Self.partition: 42, other: 7])
        #expect(fixture.names.contains("replication-offset-checkpoint"))
        #expect(try fixture.manager().checkpointedHighWatermarks() == [Self.partition: 42])
    }

    @Test func setAsideNamesFollowKafkaAndFit255Bytes() {
        let short = PartitionDirectoryName.name(for: Self.partition, suffix: "-delete")
        #expect(short.range(of: #"^t-0\.[0-9a-f]{32}-delete$"#, options: .regularExpression) != nil)
        let long = TopicPartition(topic: String(repeating: "x", count: 249), partition: 12)
        let capped = PartitionDirectoryName.name(for: long, suffix: "-stray", uniqueId: String(repeating: "a", count: 32))
        #expect(capped.utf8.count == 255)
        #expect(capped.hasSuffix("-12." + String(repeating: "a", count: 32) + "-stray"))
        #expect(PartitionDirectoryName.parse(short) == nil)
        #expect(PartitionDirectoryName.parse(capped) == nil)
    }

    @Test func deletionRenamesTheFolderAndRemovesItAfterTheDelay() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let manager = try fixture.manager()
        try append(try manager.getOrCreate(Self.partition, config: LogFixtures.config(), topicId: Self.first), count: 2)
        try manager.delete(Self.partition)
        #expect(manager.log(Self.partition) == nil)
        let doomed = fixture.names(matching: #"^t-0\.[0-9a-f]{32}-delete$"#)
        #expect(doomed.count == 1)
        #expect(!fixture.names.contains("t-0"))
        #expect(manager.pendingDirectoryRemovals.map(\.path) == doomed.map { fixture.logDir + "/" + $0 })

        // Not before the delay...
        fixture.clock.advance(by: 59_999)
        #expect(manager.removeDeletedDirectories(now: fixture.clock.nowMilliseconds(), delayMs: 60_000).directoriesRemoved == 0)
        #expect(fixture.names(matching: "-delete$").count == 1)
        // ...and gone once it has passed.
        fixture.clock.advance(by: 1)
        let report = manager.removeDeletedDirectories(now: fixture.clock.nowMilliseconds(), delayMs: 60_000)
        #expect(report.directoriesRemoved == 1)
        #expect(report.errors.isEmpty)
        #expect(fixture.names(matching: "-delete$").isEmpty)
        #expect(manager.pendingDirectoryRemovals.isEmpty)
        try manager.shutdown()
    }

    @Test func deletionDropsThePartitionFromTheCheckpoints() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let manager = try fixture.manager()
        try append(try manager.getOrCreate(Self.partition, config: LogFixtures.config(), topicId: Self.first), count: 2)
        try manager.checkpoint()
        let other = TopicPartition(topic: "u", partition: 0)
        try OffsetCheckpointFile(directory: fixture.logDir, kind: .cleaner).write([Self.partition: 2, other: 7])
        #expect(try OffsetCheckpointFile(directory: fixture.logDir, kind: .recoveryPoint).read()[Self.partition] != nil)
        try manager.delete(Self.partition)
        #expect(try OffsetCheckpointFile(directory: fixture.logDir, kind: .recoveryPoint).read()[Self.partition] == nil)
        #expect(try OffsetCheckpointFile(directory: fixture.logDir, kind: .logStartOffset).read()[Self.partition] == nil)
        #expect(try OffsetCheckpointFile(directory: fixture.logDir, kind: .cleaner).read() == [other: 7])
        try manager.shutdown()
    }

    @Test func startUpNeverLoadsDeleteFoldersAndRemovesThemInTheBackground() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let manager = try fixture.manager()
        try append(try manager.getOrCreate(Self.partition, config: LogFixtures.config(), topicId: Self.first), count: 2)
        try manager.delete(Self.partition)
        try manager.shutdown()  // stopped before the delay passed: the folder is still there

        let restarted = try fixture.manager()
        let loaded = try await restarted.loadLogs(config: { _ in LogFixtures.config() }, topicId: { _ in Self.first })
        #expect(loaded.isEmpty)
        #expect(restarted.pendingDirectoryRemovals.count == 1)
        #expect(restarted.removeDeletedDirectories(now: fixture.clock.nowMilliseconds(), delayMs: 0).directoriesRemoved == 1)
        #expect(fixture.names(matching: "-delete$").isEmpty)
        try restarted.shutdown()
    }

    @Test func startUpSetsAsideAFolderOfAnotherIncarnation() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let manager = try fixture.manager()
        try append(try manager.getOrCreate(Self.partition, config: LogFixtures.config(), topicId: Self.first), count: 2)
        try manager.shutdown()

        // The metadata now names another topic "t": the old folder is not its data.
        let restarted = try fixture.manager()
        let loaded = try await restarted.loadLogs(config: { _ in LogFixtures.config() }, topicId: { _ in Self.second })
        #expect(loaded.isEmpty)
        let strays = fixture.names(matching: #"^t-0\.[0-9a-f]{32}-stray$"#)
        #expect(strays.count == 1)
        #expect(fixture.strays.list.withLock { $0.map(\.foundTopicId) } == [Self.first])
        #expect(try OffsetCheckpointFile(directory: fixture.logDir, kind: .recoveryPoint).read()[Self.partition] == nil)
        #expect(try PartitionMetadataFile(directory: fixture.logDir + "/" + strays[0]).read() == Self.first)

        let fresh = try restarted.getOrCreate(Self.partition, config: LogFixtures.config(), topicId: Self.second)
        #expect(fresh.logEndOffset == 0)
        #expect(fresh.topicId == Self.second)
        try restarted.shutdown()

        // The stray folder stays put and is never loaded.
        let again = try fixture.manager()
        let reloaded = try await again.loadLogs(config: { _ in LogFixtures.config() }, topicId: { _ in Self.second })
        #expect(reloaded.keys.sorted { $0.description < $1.description } == [Self.partition])
        #expect(reloaded[Self.partition]?.logEndOffset == 0)
        #expect(fixture.names(matching: "-stray$") == strays)
        try again.shutdown()
    }

    @Test func creatingOverALeftoverFolderOfAnotherIncarnationStartsEmpty() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let manager = try fixture.manager()
        let old = try manager.getOrCreate(Self.partition, config: LogFixtures.config(), topicId: Self.first)
        try append(old, count: 5)
        try manager.shutdown()

        // A deletion that never reached the folder: a new manager is asked for the new topic.
        let next = try fixture.manager()
        let fresh = try next.getOrCreate(Self.partition, config: LogFixtures.config(), topicId: Self.second)
        #expect(fresh.logEndOffset == 0)
        #expect(try LogFixtures.allBatches(fresh).isEmpty)
        #expect(fixture.names(matching: "-stray$").count == 1)
        #expect(try PartitionMetadataFile(directory: fixture.logDir + "/t-0").read() == Self.second)
        #expect(try OffsetCheckpointFile(directory: fixture.logDir, kind: .recoveryPoint).read()[Self.partition] == nil)
        try next.shutdown()
    }

    @Test func anOpenLogOfAnotherIncarnationIsNotReturned() throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let manager = try fixture.manager()
        let old = try manager.getOrCreate(Self.partition, config: LogFixtures.config(), topicId: Self.first)
        try append(old, count: 5)
        let fresh = try manager.getOrCreate(Self.partition, config: LogFixtures.config(), topicId: Self.second)
        #expect(fresh !== old)
        #expect(fresh.logEndOffset == 0)
        #expect(fixture.names(matching: "-stray$").count == 1)
        #expect(try manager.getOrCreate(Self.partition, config: LogFixtures.config(), topicId: Self.second) === fresh)
        try manager.shutdown()
    }
}

final class StrayRecorder: Sendable {
    let list = Mutex<[StrayLog]>([])
}
