import BrookModel
import BrookProtocol
import BrookRecords
import BrookStorage
import NIOCore
import Synchronization

/// An ISR a partition's leader asks the controller for (AlterPartition), with the epochs it
/// knows, so the controller refuses it when either moved.
struct IsrChange: Sendable, Equatable {
    var topicPartition: TopicPartition
    var topicId: Uuid
    var leaderEpoch: Int32
    var partitionEpoch: Int32
    var isr: [Int32]
}

extension Partition {
    /// Takes the controller's latest state of the partition (a metadata change): a broker that
    /// now leads records its epoch's start in the leader epoch cache; requests waiting on the
    /// partition wake to see the change (acks=all produces of a deposed leader fail).
    @discardableResult
    func apply(_ metadata: MetadataImage.Partition, now: Int64) throws(StorageError) -> ReplicaState.RoleChange {
        let end = log.logEndOffset
        let change = replication.withLock {
            $0.apply(
                leader: metadata.leader, leaderEpoch: metadata.leaderEpoch, partitionEpoch: metadata.partitionEpoch,
                replicas: metadata.replicas, isr: metadata.isr, logEndOffset: end, now: now)
        }
        if change == .becameLeader {
            try log.assignEpochStartOffset(LeaderEpoch(metadata.leaderEpoch))
        }
        if change != .none {
            // Read before taking the lock: the log's own lock is never taken under this one.
            let end = log.logEndOffset
            replication.withLock { _ = $0.advanceHighWatermark(leaderEndOffset: end) }
            replicationWaiters.notifyAll()
            waiters.notifyAll()
        }
        return change
    }

    /// How an acks=all append of records below `endOffset`, made in leader epoch `epoch`, ends:
    /// nil while the ISR has yet to replicate them; NONE once the high watermark passed them
    /// (NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR shrank below `min.insync.replicas`
    /// meanwhile); NOT_LEADER_OR_FOLLOWER once this broker no longer leads in that epoch.
    func replicationOutcome(below endOffset: Int64, epoch: Int32) -> ErrorCode? {
        let minimum = log.config.minInSyncReplicas
        let highWatermark = self.highWatermark
        return replication.withLock { state -> ErrorCode? in
            guard state.isLeader, state.leaderEpoch == epoch else { return .notLeaderOrFollower }
            guard highWatermark >= endOffset else { return nil }
            return state.isr.count < minimum ? .notEnoughReplicasAfterAppend : ErrorCode.none
        }
    }

    /// Waits until ``replicationOutcome(below:epoch:)`` decides, or REQUEST_TIMED_OUT at `deadline`.
    func waitForReplication(below endOffset: Int64, epoch: Int32, deadline: ContinuousClock.Instant) async -> ErrorCode {
        while true {
            if let outcome = replicationOutcome(below: endOffset, epoch: epoch) { return outcome }
            let now = ContinuousClock.now
            guard now < deadline, !Task.isCancelled else { return .requestTimedOut }
            let waiter = FetchWaiter()
            replicationWaiters.add(waiter)
            // A change between the check and the registration would be missed; check again.
            if let outcome = replicationOutcome(below: endOffset, epoch: epoch) {
                replicationWaiters.remove(waiter)
                return outcome
            }
            await waiter.wait(timeout: deadline - now)
            replicationWaiters.remove(waiter)
        }
    }

    /// The leader's side of a follower's fetch from `fetchOffset`, its log having ended at
    /// `leaderEndOffset` when read: the follower's progress moves the high watermark (waking
    /// acks=all produces and consumers) and may earn it a place in the ISR. Returns the ISR
    /// change to ask the controller for, if any.
    func recordFollowerFetch(
        replica: Int32, fetchOffset: Int64, logStartOffset: Int64 = -1, leaderEndOffset: Int64, now: Int64, maxLagMs: Int64,
        canJoin: (Int32) -> Bool = { _ in true }
    ) -> IsrChange? {
        let (moved, change) = replication.withLock { state -> (Bool, IsrChange?) in
            let moved = state.recordFetch(
                replica: replica, fetchOffset: fetchOffset, logStartOffset: logStartOffset, leaderEndOffset: leaderEndOffset, now: now)
            return (moved, proposal(&state, now: now, maxLagMs: maxLagMs, leaderEndOffset: leaderEndOffset, canJoin: canJoin))
        }
        if moved {
            replicationWaiters.notifyAll()
            waiters.notifyAll()
        }
        return change
    }

