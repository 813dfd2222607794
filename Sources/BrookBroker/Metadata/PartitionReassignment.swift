import BrookProtocol

/// Moving a partition's replicas (AlterPartitionReassignments, KIP-455), as KRaft's controller
/// does it, as pure functions of the image: the partition first gets the target replicas on
/// top of its own (the new ones follow the leader and catch up), and once every added replica
/// is in the ISR, the replicas become the target; a leader that is being removed hands over to
/// an in-sync replica of the target.
package enum PartitionReassignment {
    package enum Outcome: Equatable {
        case changed(PartitionRecord)
        /// Nothing to do (the partition already has those replicas and no reassignment).
        case unchanged
        case refused(ErrorCode, String)
    }

    /// The replicas the partition had before the reassignment under way (all of them if none),
    /// each once.
    static func original(_ partition: MetadataImage.Partition) -> [Int32] {
        distinct(partition.replicas.filter { !partition.addingReplicas.contains($0) })
    }

    /// The reassignment's target: the replicas but those being removed, each once.
    static func target(_ partition: MetadataImage.Partition) -> [Int32] {
        distinct(partition.replicas.filter { !partition.removingReplicas.contains($0) })
    }

    /// `ids` without repeats, in order (an image read from a damaged log may repeat a replica).
    private static func distinct(_ ids: [Int32]) -> [Int32] {
        var seen = Set<Int32>()
        return ids.filter { seen.insert($0).inserted }
    }

    /// Starts moving `partition` to `target` (replacing a reassignment under way), or cancels
    /// the one under way when `target` is nil (back to the original replicas).
    package static func reassign(
        _ partition: MetadataImage.Partition, of topic: MetadataImage.Topic, to target: [Int32]?, in image: MetadataImage
    ) -> Outcome {
        let original = original(partition)
        guard let target else {
            guard partition.isReassigning else {
                return .refused(.noReassignmentInProgress, "No ongoing reassignment for \(topic.name)-\(partition.index).")
            }
            return finish(partition, of: topic, replicas: original, in: image)
        }
        guard !target.isEmpty else {
            return .refused(.invalidReplicaAssignment, "The replica list of \(topic.name)-\(partition.index) is empty.")
        }
        guard Set(target).count == target.count else {
            return .refused(.invalidReplicaAssignment, "The replica list of \(topic.name)-\(partition.index) repeats a broker.")
        }
        let registered = Set(image.registrations.keys)
        if let unknown = target.first(where: { !registered.contains($0) }) {
            return .refused(.invalidReplicaAssignment, "Broker \(unknown) in the replica list of \(topic.name)-\(partition.index) is not registered.")
        }
        if target == original && !partition.isReassigning { return .unchanged }
        let adding = target.filter { !original.contains($0) }
        let removing = original.filter { !target.contains($0) }
        let merged = target + original.filter { !target.contains($0) }
        let (epoch, overflow) = partition.partitionEpoch.addingReportingOverflow(1)
        guard !overflow else { return .refused(.unknownServerError, "The partition epoch cannot grow.") }
        var started = partition
        started.replicas = merged
        started.addingReplicas = adding
        started.removingReplicas = removing
        started.isr = partition.isr.filter { merged.contains($0) }
        if started.isr.isEmpty { started.isr = partition.isr }
        started.partitionEpoch = epoch
        if adding.allSatisfy(started.isr.contains) {
            return finish(started, of: topic, replicas: target, in: image, epochTaken: true)
        }
        return .changed(started.record(topicId: topic.id))
    }

    /// The record that completes `partition`'s reassignment, once every replica it adds is in
    /// the ISR; nil while not (or when none is under way).
    package static func completion(of partition: MetadataImage.Partition, topic: MetadataImage.Topic, in image: MetadataImage) -> PartitionRecord? {
        guard partition.isReassigning, partition.addingReplicas.allSatisfy(partition.isr.contains) else { return nil }
        guard case .changed(let record) = finish(partition, of: topic, replicas: target(partition), in: image) else { return nil }
        return record
    }

    /// `partition` with `replicas` as its replicas and no reassignment: the ISR keeps its
    /// members among them, and a leader not among them hands over to the first usable one in sync.
    private static func finish(
        _ partition: MetadataImage.Partition, of topic: MetadataImage.Topic, replicas: [Int32], in image: MetadataImage,
        epochTaken: Bool = false
    ) -> Outcome {
        guard !replicas.isEmpty else {
            return .refused(.invalidReplicaAssignment, "\(topic.name)-\(partition.index) would be left without replicas.")
        }
        var isr = partition.isr.filter { replicas.contains($0) }
        let usable = Set(image.usableBrokers.map(\.nodeId))
        var leader = partition.leader
        var leaderEpoch = partition.leaderEpoch
        if !replicas.contains(leader) || leader < 0 {
            leader = replicas.first { isr.contains($0) && usable.contains($0) } ?? -1
        }
        if isr.isEmpty {
            // None of the replicas kept is in sync: the partition waits, offline, for one.
            isr = [replicas[0]]
            leader = -1
        }
        if leader != partition.leader {
            let (next, overflow) = leaderEpoch.addingReportingOverflow(1)
            guard !overflow else { return .refused(.unknownServerError, "The leader epoch cannot grow.") }
            leaderEpoch = next
        }
        var partitionEpoch = partition.partitionEpoch
        if !epochTaken {
            let (next, overflow) = partitionEpoch.addingReportingOverflow(1)
            guard !overflow else { return .refused(.unknownServerError, "The partition epoch cannot grow.") }
            partitionEpoch = next
        }
        return .changed(partition.record(
            topicId: topic.id, leader: leader, leaderEpoch: leaderEpoch, isr: isr, partitionEpoch: partitionEpoch,
            replicas: replicas, adding: [], removing: []))
    }
}
