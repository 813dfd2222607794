/// Where a cluster puts new partitions: on the registered brokers that are not fenced, with
/// racks alternating, partition after partition round the list from a random start, each
/// partition's replicas consecutive brokers of that list and its leader the first of them (the
/// shape of Kafka's rack-aware assignment). So N brokers get N times the partitions of one, and
/// no two replicas of a partition share a rack while there are enough racks.
enum PartitionPlacement {
    /// The brokers in placement order: one from each rack in turn (racks by name, brokers by id).
    static func rackAlternated(_ brokers: [MetadataImage.Registration]) -> [Int32] {
        let byRack = Dictionary(grouping: brokers) { $0.rack ?? "" }
            .mapValues { $0.map(\.nodeId).sorted() }
        let racks = byRack.keys.sorted()
        var order: [Int32] = []
        var round = 0
        while order.count < brokers.count {
            for rack in racks where round < byRack[rack]!.count {
                order.append(byRack[rack]![round])
            }
            round += 1
        }
        return order
    }

    /// Replica lists for partitions `indexes`, `replicationFactor` brokers each.
    static func assign(
        _ indexes: Range<Int32>, replicationFactor: Int, brokers: [MetadataImage.Registration], start: Int
    ) -> [[Int32]] {
        let order = rackAlternated(brokers)
        guard !order.isEmpty else { return indexes.map { _ in [] } }
        return indexes.map { index in
            (0..<replicationFactor).map { replica in
                order[(start + Int(index) + replica) % order.count]
            }
        }
    }
}
