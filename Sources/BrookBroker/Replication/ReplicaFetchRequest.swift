import BrookModel
import BrookProtocol
import BrookStorage

/// The replica Fetch a follower sends its leader (at ``version``): every followed partition from
/// its log end, with the epoch it follows in and the last epoch its log holds (KIP-320), its
/// replica id in `ReplicaState` (KIP-903), no fetch session, READ_UNCOMMITTED.
enum ReplicaFetchRequest {
    /// Brokers fetch from each other at Fetch v17 (topic ids, diverging epochs, ReplicaState).
    static let version: Int16 = 17

    static func make(_ followed: [TopicPartition: ReplicaFetcher.Followed], settings: ReplicationSettings) -> FetchRequest {
        var byTopic: [String: FetchRequest.FetchTopic] = [:]
        for (key, entry) in followed.sorted(by: { ($0.key.topic, $0.key.partition) < ($1.key.topic, $1.key.partition) }) {
            let log = entry.partition.log
            byTopic[key.topic, default: FetchRequest.FetchTopic(topic: key.topic, topicId: entry.partition.topicId)]
                .partitions.append(FetchRequest.FetchPartition(
                    partition: key.partition, currentLeaderEpoch: entry.epoch, fetchOffset: fetchOffset(of: entry.partition),
                    lastFetchedEpoch: log.latestEpoch?.rawValue ?? -1, logStartOffset: log.logStartOffset,
                    partitionMaxBytes: settings.fetchMaxBytes))
        }
        return FetchRequest(
            replicaState: .init(replicaId: settings.localId, replicaEpoch: -1),
            maxWaitMs: settings.fetchWaitMaxMs, minBytes: settings.fetchMinBytes, maxBytes: settings.fetchResponseMaxBytes,
            isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
            topics: byTopic.keys.sorted().compactMap { byTopic[$0] })
    }

    /// Where a follower fetches from: its log end.
    static func fetchOffset(of partition: Partition) -> Int64 {
        partition.log.logEndOffset
    }
}

/// What a follower does with its leader's answer for one partition.
enum ReplicaFetchResult {
    /// Applies `data` (the answer to a fetch from `fetchOffset`) to `partition`: truncates a
    /// divergent tail, appends records, follows the high watermark and log start; restarts the
    /// log at the leader's start when it fell below it. Returns false when the partition should
    /// back off (the leader refused: it moved, or the epochs disagree until metadata catches up).
    static func apply(_ data: FetchResponse.PartitionData, to partition: Partition, fetchOffset: Int64) throws(StorageError) -> Bool {
        switch ErrorCode(rawValue: data.errorCode) ?? .unknownServerError {
        case .none:
            if data.divergingEpoch.epoch >= 0 {
                let offset = truncationOffset(
                    diverging: EpochEndOffset(epoch: LeaderEpoch(data.divergingEpoch.epoch), endOffset: Offset(data.divergingEpoch.endOffset)),
                    local: partition.log.endOffset(forEpoch: LeaderEpoch(data.divergingEpoch.epoch)),
                    logEndOffset: partition.log.logEndOffset)
                try partition.truncateAsFollower(to: offset, restart: false)
                return true
            }
            try partition.appendAsFollower(
                data.records, leaderHighWatermark: data.highWatermark, leaderLogStartOffset: data.logStartOffset)
            return true
        case .offsetOutOfRange:
            if data.logStartOffset >= 0, fetchOffset < data.logStartOffset {
                try partition.truncateAsFollower(to: data.logStartOffset, restart: true)
            } else if data.highWatermark >= 0, data.highWatermark < fetchOffset {
                // Ahead of the leader: what lies past its high watermark was never committed.
                try partition.truncateAsFollower(to: data.highWatermark, restart: false)
            } else {
                return false
            }
            return true
        default:
            return false
        }
    }

    /// The leader's side of KIP-320: a follower whose last fetched epoch `lastFetchedEpoch` the
    /// leader's log ends sooner than `fetchOffset` in (`leaderEnd`, the leader's answer to
    /// OffsetForLeaderEpoch for it), or knows only in an older epoch, has diverged: the answer
    /// is where that epoch ends on the leader. Nil when the follower may read on.
    static func divergingEpoch(lastFetchedEpoch: Int32, fetchOffset: Int64, leaderEnd: EpochEndOffset?) -> EpochEndOffset? {
        guard lastFetchedEpoch >= 0, let leaderEnd,
            leaderEnd.epoch.rawValue < lastFetchedEpoch || leaderEnd.endOffset.rawValue < fetchOffset
        else { return nil }
        return leaderEnd
    }

    /// Where a follower cuts its log when the leader reports a diverging epoch: the end of that
    /// epoch on the leader, or in its own log if that ends sooner (or if its own log knows only
    /// an older epoch there: the next fetch then compares again from there). Never past its end.
    static func truncationOffset(diverging: EpochEndOffset, local: EpochEndOffset?, logEndOffset: Int64) -> Int64 {
        var offset = min(diverging.endOffset.rawValue, logEndOffset)
        if let local, local.epoch.rawValue >= 0 { offset = min(offset, local.endOffset.rawValue) }
        return max(0, offset)
    }
}
