@testable import BrookBroker
import BrookModel
import BrookProtocol
import Foundation
import Logging
import NIOCore
import Synchronization
import Testing

@Suite struct MetadataSnapshotTests {
    static let empty = MetadataImage(clusterId: "c", controllerId: -1, brokers: [])

    /// Three brokers (one fenced, one shutting down), two topics with configs, an offline
    /// partition and a producer-id block.
    static func image() -> MetadataImage {
        var image = empty
        for id: Int32 in 1...3 {
            image.apply(.registerBroker(RegisterBrokerRecord(
                brokerId: id, incarnationId: Uuid(mostSignificantBits: 7, leastSignificantBits: UInt64(id)), brokerEpoch: Int64(10 * id),
                endPoints: [.init(name: "PLAINTEXT", host: "10.0.0.\(id)", port: 9092, securityProtocol: 0)],
                rack: id == 2 ? "r2" : nil, fenced: id == 3, inControlledShutdown: id == 1)))
        }
        for (index, name) in ["orders", "users"].enumerated() {
            let topicId = Uuid(mostSignificantBits: 1, leastSignificantBits: UInt64(index + 1))
            image.apply(.topic(TopicRecord(name: name, topicId: topicId)))
            for partition: Int32 in 0..<3 {
                image.apply(.partition(PartitionRecord(
                    partitionId: partition, topicId: topicId, replicas: [partition + 1], isr: [partition + 1],
                    leader: partition == 2 ? -1 : partition + 1, leaderEpoch: partition * 2)))
            }
            image.apply(.config(ConfigRecord(resourceType: 2, resourceName: name, name: "retention.ms", value: "\(index + 1)000")))
        }
        image.apply(.producerIds(ProducerIdsRecord(brokerId: 1, brokerEpoch: 0, nextProducerId: 5_000)))
        // Dynamic broker configs (resource type 4): one set, one set then removed.
        image.apply(.config(ConfigRecord(resourceType: 4, resourceName: "2", name: "message.max.bytes", value: "3000000")))
        image.apply(.config(ConfigRecord(resourceType: 4, resourceName: "3", name: "log.retention.ms", value: "5")))
        image.apply(.config(ConfigRecord(resourceType: 4, resourceName: "3", name: "log.retention.ms", value: nil)))
        // SCRAM credentials (one removed again) and ACLs (one removed again).
        for (user, mechanism) in [("alice", Int8(1)), ("alice", 2), ("bob", 2)] {
            image.apply(.userScramCredential(UserScramCredentialRecord(
                name: user, mechanism: mechanism, salt: ByteBuffer(bytes: [1, 2]), storedKey: ByteBuffer(bytes: [3]),
                serverKey: ByteBuffer(bytes: [4]), iterations: 4096 + Int32(mechanism))))
        }
        image.apply(.removeUserScramCredential(RemoveUserScramCredentialRecord(name: "bob", mechanism: 2)))
        for index in 0..<3 {
            image.apply(.accessControlEntry(AccessControlEntryRecord(
                id: Uuid(mostSignificantBits: 9, leastSignificantBits: UInt64(index)), resourceType: 2, resourceName: "orders",
                patternType: 3, principal: "User:u\(index)", host: "*", operation: 3, permissionType: 3)))
        }
        image.apply(.removeAccessControlEntry(RemoveAccessControlEntryRecord(id: Uuid(mostSignificantBits: 9, leastSignificantBits: 1))))
        // Client quotas: a user's, a default client id's (one key removed again).
        image.apply(.clientQuota(ClientQuotaRecord(entity: [.init(entityType: "user", entityName: "alice")], key: "producer_byte_rate", value: 1024)))
        image.apply(.clientQuota(ClientQuotaRecord(entity: [.init(entityType: "client-id", entityName: nil)], key: "request_percentage", value: 50)))
        image.apply(.clientQuota(ClientQuotaRecord(entity: [.init(entityType: "client-id", entityName: nil)], key: "consumer_byte_rate", value: 9)))
        image.apply(.clientQuota(ClientQuotaRecord(
            entity: [.init(entityType: "client-id", entityName: nil)], key: "consumer_byte_rate", value: 0, remove: true)))
        return image
    }

