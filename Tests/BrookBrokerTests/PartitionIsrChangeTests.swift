@testable import BrookBroker
import BrookModel
import BrookProtocol
import Testing

/// The controller's checks of a leader's AlterPartition, and the ISR moves on fencing.
@Suite struct PartitionIsrChangeTests {
    /// Brokers 1–3 registered (epochs 11, 12, 13) and unfenced; topic `t` partition 0 on all
    /// three, led by 1 in leader epoch 4, partition epoch 7, with ISR [1].
    static func image(isr: [Int32] = [1]) -> (MetadataImage, MetadataImage.Topic) {
        var image = MetadataImage(clusterId: "c", controllerId: 1, brokers: [])
        for id: Int32 in 1...3 {
            image.apply(.registerBroker(RegisterBrokerRecord(
                brokerId: id, brokerEpoch: Int64(10 + id),
                endPoints: [.init(name: "PLAINTEXT", host: "127.0.0.1", port: UInt16(9090 + id), securityProtocol: 0)], fenced: false)))
        }
        let topicId = Uuid(mostSignificantBits: 1, leastSignificantBits: 2)
        image.apply(.topic(TopicRecord(name: "t", topicId: topicId)))
        image.apply(.partition(PartitionRecord(
            partitionId: 0, topicId: topicId, replicas: [1, 2, 3], isr: isr, leader: 1, leaderEpoch: 4, partitionEpoch: 7)))
        return (image, image.topics["t"]!)
    }

    static func alter(
        _ members: [(Int32, Int64)], by broker: Int32 = 1, leaderEpoch: Int32 = 4, partitionEpoch: Int32 = 7,
        in setup: (MetadataImage, MetadataImage.Topic) = image()
    ) -> PartitionLeadership.AlterOutcome {
        PartitionLeadership.alter(
            topic: setup.1, partitionIndex: 0, by: broker, leaderEpoch: leaderEpoch, partitionEpoch: partitionEpoch,
            newIsr: members.map { (id: $0.0, epoch: $0.1) }, in: setup.0)
    }

    @Test func aCaughtUpFollowerJoinsInTheNextPartitionEpoch() {
        guard case .changed(let record) = Self.alter([(1, 11), (2, 12)]) else {
            Issue.record("refused")
            return
        }
        #expect(record.isr == [1, 2])
        #expect(record.leader == 1 && record.leaderEpoch == 4 && record.partitionEpoch == 8)
    }

    @Test func staleOrForeignRequestsAreRefusedWithKafkasCodes() {
        #expect(Self.alter([(1, 11), (2, 12)], by: 2) == .refused(.invalidRequest), "only the leader asks")
        #expect(Self.alter([(1, 11), (2, 12)], leaderEpoch: 3) == .refused(.fencedLeaderEpoch))
        #expect(Self.alter([(1, 11), (2, 12)], leaderEpoch: 5) == .refused(.notController))
        #expect(Self.alter([(1, 11), (2, 12)], partitionEpoch: 6) == .refused(.invalidUpdateVersion))
        #expect(Self.alter([(2, 12)]) == .refused(.invalidRequest), "the leader stays in its ISR")
        #expect(Self.alter([(1, 11), (4, 14)]) == .refused(.invalidRequest), "4 is not a replica")
        #expect(Self.alter([(1, 11), (2, 12), (2, 12)]) == .refused(.invalidRequest))
        #expect(Self.alter([(1, 11), (2, 99)]) == .refused(.ineligibleReplica), "another incarnation of 2")
    }

    @Test func aFencedBrokerCannotJoin() {
        var (image, topic) = Self.image()
        image.apply(.fenceBroker(FenceBrokerRecord(id: 2, epoch: 12)))
        #expect(Self.alter([(1, 11), (2, 12)], in: (image, topic)) == .refused(.ineligibleReplica))
        guard case .changed = Self.alter([(1, 11), (3, 13)], in: (image, topic)) else {
            Issue.record("3 is live")
            return
        }
    }

    @Test func fencingALeaderElectsAnInSyncReplicaAndDropsItFromTheIsr() {
        var (image, _) = Self.image(isr: [1, 2, 3])
        image.apply(.fenceBroker(FenceBrokerRecord(id: 1, epoch: 11)))
        for record in PartitionLeadership.movedAway(from: 1, in: image) { image.apply(record) }
        let partition = image.topics["t"]!.partitions[0]
        #expect(partition.leader == 2 && partition.isr == [2, 3])
        #expect(partition.leaderEpoch == 5 && partition.partitionEpoch == 8)

        // A fenced follower leaves the ISR; the leader and its epoch stay.
        image.apply(.fenceBroker(FenceBrokerRecord(id: 3, epoch: 13)))
        for record in PartitionLeadership.movedAway(from: 3, in: image) { image.apply(record) }
        let after = image.topics["t"]!.partitions[0]
        #expect(after.leader == 2 && after.isr == [2] && after.leaderEpoch == 5 && after.partitionEpoch == 9)
    }

