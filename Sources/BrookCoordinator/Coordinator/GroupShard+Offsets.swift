import Logging
import Synchronization
import BrookModel
import BrookProtocol

extension GroupShard {
    /// OffsetCommit: checks the committer against the group, writes the offsets as one batch
    /// and answers once they are in the log. Returns an error per partition; offsets the log
    /// refused fail with its error as Kafka maps it, and nothing of them is kept (nor the
    /// group the commit would have created).
    public func commitOffsets(
        groupId: String, memberId: String, groupInstanceId: String?, generationId: Int32,
        offsets: [(TopicPartition, CommittedOffset)], apiVersion: Int16 = 9
    ) async -> [TopicPartition: ErrorCode] {
        await exclusively { state in
            let all = { (error: ErrorCode) in Dictionary(offsets.map { ($0.0, error) }, uniquingKeysWith: { a, _ in a }) }
            guard !state.isShutDown else { return all(.notCoordinator) }
            let now = clock()
            if let consumer = state.consumerGroups[groupId] {
                if let error = consumer.offsetCommitError(memberId: memberId, memberEpoch: generationId, version: apiVersion) {
                    return all(error)
                }
            } else if var group = state.groups[groupId] {
                if let error = group.offsetCommitError(memberId: memberId, groupInstanceId: groupInstanceId, generationId: generationId) {
                    return all(error)
                }
                group.touch(memberId: memberId, now: now)
                state.groups[groupId] = group
            } else {
                guard generationId < 0 else { return all(.illegalGeneration) }
            }
            var (accepted, errors) = admitMetadataSizes(offsets)
            do {
                try log.write(accepted.map { .offsetCommit(group: groupId, partition: $0.0, $0.1) }, now: now)
            } catch {
                logger.error("could not store \(accepted.count) offsets of group \(groupId): \(error)")
                let code = CoordinatorLogError.responseCode(for: error)
                for (partition, _) in accepted { errors[partition] = code }
                return errors
            }
            if state.groups[groupId] == nil && state.consumerGroups[groupId] == nil {
                // A group that only stores offsets (no group management) starts Empty.
                state.groups[groupId] = ClassicGroup(groupId: groupId, now: now)
            }
            for (partition, offset) in accepted {
                state.offsets.commit(offset, group: groupId, partition: partition)
                errors[partition] = ErrorCode.none
            }
            return errors
        }
    }

    /// OffsetFetch: the committed offsets of `partitions` (all of the group's when nil); a
    /// partition without a commit is absent from the answer.
    public func fetchOffsets(groupId: String, partitions: [TopicPartition]?) async -> (ErrorCode, [TopicPartition: CommittedOffset]) {
        let fetched = await fetchOffsets(groupId: groupId, partitions: partitions, requireStable: false)
        return (fetched.error, fetched.offsets)
    }

    /// OffsetFetch (v7+ `require_stable`): as ``fetchOffsets(groupId:partitions:)``, but with
    /// `requireStable` a partition with a transactional offset still pending is answered as
    /// ``FetchedOffsets/unstable`` (UNSTABLE_OFFSET_COMMIT, no offset) so that the consumer
    /// retries once the transaction is over. Without it pending offsets are simply not seen.
    public func fetchOffsets(groupId: String, partitions: [TopicPartition]?, requireStable: Bool) async -> FetchedOffsets {
        await exclusively { state in
            guard !state.isShutDown else { return FetchedOffsets(error: .notCoordinator) }
            var selected = state.offsets.offsets(of: groupId)
            if let partitions {
                let requested = Set(partitions)
                selected = selected.filter { requested.contains($0.key) }
            }
            guard requireStable else { return FetchedOffsets(offsets: selected) }
            let pending = state.offsets.pendingPartitions(of: groupId)
            let unstable = partitions.map { Set($0).intersection(pending) } ?? pending.intersection(selected.keys)
            return FetchedOffsets(offsets: selected.filter { !unstable.contains($0.key) }, unstable: unstable)
        }
    }

    /// OffsetDelete: removes committed offsets of partitions the group no longer consumes.
    /// Returns a group-level error, else an error per partition.
    public func deleteOffsets(groupId: String, partitions: [TopicPartition]) async -> (ErrorCode, [TopicPartition: ErrorCode]) {
        await exclusively { state in
            guard !state.isShutDown else { return (.notCoordinator, [:]) }
            let subscribed: (String) -> Bool
            let active: Bool
            if let consumer = state.consumerGroups[groupId] {
                active = !consumer.members.isEmpty
                subscribed = { consumer.isSubscribed(to: $0) }
            } else if let group = state.groups[groupId] {
                active = !group.members.isEmpty
                if active && group.protocolType != "consumer" { return (.nonEmptyGroup, [:]) }
                subscribed = { group.isSubscribed(to: $0) }
            } else {
                return (.groupIdNotFound, [:])
            }
            var errors: [TopicPartition: ErrorCode] = [:]
            var removed: [TopicPartition] = []
            let existing = state.offsets.offsets(of: groupId)
            for partition in partitions {
                if active && subscribed(partition.topic) {
                    errors[partition] = .groupSubscribedToTopic
                } else {
                    errors[partition] = ErrorCode.none
                    // A tombstone deletes a pending transactional offset of the partition too.
                    if existing[partition] != nil || state.offsets.hasPendingOffset(group: groupId, partition: partition) {
                        removed.append(partition)
                    }
                }
            }
            do {
                try log.write(removed.map { .offsetCommit(group: groupId, partition: $0, nil) }, now: clock())
            } catch {
                logger.error("could not delete \(removed.count) offsets of group \(groupId): \(error)")
                return (CoordinatorLogError.responseCode(for: error), [:])
            }
            for partition in removed { state.offsets.remove(group: groupId, partition: partition) }
            return (.none, errors)
        }
    }

