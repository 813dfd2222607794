@testable import BrookBroker
import BrookModel
import BrookProtocol
import NIOPosix
import Synchronization
import Testing

/// The controller's leader moves when brokers are fenced and unfenced, and what coordinators
/// make of the partitions a broker leads.
@Suite struct ClusterLeadershipTests {
    /// Brokers 1–3 registered and unfenced; topic `t` with partitions 0–2 led by 1, 2, 3, and
    /// partition 3 replicated on 1 and 2, led by 1.
    static func image() -> MetadataImage {
        var image = MetadataImage(clusterId: "c", controllerId: 1, brokers: [])
        for id: Int32 in 1...3 {
            image.apply(.registerBroker(RegisterBrokerRecord(
                brokerId: id, brokerEpoch: Int64(id),
                endPoints: [.init(name: "PLAINTEXT", host: "127.0.0.1", port: UInt16(9090 + id), securityProtocol: 0)], fenced: false)))
        }
        let topicId = Uuid(mostSignificantBits: 1, leastSignificantBits: 2)
        image.apply(.topic(TopicRecord(name: "t", topicId: topicId)))
        for (index, replicas) in [[1], [2], [3], [1, 2]].enumerated() {
            let replicas = replicas.map { Int32($0) }
            image.apply(.partition(PartitionRecord(
                partitionId: Int32(index), topicId: topicId, replicas: replicas, isr: replicas, leader: replicas[0], leaderEpoch: 4)))
        }
        return image
    }

    static func leaders(_ image: MetadataImage) -> [Int32] { image.topics["t"]!.partitions.map(\.leader) }
    static func epochs(_ image: MetadataImage) -> [Int32] { image.topics["t"]!.partitions.map(\.leaderEpoch) }

    @Test func fencingMovesLeadershipToAnotherInSyncReplicaOrOffline() {
        var image = Self.image()
        image.apply(.fenceBroker(FenceBrokerRecord(id: 1, epoch: 1)))
        let moves = PartitionLeadership.movedAway(from: 1, in: image)
        for record in moves { image.apply(record) }
        #expect(moves.count == 2)
        #expect(Self.leaders(image) == [-1, 2, 3, 2])
        #expect(Self.epochs(image) == [5, 4, 4, 5])
        #expect(image.topics["t"]!.partitions[0].isr == [1], "the last in-sync replica stays in the ISR")
    }

    @Test func unfencingElectsTheBrokerForItsOfflinePartitionsInANewEpoch() {
        var image = Self.image()
        for record in PartitionLeadership.movedAway(from: 1, in: image) { image.apply(record) }
        for record in PartitionLeadership.movedAway(from: 3, in: image) { image.apply(record) }
        #expect(Self.leaders(image) == [-1, 2, -1, 2])
        let elected = PartitionLeadership.elected(on: 1, in: image)
        for record in elected { image.apply(record) }
        #expect(elected.count == 1, "partition 3 has a leader; partition 2 is not 1's")
        #expect(Self.leaders(image) == [1, 2, -1, 2])
        #expect(Self.epochs(image) == [6, 4, 5, 5])
        #expect(PartitionLeadership.elected(on: 1, in: image).isEmpty, "electing again changes nothing")
    }

    @Test func aBrokerWithNothingToLeadMovesNothing() {
        let image = Self.image()
        #expect(PartitionLeadership.movedAway(from: 9, in: image).isEmpty)
        #expect(PartitionLeadership.elected(on: 2, in: image).isEmpty)
    }

    @Test func ownershipIsThePartitionsLedHereWithTheirEpochs() {
        let image = Self.image()
        let ownership = CoordinatorOwnership.of("t", in: image, nodeId: 1)
        #expect(ownership == CoordinatorOwnership(ledEpochs: [0: 4, 3: 4]))
        #expect(ownership?.owns(0) == true && ownership?.owns(1) == false)
        #expect(CoordinatorOwnership.of("missing", in: image, nodeId: 1) == nil)
        #expect(CoordinatorOwnership.everything.owns(42))
        var moved = image
        for record in PartitionLeadership.movedAway(from: 1, in: moved) { moved.apply(record) }
        #expect(CoordinatorOwnership.of("t", in: moved, nodeId: 1) == CoordinatorOwnership(ledEpochs: [:]))
        #expect(CoordinatorOwnership.of("t", in: moved, nodeId: 2) == CoordinatorOwnership(ledEpochs: [1: 4, 3: 5]))
    }

    @Test func clientsAreToldALiveBrokerWhenTheControllerIsNotOne() {
        var image = Self.image()
        image.controllerId = 2
        #expect(image.controllerIdForClients(asking: 1) == 2, "a controller that is a live broker is named")
        image.controllerId = 9
        #expect(image.controllerIdForClients(asking: 3) == 3, "a controller-only node: the broker answering")
        #expect(image.controllerIdForClients(asking: 9) == 1, "asked of the controller itself: the lowest live broker")
        let single = MetadataImage(clusterId: "c", controllerId: 1, brokers: [])
        #expect(single.controllerIdForClients(asking: 1) == 1, "one node without registrations names itself")
    }

    /// A coordinator stand-in that counts its shutdowns.
    final class Loaded: Sendable {
        let ownership: CoordinatorOwnership
        let shutdowns = Atomic(0)
        init(_ ownership: CoordinatorOwnership) { self.ownership = ownership }
    }

    @Test func aNewOwnershipRetiresTheLoadedCoordinatorAndLoadsAnother() throws {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        defer { try? pool.syncShutdownGracefully() }
        let loader = OwnedCoordinatorLoader<Loaded>(
            make: { ownership in
                CoordinatorLoader(pool: pool, load: { Loaded(ownership) }, shutdown: { _ in }, reportFailure: { _ in })
            },
            shutdown: { $0.shutdowns.add(1, ordering: .relaxed) })
        let first = CoordinatorOwnership(ledEpochs: [0: 1])
        let loaded = try loader.loader(for: first).loadNow()
        #expect(loader.ready === loaded)
        #expect(loader.loader(for: first).ready === loaded, "the same ownership keeps its coordinator")
        #expect(loaded.shutdowns.load(ordering: .relaxed) == 0)

        let second = CoordinatorOwnership(ledEpochs: [0: 2])
        let next = loader.loader(for: second)
        #expect(loaded.shutdowns.load(ordering: .relaxed) == 1, "the coordinator of the old epoch is shut down")
        #expect(loader.ready == nil)
        let reloaded = try next.loadNow()
        #expect(reloaded.ownership == second && loader.ready === reloaded)
    }
}
