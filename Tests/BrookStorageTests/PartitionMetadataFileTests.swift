import BrookModel
import Foundation
import Testing

@testable import BrookStorage

@Suite struct PartitionMetadataFileTests {
    static let id = KafkaUUID("MkU3OEVBNTcwNTJENDM2Qg")!
    static let other = KafkaUUID("AAAAAAAAAAAAAAAAAAAAAQ")!

    func open(_ directory: LogTestDirectory, topicId: KafkaUUID?) throws -> PartitionLog {
        try PartitionLog.open(
            directory: directory.path, config: LogFixtures.config(), recoveryPoint: 0, hadCleanShutdown: true,
            topicId: topicId, clock: ManualLogClock())
    }

    @Test func fileIsKafkasTwoLineText() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        try PartitionMetadataFile(directory: directory.path).write(topicId: Self.id)
        #expect(String(decoding: directory.bytes(directory.file("partition.metadata")), as: UTF8.self)
            == "version: 0\ntopic_id: MkU3OEVBNTcwNTJENDM2Qg\n")
        #expect(!directory.exists(directory.file("partition.metadata.tmp")))
        #expect(try PartitionMetadataFile(directory: directory.path).read() == Self.id)
    }

    @Test func absentFileReadsAsNil() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        #expect(try PartitionMetadataFile(directory: directory.path).read() == nil)
    }

    @Test(arguments: [
        "version: 1\ntopic_id: MkU3OEVBNTcwNTJENDM2Qg\n",
        "version: 0\n",
        "version 0\ntopic_id: MkU3OEVBNTcwNTJENDM2Qg\n",
        "version: 0\ntopic_id: not-an-id\n",
        "version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAA\n",
        "version: 0\ntopic_id:MkU3OEVBNTcwNTJENDM2Qg\n",
        "",
    ])
    func malformedFilesAreCorrupt(text: String) throws {
        #expect(throws: StorageError.self) { try PartitionMetadataFile.parse(text, path: "p") }
    }

    @Test func parsingAcceptsExtraBlanksAndCarriageReturns() throws {
        #expect(try PartitionMetadataFile.parse("version:  0\r\ntopic_id:\tMkU3OEVBNTcwNTJENDM2Qg\r\n", path: "p") == Self.id)
    }

    @Test func creatingALogWritesTheTopicIdAndReopeningChecksIt() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try open(directory, topicId: Self.id)
        #expect(log.topicId == Self.id)
        try log.append(LogFixtures.batch(count: 3), leaderEpoch: LeaderEpoch(0))
        try log.close()
        #expect(try PartitionMetadataFile(directory: directory.path).read() == Self.id)
        let reopened = try open(directory, topicId: Self.id)
        #expect(reopened.logEndOffset == 3)
        try reopened.close()
    }

    @Test func aDirectoryOfAnotherIncarnationIsRefusedAndLeftUntouched() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let log = try open(directory, topicId: Self.id)
        try log.append(LogFixtures.batch(count: 3), leaderEpoch: LeaderEpoch(0))
        try log.close()
        // A leftover .deleted file would be removed by a real open: it must survive a refusal.
        try directory.write(directory.file("00000000000000000099.log.deleted"), [1, 2, 3])
        let before = directory.fileNames
        #expect(throws: StorageError.inconsistentTopicId(directory: directory.path, expected: Self.other, found: Self.id)) {
            try open(directory, topicId: Self.other)
        }
        #expect(directory.fileNames == before)
        #expect(try PartitionMetadataFile(directory: directory.path).read() == Self.id)
    }

    @Test func aDirectoryWithoutTheFileAdoptsTheTopicIdOnFirstOpen() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        let old = try open(directory, topicId: nil)
        try old.append(LogFixtures.batch(count: 2), leaderEpoch: LeaderEpoch(0))
        try old.close()
        #expect(!directory.exists(directory.file("partition.metadata")))
        let adopted = try open(directory, topicId: Self.id)
        #expect(adopted.logEndOffset == 2)
        try adopted.close()
        #expect(try PartitionMetadataFile(directory: directory.path).read() == Self.id)
    }

    @Test func aLeftoverTemporaryFileIsIgnoredAndRemoved() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        var configuration = AtomicFileWriter.Configuration()
        configuration.interruptAfter = .temporaryFileSynced
        // A crash mid-write on creation: only the .tmp exists, so the next open writes the file.
        #expect(throws: AtomicFileError.self) {
            try AtomicFileWriter(path: directory.file("partition.metadata"), configuration: configuration)
                .write(PartitionMetadataFile.render(Self.other))
        }
        let log = try open(directory, topicId: Self.id)
        try log.close()
        #expect(!directory.exists(directory.file("partition.metadata.tmp")))
        #expect(try PartitionMetadataFile(directory: directory.path).read() == Self.id)
    }

    @Test func aLogWithoutTopicIdNeitherReadsNorWritesTheFile() throws {
        let directory = try LogTestDirectory()
        defer { directory.remove() }
        try PartitionMetadataFile(directory: directory.path).write(topicId: Self.other)
        let log = try open(directory, topicId: nil)
        try log.close()
        #expect(try PartitionMetadataFile(directory: directory.path).read() == Self.other)
    }
}