    /// Removes the offsets of empty groups past `offsets.retention.minutes` and forgets empty
    /// groups left with no offsets, writing tombstones for both, one batch per group. Offsets of
    /// partitions with a pending transactional offset stay, and so does a group in an open
    /// transaction. A group whose tombstones the log refuses keeps its offsets (and itself) in
    /// memory; the failure is logged at error with the count and the next pass tries again.
    @discardableResult
    public func expireOffsets() async -> OffsetExpiry {
        await exclusively { state in
            var pass = OffsetExpiry()
            guard !state.isShutDown else { return pass }
            let now = clock()
            var firstError: (any Error)?
            func write(_ tombstones: [CoordinatorRecord], offsets: Int, forgetsGroup: Bool) -> Bool {
                do {
                    try log.write(tombstones, now: now)
                    pass.expiredOffsets += offsets
                    if forgetsGroup { pass.removedGroups += 1 }
                    return true
                } catch {
                    pass.failedOffsets += offsets
                    pass.failedGroups += 1
                    firstError = firstError ?? error
                    return false
                }
            }
            for (groupId, group) in state.groups where group.state == .empty && group.pendingMembers.isEmpty {
                let expired = state.offsets.expired(group: groupId, retentionMs: configuration.offsetsRetentionMs, now: now)
                var tombstones: [CoordinatorRecord] = expired.map { .offsetCommit(group: groupId, partition: $0, nil) }
                let forget = state.offsets.offsets(of: groupId).count == expired.count && !state.offsets.hasPendingOffsets(groupId)
                if forget { tombstones.append(.groupMetadata(group: groupId, nil)) }
                guard !tombstones.isEmpty, write(tombstones, offsets: expired.count, forgetsGroup: forget) else { continue }
                for partition in expired { state.offsets.remove(group: groupId, partition: partition) }
                if forget { state.groups[groupId] = nil }
            }
            for (groupId, group) in state.consumerGroups where group.members.isEmpty {
                let expired = state.offsets.expired(group: groupId, retentionMs: configuration.offsetsRetentionMs, now: now)
                var tombstones: [CoordinatorRecord] = expired.map { .offsetCommit(group: groupId, partition: $0, nil) }
                let forget = state.offsets.offsets(of: groupId).count == expired.count && !state.offsets.hasPendingOffsets(groupId)
                if forget { tombstones += group.tombstones() }
                guard !tombstones.isEmpty, write(tombstones, offsets: expired.count, forgetsGroup: forget) else { continue }
                for partition in expired { state.offsets.remove(group: groupId, partition: partition) }
                if forget { state.consumerGroups[groupId] = nil }
            }
            if let firstError {
                logger.error("""
                    could not expire \(pass.failedOffsets) offsets of \(pass.failedGroups) groups in partition \(partition) \
                    (their tombstones were refused; they stay and the next pass retries): \(firstError)
                    """)
            }
            return pass
        }
    }
}

/// What one offset-expiry pass did.
public struct OffsetExpiry: Sendable, Equatable {
    /// Offsets whose tombstones were written.
    public var expiredOffsets = 0
    /// Empty groups forgotten (their tombstones written).
    public var removedGroups = 0
    /// Expired offsets kept because the log refused their group's tombstones.
    public var failedOffsets = 0
    /// Groups whose tombstones the log refused.
    public var failedGroups = 0

    public init() {}

    /// Both passes together.
    public static func + (lhs: OffsetExpiry, rhs: OffsetExpiry) -> OffsetExpiry {
        var sum = lhs
        sum.expiredOffsets += rhs.expiredOffsets
        sum.removedGroups += rhs.removedGroups
        sum.failedOffsets += rhs.failedOffsets
        sum.failedGroups += rhs.failedGroups
        return sum
    }
}

extension GroupShard {
    /// Splits offsets whose metadata fits `offset.metadata.max.bytes` from those that fail with
    /// OFFSET_METADATA_TOO_LARGE.
    func admitMetadataSizes(
        _ offsets: [(TopicPartition, CommittedOffset)]
    ) -> (accepted: [(TopicPartition, CommittedOffset)], refused: [TopicPartition: ErrorCode]) {
        var accepted: [(TopicPartition, CommittedOffset)] = []
        var refused: [TopicPartition: ErrorCode] = [:]
        for (partition, offset) in offsets {
            if offset.metadata.utf8.count > configuration.offsetMetadataMaxBytes {
                refused[partition] = .offsetMetadataTooLarge
            } else {
                accepted.append((partition, offset))
            }
        }
        return (accepted, refused)
    }
}

extension ClassicGroup {
    /// A commit from a member counts as a heartbeat.
    mutating func touch(memberId: String, now: Int64) {
        guard var member = members[memberId] else { return }
        member.heartbeatDeadline = now + Int64(member.sessionTimeoutMs)
        members[memberId] = member
    }
}
