@testable import BrookBroker
import BrookModel
import BrookProtocol
import BrookStorage
import Foundation
import Logging
import Testing

/// A topic deleted and created again under the same name never serves the old one's data, even
/// when the old partition folder was left behind.
@Suite struct TopicIncarnationTests {
    let key = TopicPartition(topic: "t", partition: 0)

    func produce(_ fixture: PartitionFixture, _ keys: [String?]) throws {
        _ = try fixture.partition("t").log.append(try ProducedBatch.make(keys), leaderEpoch: LeaderEpoch(0))
    }

    func folders(_ fixture: PartitionFixture) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: fixture.directory)) ?? []).sorted()
    }

    @Test func partitionFoldersCarryTheTopicId() throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        let topic = try fixture.topic("t", partitions: 2)
        for index in 0..<2 {
            let text = try String(contentsOfFile: fixture.directory + "/t-\(index)/partition.metadata", encoding: .utf8)
            #expect(text == "version: 0\ntopic_id: \(topic.id)\n")
        }
    }

    @Test func deletingRenamesTheFoldersForBackgroundRemoval() throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        let topic = try fixture.topic("t", partitions: 2)
        try produce(fixture, ["a"])
        fixture.manager.remove(try fixture.metadata.deleteTopic(name: topic.name))
        #expect(folders(fixture).filter { $0.hasPrefix("t-") && !$0.hasSuffix("-delete") }.isEmpty)
        #expect(folders(fixture).filter { $0.hasSuffix("-delete") }.count == 2)
        #expect(fixture.manager.logs.pendingDirectoryRemovals.count == 2)
    }

    @Test func aLeftoverFolderIsNotServedAsTheRecreatedTopic() throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        let old = try fixture.topic("t")
        try produce(fixture, ["old-1", "old-2", "old-3"])
        try fixture.partition("t").log.flush()
        // The deletion fails to take the folder away: a copy stands in for what it left.
        let folder = fixture.directory + "/t-0"
        let copy = fixture.directory + "/saved"
        try FileManager.default.copyItem(atPath: folder, toPath: copy)
        fixture.manager.remove(try fixture.metadata.deleteTopic(name: "t"))
        if FileManager.default.fileExists(atPath: folder) { try FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.moveItem(atPath: copy, toPath: folder)

        let new = try fixture.topic("t")
        #expect(new.id != old.id)
        let partition = fixture.partition("t")
        #expect(partition.topicId == new.id)
        #expect(partition.log.logEndOffset == 0)
        #expect(try fixture.storedBatches("t").isEmpty)
        #expect(folders(fixture).contains { $0.hasPrefix("t-0.") && $0.hasSuffix("-stray") })
        let text = try String(contentsOfFile: folder + "/partition.metadata", encoding: .utf8)
        #expect(text == "version: 0\ntopic_id: \(new.id)\n")
    }

    @Test func aLeftoverFolderIsNotLoadedAtStartUp() async throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("t")
        try produce(fixture, ["old-1", "old-2"])
        try fixture.manager.logs.shutdown()
        // While the broker was down the topic was deleted and created again (its folder stayed).
        _ = try fixture.metadata.deleteTopic(name: "t")
        let new = try fixture.metadata.createTopic(name: "t", partitions: 1, replicationFactor: 1)

        let restarted = PartitionManager(
            logs: try LogManager(configuration: .init(logDirs: [fixture.directory])), config: fixture.config,
            logger: Logger(label: "test"))
        defer { try? restarted.logs.shutdown() }
        try await restarted.load(image: fixture.metadata.image)
        let partition = try #require(restarted.table.partition(key))
        #expect(partition.topicId == new.id)
        #expect(partition.log.logEndOffset == 0)
        #expect(folders(fixture).contains { $0.hasPrefix("t-0.") && $0.hasSuffix("-stray") })
    }
}
