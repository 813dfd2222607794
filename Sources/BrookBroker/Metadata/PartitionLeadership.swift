import BrookProtocol

/// The controller's leader elections and ISR changes, as the records that carry them (pure
/// functions of the image, so the simulation and the fuzzer check them).
package enum PartitionLeadership {
    /// Whether a topic allows an out-of-sync replica to lead when no in-sync one can
    /// (`unclean.leader.election.enable`, the topic's or the broker's).
    package typealias UncleanPolicy = (MetadataImage.Topic) -> Bool

    /// A broker fenced or shutting down leaves the ISR of every partition (but the last member
    /// of an ISR stays, so the partition remembers who has its latest records), and the
    /// partitions it led go to the first usable in-sync replica in replica order, in a new
    /// leader epoch. With none, the partition goes offline (leader -1), unless the topic allows
    /// an unclean election: then the first usable replica leads, alone in its ISR.
    package static func movedAway(
        from broker: Int32, in image: MetadataImage, unclean: UncleanPolicy = { _ in false }
    ) -> [MetadataRecord] {
        let usable = Set(image.usableBrokers.map(\.nodeId)).subtracting([broker])
        return partitionChanges(in: image) { topic, partition in
            guard partition.leader == broker || partition.isr.contains(broker) else { return nil }
            var isr = partition.isr.filter { $0 != broker }
            if isr.isEmpty { isr = partition.isr }
            var leader = partition.leader
            if leader == broker {
                leader = partition.replicas.first { isr.contains($0) && usable.contains($0) } ?? -1
                if leader < 0, unclean(topic), let anyone = partition.replicas.first(where: { usable.contains($0) }) {
                    leader = anyone
                    isr = [anyone]
                }
            }
            return (leader, isr)
        }
    }

    /// The offline partitions `broker` is an in-sync replica of (or, where the topic allows an
    /// unclean election, any replica of), led by it again in a new leader epoch, now that it is
    /// unfenced.
    package static func elected(
        on broker: Int32, in image: MetadataImage, unclean: UncleanPolicy = { _ in false }
    ) -> [MetadataRecord] {
        partitionChanges(in: image) { topic, partition in
            guard partition.leader < 0 else { return nil }
            if partition.isr.contains(broker) { return (broker, partition.isr) }
            if partition.replicas.contains(broker), unclean(topic) { return (broker, [broker]) }
            return nil
        }
    }

    /// The offline partitions of topics that now allow an unclean election (an operator just
    /// turned it on), each led by its first usable replica, alone in its ISR.
    package static func uncleanElections(in image: MetadataImage, unclean: UncleanPolicy) -> [MetadataRecord] {
        let usable = Set(image.usableBrokers.map(\.nodeId))
        return partitionChanges(in: image) { topic, partition in
            guard partition.leader < 0, unclean(topic), let anyone = partition.replicas.first(where: { usable.contains($0) })
            else { return nil }
            return (anyone, [anyone])
        }
    }

    /// What an election (ElectLeaders, or the controller's own rebalancing) makes of one partition.
    package enum ElectionOutcome: Equatable {
        case elected(PartitionRecord)
        case refused(ErrorCode)
    }

    /// A preferred-leader election: the first replica leads again, in a new leader epoch, if it
    /// is a usable in-sync replica (PREFERRED_LEADER_NOT_AVAILABLE otherwise); an unclean
    /// election: a partition without a leader gets its first usable in-sync replica, else its
    /// first usable replica alone in its ISR (ELIGIBLE_LEADERS_NOT_AVAILABLE when none).
    /// ELECTION_NOT_NEEDED when the partition already has the leader the election would give.
    package static func elect(
        _ partition: MetadataImage.Partition, of topic: MetadataImage.Topic, preferred: Bool, in image: MetadataImage
    ) -> ElectionOutcome {
        let usable = Set(image.usableBrokers.map(\.nodeId))
        var leader: Int32
        var isr = partition.isr
        if preferred {
            guard let first = partition.replicas.first, first != partition.leader else { return .refused(.electionNotNeeded) }
            guard usable.contains(first), partition.isr.contains(first) else { return .refused(.preferredLeaderNotAvailable) }
            leader = first
        } else {
            guard partition.leader < 0 else { return .refused(.electionNotNeeded) }
            if let inSync = partition.replicas.first(where: { usable.contains($0) && partition.isr.contains($0) }) {
                leader = inSync
            } else if let anyone = partition.replicas.first(where: { usable.contains($0) }) {
                leader = anyone
                isr = [anyone]
            } else {
                return .refused(.eligibleLeadersNotAvailable)
            }
        }
        let (leaderEpoch, leaderOverflow) = partition.leaderEpoch.addingReportingOverflow(1)
        let (partitionEpoch, partitionOverflow) = partition.partitionEpoch.addingReportingOverflow(1)
        guard !leaderOverflow, !partitionOverflow else { return .refused(.unknownServerError) }
        return .elected(partition.record(
            topicId: topic.id, leader: leader, leaderEpoch: leaderEpoch, isr: isr, partitionEpoch: partitionEpoch))
    }

    /// Kafka's automatic leader rebalance (`auto.leader.rebalance.enable`): for each broker whose
    /// share of partitions it is the preferred leader of but does not lead exceeds
    /// `imbalancePercent`, preferred elections for those where it can lead.
    package static func rebalance(in image: MetadataImage, imbalancePercent: Int) -> [MetadataRecord] {
        var preferredCount: [Int32: Int] = [:]
        var notLeading: [Int32: [(MetadataImage.Topic, MetadataImage.Partition)]] = [:]
        for topic in image.topics.values.sorted(by: { $0.name < $1.name }) {
            for partition in topic.partitions {
                guard let first = partition.replicas.first else { continue }
                preferredCount[first, default: 0] += 1
                if partition.leader != first { notLeading[first, default: []].append((topic, partition)) }
            }
        }
        var records: [MetadataRecord] = []
        for (broker, partitions) in notLeading.sorted(by: { $0.key < $1.key }) {
            let total = preferredCount[broker] ?? 0
            guard total > 0, partitions.count * 100 > imbalancePercent * total else { continue }
            for (topic, partition) in partitions {
                if case .elected(let record) = elect(partition, of: topic, preferred: true, in: image) {
                    records.append(.partition(record))
                }
            }
        }
        return records
    }

    /// What the controller makes of one partition of an AlterPartition.
    package enum AlterOutcome: Equatable {
        case changed(PartitionRecord)
        case refused(ErrorCode)
    }

    /// A leader's AlterPartition for one partition, checked against the image: the record of
    /// the new ISR (same leader and leader epoch, the partition epoch one higher), or the error
    /// Kafka's controller answers with.
    package static func alter(
        topic: MetadataImage.Topic, partitionIndex: Int32, by broker: Int32, leaderEpoch: Int32, partitionEpoch: Int32,
        newIsr: [(id: Int32, epoch: Int64)], in image: MetadataImage
    ) -> AlterOutcome {
        guard let partition = topic.partitions.first(where: { $0.index == partitionIndex }) else {
            return .refused(.unknownTopicOrPartition)
        }
        guard partition.leader == broker else { return .refused(.invalidRequest) }
        if leaderEpoch > partition.leaderEpoch { return .refused(.notController) }
        if leaderEpoch < partition.leaderEpoch { return .refused(.fencedLeaderEpoch) }
        if partitionEpoch > partition.partitionEpoch { return .refused(.notController) }
        if partitionEpoch < partition.partitionEpoch { return .refused(.invalidUpdateVersion) }
        let ids = newIsr.map(\.id)
        guard ids.contains(broker), Set(ids).count == ids.count, ids.allSatisfy(partition.replicas.contains) else {
            return .refused(.invalidRequest)
        }
        let usable = Dictionary(uniqueKeysWithValues: image.usableBrokers.map { ($0.nodeId, $0.epoch) })
        for member in newIsr where !partition.isr.contains(member.id) {
            // A joining replica must be a live broker, in the incarnation the leader saw fetch.
            guard let epoch = usable[member.id], member.epoch < 0 || member.epoch == epoch else {
                return .refused(.ineligibleReplica)
            }
        }
        let (next, overflow) = partition.partitionEpoch.addingReportingOverflow(1)
        guard !overflow else { return .refused(.invalidUpdateVersion) }
        return .changed(partition.record(topicId: topic.id, isr: ids, partitionEpoch: next))
    }

    /// PartitionRecords for the partitions `change` gives a new leader and ISR (nil: unchanged).
    /// A new leader means a new leader epoch; any change a new partition epoch.
    private static func partitionChanges(
        in image: MetadataImage,
        change: (MetadataImage.Topic, MetadataImage.Partition) -> (leader: Int32, isr: [Int32])?
    ) -> [MetadataRecord] {
        var records: [MetadataRecord] = []
        for topic in image.topics.values.sorted(by: { $0.name < $1.name }) {
            for partition in topic.partitions {
                guard let (leader, isr) = change(topic, partition), leader != partition.leader || isr != partition.isr else {
                    continue
                }
                var leaderEpoch = partition.leaderEpoch
                if leader != partition.leader {
                    let (next, overflow) = leaderEpoch.addingReportingOverflow(1)
                    guard !overflow else { continue }
                    leaderEpoch = next
                }
                let (partitionEpoch, overflow) = partition.partitionEpoch.addingReportingOverflow(1)
                guard !overflow else { continue }
                records.append(.partition(partition.record(
                    topicId: topic.id, leader: leader, leaderEpoch: leaderEpoch, isr: isr, partitionEpoch: partitionEpoch)))
            }
        }
        return records
    }
}
