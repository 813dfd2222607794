import Logging
import Synchronization
import BrookProtocol
import BrookRecords

extension GroupShard {
    /// Rebuilds the shard's groups and offsets from its log: the last record of each key wins
    /// and tombstones delete. Groups known only by their offsets come back Empty; consumer
    /// groups' partitions are resolved by topic id through `catalog`.
    ///
    /// Offsets in a transactional batch are pending for the batch's producer until a COMMIT or
    /// ABORT control batch of the same producer follows (control record key: version int16,
    /// type int16, 0 abort and 1 commit); those without a marker yet stay pending.
    func load(catalog: TopicCatalog) throws {
        var groups: [String: GroupMetadataValue] = [:]
        var consumerGroups = ConsumerGroupLoader()
        var offsets = OffsetStore()
        try log.replay { batch in
            var iterator = try batch.makeRecordIterator()
            if batch.isControlBatch {
                guard batch.producerId >= 0, let marker = try iterator.next() else { return }
                let type = try marker.controlKey().type
                if type == .commit || type == .abort {
                    offsets.completeTransaction(producerId: batch.producerId, commit: type == .commit)
                }
                return
            }
            let transactional = batch.isTransactional && batch.producerId >= 0
            while let record = try iterator.next() {
                guard let key = record.key else { continue }
                switch try CoordinatorRecord.decode(key: key, value: record.value) {
                case .offsetCommit(let group, let partition, let offset?):
                    if transactional {
                        offsets.stage(offset, producerId: batch.producerId, group: group, partition: partition)
                    } else {
                        offsets.commit(offset, group: group, partition: partition)
                    }
                case .offsetCommit(let group, let partition, nil):
                    offsets.remove(group: group, partition: partition)
                case .groupMetadata(let group, let value):
                    groups[group] = value
                case .consumerGroup(let record):
                    consumerGroups.apply(record)
                case nil:
                    break
                }
            }
        }
        let now = clock()
        state.withLock { state in
            state.offsets = offsets
            state.groups = [:]
            state.consumerGroups = consumerGroups.groups(catalog: catalog, configuration: configuration, now: now)
            for (groupId, value) in groups where state.consumerGroups[groupId] == nil {
                state.groups[groupId] = ClassicGroup(groupId: groupId, restoring: value, now: now)
            }
            for groupId in offsets.groupIds where state.groups[groupId] == nil && state.consumerGroups[groupId] == nil {
                state.groups[groupId] = ClassicGroup(groupId: groupId, now: now)
            }
        }
    }
}
