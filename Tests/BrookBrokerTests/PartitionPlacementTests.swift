@testable import BrookBroker
import BrookProtocol
import Testing

@Suite struct PartitionPlacementTests {
    static func broker(_ id: Int32, rack: String? = nil, fenced: Bool = false) -> MetadataImage.Registration {
        .init(nodeId: id, epoch: 1, incarnation: .zero, endpoints: [], rack: rack, fenced: fenced, inControlledShutdown: false)
    }

    @Test func partitionsSpreadEvenlyAndReplicasAreDistinct() {
        let brokers = (1...3).map { Self.broker($0) }
        for start in 0..<3 {
            let placed = PartitionPlacement.assign(0..<9, replicationFactor: 2, brokers: brokers, start: start)
            let leaders = placed.map { $0[0] }
            #expect((1...3).allSatisfy { id in leaders.filter { $0 == id }.count == 3 }, "start \(start): \(leaders)")
            #expect(placed.allSatisfy { Set($0).count == 2 })
        }
    }

    @Test func racksAlternateSoReplicasLandOnDifferentRacks() {
        let brokers = [Self.broker(1, rack: "a"), Self.broker(2, rack: "a"), Self.broker(3, rack: "b"), Self.broker(4, rack: "b")]
        #expect(PartitionPlacement.rackAlternated(brokers) == [1, 3, 2, 4])
        let racks: [Int32: String] = [1: "a", 2: "a", 3: "b", 4: "b"]
        let placed = PartitionPlacement.assign(0..<8, replicationFactor: 2, brokers: brokers, start: 1)
        #expect(placed.allSatisfy { Set($0.map { racks[$0]! }).count == 2 }, "\(placed)")
    }

    @Test func theImageOffersOnlyBrokersThatAreNeitherFencedNorStopping() {
        var image = MetadataImage(clusterId: "c", controllerId: 1, brokers: [])
        for id: Int32 in 1...3 {
            image.apply(.registerBroker(RegisterBrokerRecord(
                brokerId: id, brokerEpoch: Int64(id), endPoints: [.init(name: "PLAINTEXT", host: "h\(id)", port: 9092)], fenced: true)))
        }
        #expect(image.usableBrokers.isEmpty && image.brokers.isEmpty, "registered brokers start fenced")
        image.apply(.unfenceBroker(UnfenceBrokerRecord(id: 1, epoch: 1)))
        image.apply(.unfenceBroker(UnfenceBrokerRecord(id: 2, epoch: 2)))
        image.apply(.unfenceBroker(UnfenceBrokerRecord(id: 3, epoch: 99)))
        #expect(image.usableBrokers.map(\.nodeId) == [1, 2], "an unfence for another epoch is ignored")
        #expect(image.brokers.map(\.host) == ["h1", "h2"])
        image.apply(.fenceBroker(FenceBrokerRecord(id: 1, epoch: 1)))
        #expect(image.usableBrokers.map(\.nodeId) == [2])
    }
}
