import BrookModel
import BrookProtocol
import Logging
import Synchronization

extension GroupShard {
    /// TxnOffsetCommit: offsets a transactional producer commits as part of its transaction.
    ///
    /// The committer is checked against the group when it names itself (`memberId`,
    /// `groupInstanceId` or a `generationId` >= 0; see ``ClassicGroup/txnOffsetCommitError(memberId:groupInstanceId:generationId:)``);
    /// an unknown group is created Empty when `generationId` < 0, else ILLEGAL_GENERATION. Offsets
    /// whose metadata exceeds `offset.metadata.max.bytes` fail alone. The rest are written as
    /// one transactional batch of (`producerId`, `producerEpoch`) and kept *pending*: OffsetFetch
    /// does not see them until ``completeTransaction(producerId:commit:)`` hears the producer's
    /// COMMIT marker. A batch the log refuses fails every partition with the log's error as Kafka
    /// maps it (a fenced producer epoch as it is) and leaves nothing behind, not even the group.
    /// That AddOffsetsToTxn happened is the transaction coordinator's business, not checked here.
    ///
    /// Returns an error per partition.
    public func commitTransactionalOffsets(
        groupId: String, transactionalId: String, producerId: Int64, producerEpoch: Int16,
        memberId: String, groupInstanceId: String?, generationId: Int32,
        offsets: [(TopicPartition, CommittedOffset)]
    ) async -> [TopicPartition: ErrorCode] {
        await exclusively { state in
            let all = { (error: ErrorCode) in Dictionary(offsets.map { ($0.0, error) }, uniquingKeysWith: { a, _ in a }) }
            guard !state.isShutDown else { return all(.notCoordinator) }
            let now = clock()
            if let consumer = state.consumerGroups[groupId] {
                if let error = consumer.txnOffsetCommitError(memberId: memberId, groupInstanceId: groupInstanceId, memberEpoch: generationId) {
                    return all(error)
                }
            } else if let group = state.groups[groupId] {
                if let error = group.txnOffsetCommitError(memberId: memberId, groupInstanceId: groupInstanceId, generationId: generationId) {
                    return all(error)
                }
            } else {
                guard generationId < 0 else { return all(.illegalGeneration) }
            }
            var (accepted, errors) = admitMetadataSizes(offsets)
            do {
                try log.writeTransactional(
                    accepted.map { .offsetCommit(group: groupId, partition: $0.0, $0.1) },
                    producerId: producerId, producerEpoch: producerEpoch, now: now)
            } catch {
                logger.error("could not store transactional offsets of group \(groupId) for \(transactionalId): \(error)")
                let code = CoordinatorLogError.responseCode(for: error)
                for (partition, _) in accepted { errors[partition] = code }
                return errors
            }
            if state.groups[groupId] == nil && state.consumerGroups[groupId] == nil {
                state.groups[groupId] = ClassicGroup(groupId: groupId, now: now)
            }
            for (partition, offset) in accepted {
                state.offsets.stage(offset, producerId: producerId, group: groupId, partition: partition)
                errors[partition] = ErrorCode.none
            }
            return errors
        }
    }

    /// Applies producer `producerId`'s transaction outcome once its COMMIT (`commit` true) or
    /// ABORT marker is in this shard's log: committed pending offsets become visible (unless a
    /// plain commit written after them is already there), aborted ones are dropped. Markers of
    /// producers with nothing pending here, and repeated markers, change nothing.
    public func completeTransaction(producerId: Int64, commit: Bool) async {
        await exclusively { state in
            state.offsets.completeTransaction(producerId: producerId, commit: commit)
        }
    }
}
