import BrookCoordinator
import BrookModel

extension GroupCoordinatorHost {
    /// Tells the group coordinator that producer `producerId`'s COMMIT (`commit` true) or ABORT
    /// marker is now in `partition`'s log, so that the offsets it committed there in its
    /// transaction (TxnOffsetCommit) become visible or are dropped. Call it after every marker
    /// appended to a partition, whoever wrote it (WriteTxnMarkers, or the transaction
    /// coordinator in-process); partitions of other topics are ignored.
    ///
    /// Before the coordinator has started there is nothing to tell: it will replay the marker
    /// when it loads. ``started`` waits for a load in progress, so a marker appended during a
    /// load is either replayed by it or applied here (applying one twice is harmless).
    func transactionCompleted(partition: TopicPartition, producerId: Int64, commit: Bool) async {
        guard partition.topic == Self.topicName, let coordinator = started else { return }
        await coordinator.completeTransaction(offsetsPartition: partition.partition, producerId: producerId, commit: commit)
    }
}
