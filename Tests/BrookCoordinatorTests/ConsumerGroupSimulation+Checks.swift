import Foundation
@testable import BrookCoordinator
import BrookModel

/// What `ConsumerGroupSimulation` checks after its steps, and how it reports a failure.
extension ConsumerGroupSimulation {
    /// No partition is owned twice, neither in the coordinator's books nor by two consumers it
    /// counts as members; a consumer owns only what the coordinator attributes to it (one the
    /// coordinator no longer counts may still believe it owns partitions until it hears so:
    /// Kafka fences such zombies by their epochs); a refused consumer never owned anything.
    mutating func checkInvariants() {
        var owners: [TopicPartition: String] = [:]
        for member in group.members.values.sorted(by: { $0.memberId < $1.memberId }) {
            if !member.assigned.isDisjoint(with: member.pendingRevocation) {
                fail("\(member.memberId) has \(describe(member.assigned.intersection(member.pendingRevocation))) both assigned and pending revocation")
            }
            for partition in member.assigned.union(member.pendingRevocation) {
                if let other = owners.updateValue(member.memberId, forKey: partition) {
                    fail("\(partition) is owned by both \(other) and \(member.memberId) in the coordinator")
                }
            }
            if member.epoch > group.groupEpoch {
                fail("\(member.memberId) is at epoch \(member.epoch), past the group epoch \(group.groupEpoch)")
            }
        }
        // A consumer the coordinator counts as a member owns only what the coordinator gives it.
        var consumed: [TopicPartition: String] = [:]
        for consumer in consumers where consumer.fatal != nil && consumer.everOwned {
            fail("\(consumer.memberId) was refused with \(consumer.fatal!) after it had owned partitions")
        }
        for consumer in consumers where consumer.alive {
            guard let member = group.members[consumer.memberId] else { continue }
            let attributed = member.assigned.union(member.pendingRevocation)
            if !consumer.owned.isSubset(of: attributed) {
                fail("\(consumer.memberId) consumes \(describe(consumer.owned.subtracting(attributed))) that the coordinator does not attribute to it")
            }
            for partition in consumer.owned {
                if let other = consumed.updateValue(consumer.memberId, forKey: partition) {
                    fail("\(partition) is consumed by both \(other) and \(consumer.memberId)")
                }
            }
        }
    }

    /// Appends the records of the step to the simulated log and checks that the group they
    /// rebuild is the group in memory (what a coordinator that moves or restarts would load).
    mutating func checkStored(since before: ConsumerGroup, rebuild: Bool = true) {
        for case .consumerGroup(let record) in group.records(since: before, catalog: catalog) {
            stored.apply(record)
        }
        guard rebuild else { return }
        guard let loaded = stored.groups(catalog: catalog, configuration: configuration, now: now)[group.groupId] else {
            if !group.members.isEmpty { fail("the records rebuild no group") }
            return
        }
        if loaded.groupEpoch != group.groupEpoch || loaded.assignmentEpoch != group.assignmentEpoch {
            fail("the records rebuild epochs \(loaded.groupEpoch)/\(loaded.assignmentEpoch) instead of \(group.groupEpoch)/\(group.assignmentEpoch)")
        }
        if loaded.target.filter({ !$0.value.isEmpty }) != group.target.filter({ !$0.value.isEmpty }) {
            fail("the records rebuild the target \(loaded.target) instead of \(group.target)")
        }
        if loaded.staticMembers != group.staticMembers { fail("the records rebuild the static members \(loaded.staticMembers) instead of \(group.staticMembers)") }
        for id in Set(loaded.members.keys).union(group.members.keys).sorted() {
            guard let member = group.members[id], let rebuilt = loaded.members[id] else {
                fail("member \(id) is \(group.members[id] == nil ? "gone" : "there") but the records say otherwise")
                continue
            }
            if !rebuilt.hasSameMetadata(as: member) || !rebuilt.hasSameAssignment(as: member) {
                fail("the records rebuild member \(id) as \(rebuilt) instead of \(member)")
            }
        }
    }

    /// What keeps the group from being settled (empty when it is).
    func settledProblems() -> [String] {
        var problems: [String] = []
        let active = consumers.filter { $0.isActive(at: now) && $0.fatal == nil }
        let expected = Set(active.map(\.memberId))
        if Set(group.members.keys) != expected {
            problems.append("members \(group.members.keys.sorted()) instead of \(expected.sorted())")
        }
        if !group.members.isEmpty && group.assignmentEpoch != group.groupEpoch {
            problems.append("target at epoch \(group.assignmentEpoch), group at \(group.groupEpoch)")
        }
        var everything = Set<TopicPartition>()
        var targeted = Set<TopicPartition>()
        for consumer in active.sorted(by: { $0.memberId < $1.memberId }) {
            guard let member = group.members[consumer.memberId] else { continue }
            let subscribed = Set((consumer.subscription ?? []).flatMap { topic in
                (0..<(catalog.topics[topic]?.partitionCount ?? 0)).map { TopicPartition(topic: topic, partition: $0) }
            })
            everything.formUnion(subscribed)
            let target = group.target[member.memberId] ?? []
            if !target.isSubset(of: subscribed) {
                problems.append("\(member.memberId) is targeted \(describe(target.subtracting(subscribed))) outside its subscription")
            }
            if !targeted.isDisjoint(with: target) {
                problems.append("\(describe(targeted.intersection(target))) targeted twice")
            }
            targeted.formUnion(target)
            if member.epoch != group.groupEpoch { problems.append("\(member.memberId) at epoch \(member.epoch), group at \(group.groupEpoch)") }
            if !member.pendingRevocation.isEmpty { problems.append("\(member.memberId) still revoking \(describe(member.pendingRevocation))") }
            if member.assigned != target { problems.append("\(member.memberId) has \(describe(member.assigned)), target \(describe(target))") }
            if consumer.owned != member.assigned || consumer.target != nil || consumer.next != nil {
                problems.append("consumer \(consumer.memberId) owns \(describe(consumer.owned)) (reconciling to \(describe(consumer.target)), next \(describe(consumer.next))), coordinator says \(describe(member.assigned))")
            }
            if consumer.epoch != member.epoch { problems.append("consumer \(consumer.memberId) at epoch \(consumer.epoch), member at \(member.epoch)") }
        }
        if targeted != everything {
            problems.append("the targets cover \(describe(targeted)) instead of every subscribed partition \(describe(everything))")
        }
        return problems
    }

    mutating func fail(_ message: String) {
        failures.append(message)
    }

    /// The failure with the seed to replay it and the last steps that led there (the last 60,
    /// or as many as `BROOK_SIMULATION_TRACE` says).
    var report: String {
        let shown = ProcessInfo.processInfo.environment["BROOK_SIMULATION_TRACE"].flatMap(Int.init) ?? 60
        return "seed \(seed): \(failures.joined(separator: "\n"))\nlast steps:\n" + trace.suffix(shown).joined(separator: "\n")
    }

    func describe(_ partitions: Set<TopicPartition>?) -> String {
        guard let partitions else { return "nil" }
        return "[" + partitions.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }.map { "\($0.topic)-\($0.partition)" }.joined(separator: ",") + "]"
    }
}