    @Test func brokerConfigsAreKeptPerBrokerAndRemovedWhenCleared() {
        let image = Self.image()
        #expect(image.brokerConfigs == ["2": ["message.max.bytes": "3000000"]])
    }

    @Test func aQuotaThatIsNotAFiniteNumberIsIgnoredSoTheImageStillEqualsItsSnapshot() throws {
        var image = Self.image()
        let before = image
        image.apply(.clientQuota(ClientQuotaRecord(entity: [.init(entityType: "user", entityName: "alice")], key: "producer_byte_rate", value: .nan)))
        image.apply(.clientQuota(ClientQuotaRecord(entity: [.init(entityType: "user", entityName: "eve")], key: "request_percentage", value: .infinity)))
        #expect(image == before)
        #expect(try MetadataSnapshot.decode(MetadataSnapshot.encode(image, id: .init(endOffset: 7, epoch: 2), lastContainedTimestamp: 1), onto: Self.empty, file: "x") == image)
    }

    @Test func aDynamicQuorumsSnapshotRecordsItsVotersApartFromTheImage() throws {
        let voters = [QuorumVoter(id: BrokerID(1), host: "h1", port: 9093), QuorumVoter(id: BrokerID(2), host: "h2", port: 9094)]
        let bytes = try MetadataSnapshot.encode(Self.image(), id: .init(endOffset: 7, epoch: 2), lastContainedTimestamp: 1, voters: voters)
        #expect(MetadataSnapshot.voters(in: bytes) == voters)
        #expect(try MetadataSnapshot.decode(bytes, onto: Self.empty, file: "x") == Self.image())
        #expect(MetadataSnapshot.voters(in: try MetadataSnapshot.encode(Self.image(), id: .init(endOffset: 7, epoch: 2), lastContainedTimestamp: 1)) == nil)
    }

    @Test func anImageReadsBackExactlyFromItsSnapshot() throws {
        let image = Self.image()
        let id = MetadataSnapshot.Id(endOffset: 1_234, epoch: 5)
        let bytes = try MetadataSnapshot.encode(image, id: id, lastContainedTimestamp: 99)
        let decoded = try MetadataSnapshot.decode(bytes, onto: Self.empty, file: "x")
        #expect(decoded == image)
        #expect(decoded.usableBrokers.map(\.nodeId) == [2])
        #expect(decoded.brokers.map(\.nodeId) == [1, 2])
        #expect(try MetadataSnapshot.decode(try MetadataSnapshot.encode(Self.empty, id: id, lastContainedTimestamp: 0), onto: Self.empty, file: "x") == Self.empty)
    }

    @Test func manyRecordsSpanSeveralBatches() throws {
        var image = Self.empty
        let topicId = Uuid(mostSignificantBits: 3, leastSignificantBits: 3)
        image.apply(.topic(TopicRecord(name: "wide", topicId: topicId)))
        for partition: Int32 in 0..<2_500 {
            image.apply(.partition(PartitionRecord(partitionId: partition, topicId: topicId, replicas: [1], isr: [1], leader: 1)))
        }
        let bytes = try MetadataSnapshot.encode(image, id: .init(endOffset: 9, epoch: 1), lastContainedTimestamp: 0)
        #expect(try MetadataSnapshot.decode(bytes, onto: Self.empty, file: "x") == image)
    }

