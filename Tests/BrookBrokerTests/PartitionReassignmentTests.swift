@testable import BrookBroker
import BrookModel
import BrookProtocol
import Testing

/// Reassignments as the controller runs them: the target replicas join, catch up, and then
/// the replicas become the target; a leader being removed hands over; a cancellation goes back.
@Suite struct PartitionReassignmentTests {
    /// Brokers 1–4 registered and unfenced; topic `t` partition 0 on [1, 2, 3], led by 1, all in sync.
    static func image() -> MetadataImage {
        var (image, topic) = PartitionIsrChangeTests.image(isr: [1, 2, 3])
        image.apply(.registerBroker(RegisterBrokerRecord(
            brokerId: 4, brokerEpoch: 14,
            endPoints: [.init(name: "PLAINTEXT", host: "127.0.0.1", port: 9094, securityProtocol: 0)], fenced: false)))
        _ = topic
        return image
    }

    static func partition(_ image: MetadataImage) -> (MetadataImage.Topic, MetadataImage.Partition) {
        let topic = image.topics["t"]!
        return (topic, topic.partitions[0])
    }

    static func apply(_ outcome: PartitionReassignment.Outcome, to image: inout MetadataImage) {
        guard case .changed(let record) = outcome else {
            Issue.record("expected a change, got \(outcome)")
            return
        }
        image.apply(.partition(record))
    }

    @Test func movingAReplicaAddsTheTargetFirstAndFinishesOnceItIsInSync() {
        var image = Self.image()
        var (topic, partition) = Self.partition(image)
        Self.apply(PartitionReassignment.reassign(partition, of: topic, to: [2, 3, 4], in: image), to: &image)
        (topic, partition) = Self.partition(image)
        #expect(partition.replicas == [2, 3, 4, 1] && partition.addingReplicas == [4] && partition.removingReplicas == [1])
        #expect(partition.leader == 1 && partition.isr == [1, 2, 3], "the leader keeps serving while 4 catches up")
        #expect(PartitionReassignment.completion(of: partition, topic: topic, in: image) == nil, "4 is not in sync yet")

        // 4 caught up: the leader's AlterPartition adds it, which completes the move.
        var caughtUp = partition
        caughtUp.isr = [1, 2, 3, 4]
        guard let done = PartitionReassignment.completion(of: caughtUp, topic: topic, in: image) else {
            Issue.record("the move completes once 4 is in sync")
            return
        }
        #expect(done.replicas == [2, 3, 4] && done.isr == [2, 3, 4] && done.addingReplicas.isEmpty && done.removingReplicas.isEmpty)
        #expect(done.leader == 2 && done.leaderEpoch == partition.leaderEpoch + 1, "the removed leader hands over")
    }

    @Test func aMoveAmongInSyncReplicasFinishesAtOnce() {
        let image = Self.image()
        let (topic, partition) = Self.partition(image)
        guard case .changed(let record) = PartitionReassignment.reassign(partition, of: topic, to: [3, 2], in: image) else {
            Issue.record("a change")
            return
        }
        #expect(record.replicas == [3, 2] && record.isr == [2, 3] && record.addingReplicas.isEmpty && record.leader == 3)
        #expect(PartitionReassignment.reassign(partition, of: topic, to: [1, 2, 3], in: image) == .unchanged)
    }

    @Test func cancellingGoesBackToTheOriginalReplicas() {
        var image = Self.image()
        var (topic, partition) = Self.partition(image)
        #expect(PartitionReassignment.reassign(partition, of: topic, to: nil, in: image)
            == .refused(.noReassignmentInProgress, "No ongoing reassignment for t-0."))
        Self.apply(PartitionReassignment.reassign(partition, of: topic, to: [2, 3, 4], in: image), to: &image)
        (topic, partition) = Self.partition(image)
        Self.apply(PartitionReassignment.reassign(partition, of: topic, to: nil, in: image), to: &image)
        (topic, partition) = Self.partition(image)
        // As in KRaft, the replicas being added go and the others stay, targets first.
        #expect(partition.replicas == [2, 3, 1] && !partition.isReassigning && partition.leader == 1)
    }

    @Test func badTargetsAreRefused() {
        let image = Self.image()
        let (topic, partition) = Self.partition(image)
        for target: [Int32] in [[], [2, 2], [2, 9]] {
            guard case .refused(let code, _) = PartitionReassignment.reassign(partition, of: topic, to: target, in: image) else {
                Issue.record("\(target) refused")
                continue
            }
            #expect(code == .invalidReplicaAssignment)
        }
    }

    @Test func fencingDuringAMoveKeepsTheMoveGoing() {
        var image = Self.image()
        var (topic, partition) = Self.partition(image)
        Self.apply(PartitionReassignment.reassign(partition, of: topic, to: [2, 3, 4], in: image), to: &image)
        image.apply(.fenceBroker(FenceBrokerRecord(id: 1, epoch: 11)))
        for record in PartitionLeadership.movedAway(from: 1, in: image) { image.apply(record) }
        (topic, partition) = Self.partition(image)
        #expect(partition.leader == 2 && partition.addingReplicas == [4] && partition.removingReplicas == [1])
    }
}