    /// The in-sync followers holding `offset`, with their progress: where this leader may send a
    /// consumer to read (KIP-392). Empty on a follower.
    func followersHolding(_ offset: Int64) -> [(id: Int32, logEndOffset: Int64, lastCaughtUpMs: Int64)] {
        replication.withLock { $0.followersHolding(offset) }
    }

    /// The periodic ISR check of a leader: followers that have not caught up for `maxLagMs`
    /// leave the ISR. Returns the change to ask the controller for, if any.
    func checkIsr(now: Int64, maxLagMs: Int64, canJoin: (Int32) -> Bool = { _ in true }) -> IsrChange? {
        let end = log.logEndOffset
        return replication.withLock { state in
            proposal(&state, now: now, maxLagMs: maxLagMs, leaderEndOffset: end, canJoin: canJoin)
        }
    }

    private func proposal(
        _ state: inout ReplicaState, now: Int64, maxLagMs: Int64, leaderEndOffset: Int64, canJoin: (Int32) -> Bool
    ) -> IsrChange? {
        guard state.isLeader else { return nil }
        // A leader alone keeps its high watermark at its log end: a joining follower must reach it.
        if state.leadsAlone { _ = state.advanceHighWatermark(leaderEndOffset: leaderEndOffset) }
        guard let isr = state.proposeIsrChange(now: now, maxLagMs: maxLagMs, canJoin: canJoin) else { return nil }
        return IsrChange(
            topicPartition: topicPartition, topicId: topicId, leaderEpoch: state.leaderEpoch,
            partitionEpoch: state.partitionEpoch, isr: isr)
    }

    /// How far this replica's log is behind what its leader last said was committed (0 on the
    /// leader, or before a follower's first fetch): DescribeLogDirs' offset lag.
    var replicaLag: Int64 {
        let (leading, committed) = replication.withLock { ($0.isLeader, $0.leaderHighWatermark) }
        guard !leading, committed >= 0 else { return 0 }
        return max(0, committed - log.logEndOffset)
    }

    /// The controller refused or did not answer an ISR change: the next check may ask again.
    func isrChangeFailed() {
        replication.withLock { $0.isrChangeFailed() }
    }

    /// A follower's append of what its leader sent: the records (kept with the leader's offsets
    /// and epochs), then the leader's high watermark and log start as far as this log reaches.
    ///
    /// An empty log restarted at the leader's log start may begin inside the leader's first batch
    /// (DeleteRecords moves the log start to any offset): it restarts at that batch's base
    /// offset, takes it whole, and then moves its log start up to the leader's, as Kafka does.
    func appendAsFollower(_ records: ByteBuffer?, leaderHighWatermark: Int64, leaderLogStartOffset: Int64) throws(StorageError) {
        if let records, records.readableBytes > 0 {
            let end = log.logEndOffset
            if log.logStartOffset == end, let first = Self.firstBatch(of: records), first.baseOffset < end, first.nextOffset > end {
                try log.truncateFullyAndStart(at: first.baseOffset)
            }
            try log.appendAsFollower(records)
        }
        let end = log.logEndOffset
        if leaderLogStartOffset > log.logStartOffset, leaderLogStartOffset <= end {
            try log.deleteRecordsBefore(leaderLogStartOffset)
        }
        replication.withLock { $0.followHighWatermark(leaderHighWatermark, logEndOffset: end) }
    }

    private static func firstBatch(of records: ByteBuffer) -> RecordBatch? {
        var reader = RecordBatchReader(records)
        return try? reader.next()
    }

    /// A follower truncating its divergent tail to `offset` (or restarting an empty log there,
    /// when its fetch fell below the leader's log start).
    func truncateAsFollower(to offset: Int64, restart: Bool) throws(StorageError) {
        if restart {
            try log.truncateFullyAndStart(at: offset)
            replication.withLock { $0.raiseHighWatermark(to: offset) }
        } else {
            try log.truncate(to: offset)
        }
        let end = log.logEndOffset
        replication.withLock { $0.capHighWatermark(end) }
    }
}
