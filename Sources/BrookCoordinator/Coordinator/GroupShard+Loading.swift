import Logging
import Synchronization
import BrookProtocol
import BrookRecords

extension GroupShard {
    /// Rebuilds the shard's groups and offsets from its log: the last record of each key wins
    /// and tombstones delete. Groups known only by their offsets come back Empty; consumer
    /// groups' partitions are resolved by topic id through `catalog`.
    func load(catalog: TopicCatalog) throws {
        var groups: [String: GroupMetadataValue] = [:]
        var consumerGroups = ConsumerGroupLoader()
        var offsets = OffsetStore()
        try log.replay { batch in
            guard !batch.isControlBatch else { return }
            var iterator = try batch.makeRecordIterator()
            while let record = try iterator.next() {
                guard let key = record.key else { continue }
                switch try CoordinatorRecord.decode(key: key, value: record.value) {
                case .offsetCommit(let group, let partition, let offset?):
                    offsets.commit(offset, group: group, partition: partition)
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
