import BrookModel
import BrookProtocol
import BrookRaft
import BrookRecords
import NIOCore

extension RaftWire {
    /// A follower's or observer's fetch of `__cluster_metadata-0` at `version` (12 or later:
    /// LastFetchedEpoch came in v12). The replica id goes in ReplicaId up to v14 and in
    /// ReplicaState from v15; the topic by name up to v12 and by id from v13.
    package static func request(
        _ fetch: RaftMessage.Fetch, version: Int16, clusterId: String, maxWaitMs: Int32, maxBytes: Int32
    ) -> FetchRequest {
        FetchRequest(
            clusterId: clusterId, replicaId: version <= 14 ? fetch.replica.rawValue : -1,
            replicaState: FetchRequest.ReplicaState(replicaId: version >= 15 ? fetch.replica.rawValue : -1),
            maxWaitMs: maxWaitMs, minBytes: 1, maxBytes: maxBytes,
            topics: [FetchRequest.FetchTopic(
                topic: version <= 12 ? topicName : "", topicId: version >= 13 ? topicId : .zero,
                partitions: [FetchRequest.FetchPartition(
                    partition: 0, currentLeaderEpoch: fetch.epoch.rawValue, fetchOffset: fetch.fetchOffset.rawValue,
                    lastFetchedEpoch: fetch.lastFetchedEpoch.rawValue, partitionMaxBytes: maxBytes
                )]
            )]
        )
    }

    /// True when a Fetch request is a quorum replica's (or observer's) fetch of the metadata log,
    /// which the quorum answers rather than the partition's fetch path.
    package static func isQuorumFetch(_ request: FetchRequest) -> Bool {
        guard request.topics.count == 1, let topic = request.topics.first else { return false }
        return topic.topic == topicName || topic.topicId == topicId
    }

    package static func fetch(from request: FetchRequest, correlation: UInt64) throws(Malformed) -> RaftMessage.Fetch {
        guard isQuorumFetch(request), let partition = request.topics[0].partitions.first,
            request.topics[0].partitions.count == 1, partition.partition == 0
        else { throw Malformed(description: "a quorum fetch must name \(topicName)-0 alone") }
        let replica = request.replicaState.replicaId >= 0 ? request.replicaState.replicaId : request.replicaId
        guard replica >= 0 else { throw Malformed(description: "a quorum fetch must name the fetching replica") }
        guard partition.fetchOffset >= 0 else { throw Malformed(description: "fetch offset \(partition.fetchOffset) is negative") }
        return RaftMessage.Fetch(
            epoch: LeaderEpoch(partition.currentLeaderEpoch), replica: BrokerID(replica),
            fetchOffset: Offset(partition.fetchOffset), lastFetchedEpoch: LeaderEpoch(partition.lastFetchedEpoch),
            correlation: correlation
        )
    }

    /// The leader's (or a non-leader's) answer. Entries travel as the record batches they are
    /// stored as; a fetch below the leader's log start gets its latest snapshot's id
    /// (SnapshotId) instead; a refusal says why: the fetcher's epoch is behind (FENCED_LEADER_EPOCH), ahead
    /// (UNKNOWN_LEADER_EPOCH), or this replica does not lead (NOT_LEADER_OR_FOLLOWER).
    package static func response(_ result: RaftMessage.FetchResult, answering fetch: RaftMessage.Fetch, version: Int16) -> FetchResponse {
        var partition = FetchResponse.PartitionData(
            partitionIndex: 0, highWatermark: result.highWatermark.rawValue,
            currentLeader: FetchResponse.LeaderIdAndEpoch(leaderId: result.leader?.rawValue ?? -1, leaderEpoch: result.epoch.rawValue)
        )
        switch result.outcome {
        case .notLeader:
            let code: ErrorCode = fetch.epoch < result.epoch ? .fencedLeaderEpoch
                : fetch.epoch > result.epoch ? .unknownLeaderEpoch : .notLeaderOrFollower
            partition.errorCode = code.rawValue
        case .diverging(let end):
            partition.divergingEpoch = FetchResponse.EpochEndOffset(epoch: end.epoch.rawValue, endOffset: end.endOffset.rawValue)
        case .snapshot(let id):
            partition.snapshotId = FetchResponse.SnapshotId(endOffset: id.endOffset.rawValue, epoch: id.epoch.rawValue)
        case .entries(let entries):
            var records = ByteBuffer()
            records.reserveCapacity(entries.reduce(0) { $0 + $1.payload.readableBytes })
            for entry in entries {
                var payload = entry.payload
                records.writeBuffer(&payload)
            }
            partition.records = records
        }
        return FetchResponse(responses: [FetchResponse.FetchableTopicResponse(
            topic: version <= 12 ? topicName : "", topicId: version >= 13 ? topicId : .zero, partitions: [partition]
        )])
    }

