import BrookModel
import NIOCore

/// The `cooperative-sticky` assignor: a balanced assignment that moves as few partitions as
/// possible, for the cooperative rebalance protocol (KIP-429), with the semantics of the Java
/// client's CooperativeStickyAssignor.
///
/// 1. **Current owners.** Each member lists its owned partitions and the generation they were
///    assigned in. Claims of the highest generation win; a partition claimed by two members of
///    that generation is owned by neither, and assigned to nobody until both gave it up. Older
///    claims count only for partitions nobody newer claims. Claims on topics a member no longer
///    subscribes to, or on partitions that no longer exist, are dropped.
/// 2. **Balance.** Unowned partitions go, one by one, to the subscribed member holding the fewest;
///    then, while a member holds at least two more than another member that could take one of
///    its partitions, one partition moves (each move lowers the sum of squared counts, so this
///    ends). With equal subscriptions the counts end at most one apart.
/// 3. **Cooperation.** A partition newly assigned to one member while another still lists it as
///    owned is left out of this assignment: its owner sees it revoked, gives it up and rejoins,
///    and the follow-up rebalance hands it to its new member.
///
/// The subscription's `UserData` is the generation as a 4-byte integer, as the Java client
/// writes it for members whose subscription version lacks the GenerationId field.
public struct CooperativeStickyAssignor: PartitionAssignor {
    public init() {}

    public var name: String { "cooperative-sticky" }
    public var supportedProtocols: Set<RebalanceProtocol> { [.cooperative, .eager] }

    public func userData(generation: Int32) -> ByteBuffer? {
        var buffer = ByteBuffer()
        buffer.writeInteger(generation)
        return buffer
    }

    public func assign(members: [AssignorMember], partitionCounts: [String: Int32]) -> [String: [TopicPartition]] {
        let (assignment, contested) = balancedAssignment(members: members, partitionCounts: partitionCounts)
        // Partitions still owned by another member wait for the follow-up rebalance.
        var claimedBy: [TopicPartition: Set<String>] = [:]
        for member in members {
            for partition in member.ownedPartitions { claimedBy[partition, default: []].insert(member.memberId) }
        }
        var result: [String: [TopicPartition]] = [:]
        for member in members {
            let owned = Set(member.ownedPartitions)
            result[member.memberId] = (assignment[member.memberId] ?? []).filter { partition in
                !contested.contains(partition)
                    && (owned.contains(partition) || (claimedBy[partition] ?? []).subtracting([member.memberId]).isEmpty)
            }.sorted(by: TopicPartition.ordered)
        }
        return result
    }

    /// The sticky, balanced assignment before partitions changing owner are held back (steps 1
    /// and 2), and the partitions two members of the newest generation both claimed.
    func balancedAssignment(
        members: [AssignorMember], partitionCounts: [String: Int32]
    ) -> (assignment: [String: Set<TopicPartition>], contested: Set<TopicPartition>) {
        let byId = Dictionary(members.map { ($0.memberId, $0) }, uniquingKeysWith: { first, _ in first })
        var current = Dictionary(uniqueKeysWithValues: members.map { ($0.memberId, Set<TopicPartition>()) })
        func exists(_ partition: TopicPartition) -> Bool {
            partition.partition >= 0 && partition.partition < partitionCounts[partition.topic] ?? 0
        }

        // 1. Current owners, newest generation first.
        var owner: [TopicPartition: String] = [:]
        var contested: Set<TopicPartition> = []
        for generation in Set(members.map(\.generation)).sorted(by: >) {
            var claims: [TopicPartition: [String]] = [:]
            for member in members where member.generation == generation {
                for partition in Set(member.ownedPartitions) where exists(partition) && member.topics.contains(partition.topic) {
                    claims[partition, default: []].append(member.memberId)
                }
            }
            for (partition, claimants) in claims where owner[partition] == nil && !contested.contains(partition) {
                if claimants.count == 1 {
                    owner[partition] = claimants[0]
                    current[claimants[0]]!.insert(partition)
                } else {
                    contested.insert(partition)
                }
            }
        }

        // 2. Unowned partitions to the least loaded subscriber.
        let ordered = members.sorted(by: AssignorMember.precedes).map(\.memberId)
        var all: [TopicPartition] = []
        for topic in partitionCounts.keys.sorted() where members.contains(where: { $0.topics.contains(topic) }) {
            all += (0..<partitionCounts[topic]!).map { TopicPartition(topic: topic, partition: $0) }
        }
        func leastLoaded(for partition: TopicPartition) -> String? {
            ordered.filter { byId[$0]!.topics.contains(partition.topic) }.min { current[$0]!.count < current[$1]!.count }
        }
        // Partitions with fewer candidates first, so that they are not crowded out.
        let unowned = all.filter { owner[$0] == nil }.sorted { lhs, rhs in
            let left = members.count(where: { $0.topics.contains(lhs.topic) })
            let right = members.count(where: { $0.topics.contains(rhs.topic) })
            return left != right ? left < right : TopicPartition.ordered(lhs, rhs)
        }
        for partition in unowned {
            guard let member = leastLoaded(for: partition) else { continue }
            current[member]!.insert(partition)
        }

        // Moves from the most loaded members until no move helps; partitions a member did not
        // own before move first.
        while true {
            var moved = false
            for from in ordered.sorted(by: { current[$0]!.count > current[$1]!.count }) {
                let candidates = current[from]!.sorted { lhs, rhs in
                    let left = owner[lhs] == from, right = owner[rhs] == from
                    return left != right ? right : TopicPartition.ordered(rhs, lhs)
                }
                for partition in candidates {
                    guard let to = leastLoaded(for: partition), current[from]!.count > current[to]!.count + 1 else { continue }
                    current[from]!.remove(partition)
                    current[to]!.insert(partition)
                    moved = true
                    break
                }
                if moved { break }
            }
            if !moved { return (current, contested) }
        }
    }
}
