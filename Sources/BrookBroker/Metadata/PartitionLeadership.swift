import BrookProtocol

/// The controller's leader elections for a broker being fenced or unfenced, as the records
/// that carry them (pure functions of the image, so the simulation and the fuzzer check them).
package enum PartitionLeadership {
    /// The partitions `broker` leads, each given to another in-sync replica that is usable, or
    /// to none (leader -1, offline, as Kafka leaves a partition whose last replica is fenced),
    /// in a new leader epoch: clients stop sending to the fenced broker, and the coordinators
    /// and fetchers of the partition see the change.
    package static func movedAway(from broker: Int32, in image: MetadataImage) -> [MetadataRecord] {
        let usable = Set(image.usableBrokers.map(\.nodeId)).subtracting([broker])
        return partitionChanges(in: image) { partition in
            guard partition.leader == broker else { return nil }
            return partition.isr.first { usable.contains($0) } ?? -1
        }
    }

    /// The offline partitions `broker` is an in-sync replica of, led by it again in a new
    /// leader epoch, now that it is unfenced.
    package static func elected(on broker: Int32, in image: MetadataImage) -> [MetadataRecord] {
        partitionChanges(in: image) { partition in
            partition.leader < 0 && partition.isr.contains(broker) ? broker : nil
        }
    }

    /// PartitionRecords for the partitions `newLeader` gives a leader for (nil: unchanged).
    private static func partitionChanges(
        in image: MetadataImage, newLeader: (MetadataImage.Partition) -> Int32?
    ) -> [MetadataRecord] {
        var records: [MetadataRecord] = []
        for topic in image.topics.values.sorted(by: { $0.name < $1.name }) {
            for partition in topic.partitions {
                guard let leader = newLeader(partition) else { continue }
                let (epoch, overflow) = partition.leaderEpoch.addingReportingOverflow(1)
                guard !overflow else { continue }
                records.append(.partition(PartitionRecord(
                    partitionId: partition.index, topicId: topic.id, replicas: partition.replicas, isr: partition.isr,
                    leader: leader, leaderEpoch: epoch, partitionEpoch: epoch)))
            }
        }
        return records
    }
}