    /// Reads the answer to `fetch`. Record batches must be whole, pass their CRC, and follow one
    /// another from the fetch offset; each becomes one entry.
    package static func fetchResult(from response: FetchResponse, answering fetch: RaftMessage.Fetch) throws(Malformed) -> RaftMessage.FetchResult {
        guard response.errorCode == 0 else {
            throw Malformed(description: "the leader answered \(ErrorCode(rawValue: response.errorCode).map(String.init(describing:)) ?? String(response.errorCode))")
        }
        guard response.responses.count == 1, let topic = response.responses.first,
            topic.topic == topicName || topic.topicId == topicId,
            topic.partitions.count == 1, let partition = topic.partitions.first, partition.partitionIndex == 0
        else { throw Malformed(description: "a quorum fetch response must name \(topicName)-0 alone") }
        var result = RaftMessage.FetchResult(
            epoch: LeaderEpoch(partition.currentLeader.leaderEpoch), leader: leader(partition.currentLeader.leaderId),
            outcome: .entries([]), highWatermark: Offset(max(0, partition.highWatermark)),
            fetchOffset: fetch.fetchOffset, correlation: fetch.correlation
        )
        if partition.errorCode != 0 {
            result.outcome = .notLeader
        } else if partition.snapshotId.endOffset >= 0, partition.snapshotId.epoch >= 0 {
            result.outcome = .snapshot(EpochEndOffset(
                epoch: LeaderEpoch(partition.snapshotId.epoch), endOffset: Offset(partition.snapshotId.endOffset)
            ))
        } else if partition.divergingEpoch.epoch >= 0 {
            result.outcome = .diverging(EpochEndOffset(
                epoch: LeaderEpoch(partition.divergingEpoch.epoch), endOffset: Offset(max(0, partition.divergingEpoch.endOffset))
            ))
        } else {
            result.outcome = .entries(try entries(partition.records ?? ByteBuffer(), from: fetch.fetchOffset))
        }
        return result
    }

    /// Splits fetched records into entries, one per batch, checking each batch and that they
    /// continue one another from `offset`.
    package static func entries(_ records: ByteBuffer, from offset: Offset) throws(Malformed) -> [RaftEntry] {
        var reader = RecordBatchReader(records)
        var entries: [RaftEntry] = []
        var next = offset.rawValue
        do {
            while let batch = try reader.next() {
                try batch.validate()
                guard batch.baseOffset == next, batch.lastOffsetDelta >= 0 else {
                    throw Malformed(description: "fetched batch at offset \(batch.baseOffset) where \(next) was expected")
                }
                // A voter change (KIP-853) takes effect as soon as it is appended.
                let voters = batch.isControlBatch ? QuorumVoterRecords.voters(in: batch) : nil
                entries.append(RaftEntry(
                    epoch: LeaderEpoch(batch.partitionLeaderEpoch), payload: batch.bytes,
                    recordCount: Int(batch.lastOffsetDelta) + 1, isControl: batch.isControlBatch,
                    voters: voters.map { Set($0.map(\.id)) }
                ))
                next = batch.nextOffset
            }
        } catch let error as Malformed {
            throw error
        } catch {
            throw Malformed(description: "fetched records are corrupt: \(error)")
        }
        return entries
    }
}
