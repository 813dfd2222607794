import BrookModel

/// A plan that evens a cluster out (what Cruise Control does for Kafka, in its simplest form):
/// replicas move from the most loaded broker to the least loaded one until their counts differ
/// by at most one, never putting two replicas of a partition on one rack while another rack
/// can take it, and replicas on brokers that are gone move first; then preferred leaders (each
/// partition's first replica) are evened the same way by reordering replicas, moving nothing.
/// Few moves: a partition changes only when it must.
public struct RebalancePlan: Sendable, Equatable {
    /// The partitions that change, with their new replicas (the preferred leader first).
    public var moves: [TopicPartition: [Int32]]

    /// A broker to place replicas on.
    public struct Broker: Sendable, Equatable {
        public var id: Int32
        public var rack: String?

        public init(id: Int32, rack: String? = nil) {
            self.id = id
            self.rack = rack
        }
    }

    /// The plan for `partitions` (each with its replicas) over `brokers`.
    public static func compute(brokers: [Broker], partitions: [TopicPartition: [Int32]]) -> RebalancePlan {
        let ids = brokers.map(\.id).sorted()
        guard !ids.isEmpty else { return RebalancePlan(moves: [:]) }
        let rack = Dictionary(uniqueKeysWithValues: brokers.map { ($0.id, $0.rack) })
        let order = partitions.keys.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
        var assignment = partitions
        var load = Dictionary(uniqueKeysWithValues: ids.map { ($0, 0) })
        for replicas in partitions.values {
            for replica in replicas where load[replica] != nil { load[replica]! += 1 }
        }

        func rackSafe(_ candidate: Int32, joining others: [Int32]) -> Bool {
            guard let wanted = rack[candidate] ?? nil else { return true }
            return !others.contains { (rack[$0] ?? nil) == wanted }
        }

        // Replicas on brokers that are gone go to the least loaded live broker first.
        for key in order {
            for (slot, replica) in assignment[key]!.enumerated() where load[replica] == nil {
                let others = assignment[key]!.filter { $0 != replica }
                let choices = ids.filter { !others.contains($0) }.sorted { (load[$0]!, $0) < (load[$1]!, $1) }
                guard let target = choices.first(where: { rackSafe($0, joining: others) }) ?? choices.first else { continue }
                assignment[key]![slot] = target
                load[target]! += 1
            }
        }

        // Then from the most loaded to the least loaded broker, one replica at a time.
        let limit = max(1, partitions.values.reduce(0) { $0 + $1.count }) * 2
        for _ in 0..<limit {
            let byLoad = ids.sorted { (load[$0]!, $0) < (load[$1]!, $1) }
            guard let most = byLoad.last, load[most]! - load[byLoad[0]]! > 1 else { break }
            var moved = false
            for least in byLoad where load[most]! - load[least]! > 1 {
                guard let key = order.first(where: { key in
                    let replicas = assignment[key]!
                    return replicas.contains(most) && !replicas.contains(least)
                        && rackSafe(least, joining: replicas.filter { $0 != most })
                }) else { continue }
                let slot = assignment[key]!.firstIndex(of: most)!
                assignment[key]![slot] = least
                load[most]! -= 1
                load[least]! += 1
                moved = true
                break
            }
            if !moved { break }
        }

        // Preferred leaders: the first replica, evened by reordering.
        var leading = Dictionary(uniqueKeysWithValues: ids.map { ($0, 0) })
        for key in order { if let first = assignment[key]!.first, leading[first] != nil { leading[first]! += 1 } }
        for _ in 0..<limit {
            let byLeading = ids.sorted { (leading[$0]!, $0) < (leading[$1]!, $1) }
            guard let most = byLeading.last, leading[most]! - leading[byLeading[0]]! > 1 else { break }
            var moved = false
            for least in byLeading where leading[most]! - leading[least]! > 1 {
                guard let key = order.first(where: { assignment[$0]!.first == most && assignment[$0]!.contains(least) }) else { continue }
                var replicas = assignment[key]!
                replicas.removeAll { $0 == least }
                replicas.insert(least, at: 0)
                assignment[key] = replicas
                leading[most]! -= 1
                leading[least]! += 1
                moved = true
                break
            }
            if !moved { break }
        }

        var moves: [TopicPartition: [Int32]] = [:]
        for key in order where assignment[key]! != partitions[key]! { moves[key] = assignment[key]! }
        return RebalancePlan(moves: moves)
    }
}