    @Test func aDamagedSnapshotIsRefusedNamingTheFile() throws {
        let bytes = try MetadataSnapshot.encode(Self.image(), id: .init(endOffset: 1, epoch: 1), lastContainedTimestamp: 0)
        var flipped = bytes
        let middle = flipped.readerIndex + flipped.readableBytes / 2
        flipped.setInteger(flipped.getInteger(at: middle, as: UInt8.self)! ^ 0xFF, at: middle)
        #expect(throws: MetadataSnapshot.Corrupt.self) { try MetadataSnapshot.decode(flipped, onto: Self.empty, file: "f") }
        let cut = bytes.getSlice(at: bytes.readerIndex, length: bytes.readableBytes - 10)!
        #expect(throws: MetadataSnapshot.Corrupt.self) { try MetadataSnapshot.decode(cut, onto: Self.empty, file: "f") }
        #expect(throws: MetadataSnapshot.Corrupt.self) { try MetadataSnapshot.decode(ByteBuffer(), onto: Self.empty, file: "f") }
        do {
            _ = try MetadataSnapshot.decode(flipped, onto: Self.empty, file: "/d/00000000000000000001-0000000001.checkpoint")
        } catch {
            #expect(error.description.contains("00000000000000000001-0000000001.checkpoint"))
        }
    }

    @Test func fileNamesCarryTheEndOffsetAndEpoch() {
        let id = MetadataSnapshot.Id(endOffset: 42, epoch: 7)
        #expect(id.fileName == "00000000000000000042-0000000007.checkpoint")
        #expect(MetadataSnapshot.Id(fileName: id.fileName) == id)
        for name in ["42-7.checkpoint", "00000000000000000042-0000000007.log", "quorum-state", "0000000000000000004x-0000000007.checkpoint"] {
            #expect(MetadataSnapshot.Id(fileName: name) == nil, "\(name)")
        }
    }

    @Test func theSnapshotterWritesWhenEnoughWasCommittedAndOnlyWhatIsOnDisk() throws {
        let directory = FileManager.default.temporaryDirectory.path + "/brook-snapshots-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let durable = DurableEnd()
        var settings = MetadataSnapshotter.Settings()
        settings.maxBytesBetween = 100
        settings.maxIntervalMs = 0
        let snapshotter = MetadataSnapshotter(
            directory: directory, settings: settings, latest: nil, logger: Logger(label: "test"), durableEnd: { durable.value })
        let image = Self.image()

        snapshotter.applied(bytes: 60, endOffset: 10, epoch: 1, image: image)
        snapshotter.drain()
        #expect(MetadataSnapshot.ids(in: directory).isEmpty, "not enough committed yet")
        snapshotter.applied(bytes: 60, endOffset: 20, epoch: 1, image: image)
        snapshotter.drain()
        #expect(MetadataSnapshot.ids(in: directory).isEmpty, "offset 20 is not on disk yet")
        durable.value = 30
        snapshotter.applied(bytes: 1, endOffset: 25, epoch: 2, image: image)
        snapshotter.drain()
        #expect(MetadataSnapshot.ids(in: directory) == [.init(endOffset: 25, epoch: 2)])
        durable.value = 1_000
        snapshotter.applied(bytes: 500, endOffset: 40, epoch: 3, image: image)
        snapshotter.drain()
        // The quorum's log decides which older snapshots go (it keeps the one its start needs).
        #expect(MetadataSnapshot.ids(in: directory) == [.init(endOffset: 25, epoch: 2), .init(endOffset: 40, epoch: 3)])
        let loaded = try MetadataSnapshot.loadLatest(directory: directory, onto: Self.empty, atMost: 40)
        #expect(loaded?.id == .init(endOffset: 40, epoch: 3) && loaded?.image == image)
        #expect(try MetadataSnapshot.loadLatest(directory: directory, onto: Self.empty, atMost: 39)?.id == .init(endOffset: 25, epoch: 2),
                "a snapshot past the log's end is not used")
    }

    final class DurableEnd: Sendable {
        private let stored = Mutex<Int64>(0)
        var value: Int64 {
            get { stored.withLock { $0 } }
            set { stored.withLock { $0 = newValue } }
        }
    }
}