    @Test func withoutAnInSyncReplicaThePartitionGoesOfflineUnlessUncleanElectionIsAllowed() {
        var (image, _) = Self.image(isr: [1])
        image.apply(.fenceBroker(FenceBrokerRecord(id: 1, epoch: 11)))
        var clean = image
        for record in PartitionLeadership.movedAway(from: 1, in: clean) { clean.apply(record) }
        #expect(clean.topics["t"]!.partitions[0].leader == -1)
        #expect(clean.topics["t"]!.partitions[0].isr == [1], "the last in-sync replica is remembered")

        for record in PartitionLeadership.movedAway(from: 1, in: image, unclean: { _ in true }) { image.apply(record) }
        #expect(image.topics["t"]!.partitions[0].leader == 2)
        #expect(image.topics["t"]!.partitions[0].isr == [2])

        // Turning unclean election on later elects offline partitions' first live replica.
        #expect(PartitionLeadership.uncleanElections(in: clean, unclean: { _ in false }).isEmpty)
        let elections = PartitionLeadership.uncleanElections(in: clean, unclean: { _ in true })
        for record in elections { clean.apply(record) }
        #expect(clean.topics["t"]!.partitions[0].leader == 2)
    }

    @Test func aPreferredElectionGivesTheFirstReplicaItsPartitionBackWhenItIsInSync() {
        var (image, _) = Self.image(isr: [2, 3])
        image.apply(.partition(PartitionRecord(
            partitionId: 0, topicId: image.topics["t"]!.id, replicas: [1, 2, 3], isr: [2, 3], leader: 2, leaderEpoch: 5,
            partitionEpoch: 8)))
        let topic = image.topics["t"]!
        #expect(PartitionLeadership.elect(topic.partitions[0], of: topic, preferred: true, in: image) == .refused(.preferredLeaderNotAvailable),
                "1 is not in sync")
        #expect(PartitionLeadership.rebalance(in: image, imbalancePercent: 10).isEmpty)
        image.apply(.partition(PartitionRecord(
            partitionId: 0, topicId: topic.id, replicas: [1, 2, 3], isr: [2, 3, 1], leader: 2, leaderEpoch: 5, partitionEpoch: 9)))
        let caughtUp = image.topics["t"]!
        guard case .elected(let record) = PartitionLeadership.elect(caughtUp.partitions[0], of: caughtUp, preferred: true, in: image) else {
            Issue.record("1 is in sync")
            return
        }
        #expect(record.leader == 1 && record.leaderEpoch == 6 && record.partitionEpoch == 10 && record.isr == [2, 3, 1])
        #expect(PartitionLeadership.rebalance(in: image, imbalancePercent: 10) == [.partition(record)])
        #expect(PartitionLeadership.rebalance(in: image, imbalancePercent: 100).isEmpty, "within the allowed imbalance")
        image.apply(.partition(record))
        let back = image.topics["t"]!
        #expect(PartitionLeadership.elect(back.partitions[0], of: back, preferred: true, in: image) == .refused(.electionNotNeeded))
    }

    @Test func anUncleanElectionPrefersAnInSyncReplicaThenAnyLiveOne() {
        var (image, topic) = Self.image(isr: [1])
        #expect(PartitionLeadership.elect(topic.partitions[0], of: topic, preferred: false, in: image) == .refused(.electionNotNeeded))
        image.apply(.fenceBroker(FenceBrokerRecord(id: 1, epoch: 11)))
        for record in PartitionLeadership.movedAway(from: 1, in: image) { image.apply(record) }
        topic = image.topics["t"]!
        guard case .elected(let record) = PartitionLeadership.elect(topic.partitions[0], of: topic, preferred: false, in: image) else {
            Issue.record("2 and 3 are live")
            return
        }
        #expect(record.leader == 2 && record.isr == [2])
        image.apply(.fenceBroker(FenceBrokerRecord(id: 2, epoch: 12)))
        image.apply(.fenceBroker(FenceBrokerRecord(id: 3, epoch: 13)))
        #expect(PartitionLeadership.elect(topic.partitions[0], of: topic, preferred: false, in: image) == .refused(.eligibleLeadersNotAvailable))
    }
}

/// A restarted broker acts on its partitions only once its metadata holds this process's
/// registration: before, every leader is unknown to it.
@Suite struct ServedPartitionStateTests {
    @Test func partitionsAreLedByNobodyUntilThisProcessIsRegistered() {
        var (image, _) = PartitionIsrChangeTests.image(isr: [1, 2, 3])
        let partition = image.topics["t"]!.partitions[0]
        let process = Uuid(mostSignificantBits: 9, leastSignificantBits: 9)
        // The image holds broker 1's previous registration (incarnation zero): 1 "leads" in it.
        let replayed = MetadataImage.Partition.served(partition, in: image, by: 1, incarnation: process)
        #expect(replayed.leader == -1 && replayed.leaderEpoch == 4 && replayed.isr == [1, 2, 3])
        #expect(MetadataImage.Partition.served(partition, in: image, by: 7, incarnation: process).leader == -1, "not registered at all")

        image.apply(.registerBroker(RegisterBrokerRecord(
            brokerId: 1, incarnationId: process, brokerEpoch: 50,
            endPoints: [.init(name: "PLAINTEXT", host: "127.0.0.1", port: 9091, securityProtocol: 0)], fenced: true)))
        #expect(MetadataImage.Partition.served(partition, in: image, by: 1, incarnation: process) == partition)
    }
}
