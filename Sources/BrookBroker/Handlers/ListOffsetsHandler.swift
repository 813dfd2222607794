import BrookModel
import BrookProtocol
import BrookStorage

/// ListOffsets: the earliest, latest or max-timestamp offset of a partition, or the first offset
/// whose timestamp is at least a given time. With isolation_level READ_COMMITTED (v2+) latest is
/// the last stable offset, and a record found by timestamp or max timestamp at or past it is not
/// answered (offset -1), as in Kafka: a consumer may not learn of records it cannot read yet.
///
/// v0 answers up to `max_num_offsets` offsets, newest first, as Kafka's legacy lookup did from
/// segment base offsets and file times (``PartitionLog/legacyOffsets(before:maximumCount:)``).
struct ListOffsetsHandler: RequestHandler {
    typealias Request = ListOffsetsRequest
    let versions: ClosedRange<Int16> = 0...10
    let partitions: PartitionTable
    /// In a cluster: tells a partition another broker hosts from one that does not exist.
    var metadata: MetadataStore? = nil

    func handle(_ request: ListOffsetsRequest, context: RequestContext) async throws -> ListOffsetsResponse? {
        let version = context.apiVersion
        let topics = request.topics.map { topic in
            // With ACLs a topic needs DESCRIBE.
            guard context.authorized(.describe, .topic, topic.name) else {
                return ListOffsetsResponse.ListOffsetsTopicResponse(name: topic.name, partitions: topic.partitions.map {
                    .init(partitionIndex: $0.partitionIndex, errorCode: ErrorCode.topicAuthorizationFailed.rawValue)
                })
            }
            return ListOffsetsResponse.ListOffsetsTopicResponse(name: topic.name, partitions: topic.partitions.map { requested in
                answer(requested, topic: topic.name, version: version, readCommitted: version >= 2 && request.isolationLevel == 1)
            })
        }
        return ListOffsetsResponse(throttleTimeMs: 0, topics: topics)
    }

    private func answer(
        _ requested: ListOffsetsRequest.ListOffsetsPartition, topic: String, version: Int16, readCommitted: Bool
    ) -> ListOffsetsResponse.ListOffsetsPartitionResponse {
        var response = ListOffsetsResponse.ListOffsetsPartitionResponse(partitionIndex: requested.partitionIndex)
        guard let partition = partitions.leader(TopicPartition(topic: topic, partition: requested.partitionIndex)) else {
            response.errorCode = MetadataImage.missingPartitionError(
                TopicPartition(topic: topic, partition: requested.partitionIndex), in: metadata).rawValue
            return response
        }
        if requested.currentLeaderEpoch >= 0 && requested.currentLeaderEpoch != partition.leaderEpoch {
            response.errorCode = (requested.currentLeaderEpoch > partition.leaderEpoch
                ? ErrorCode.unknownLeaderEpoch : ErrorCode.fencedLeaderEpoch).rawValue
            return response
        }
        if version == 0 {
            do {
                response.oldStyleOffsets = try partition.log.legacyOffsets(
                    before: requested.timestamp, maximumCount: Int(requested.maxNumOffsets))
            } catch {
                response.errorCode = error.errorCode.rawValue
            }
            return response
        }
        guard let query = OffsetQuery(kafkaTimestamp: requested.timestamp) else {
            response.errorCode = ErrorCode.invalidRequest.rawValue
            return response
        }
        let found: TimestampAndOffset?
        do {
            switch query {
            case .latest:
                // Consumers may only see up to the high watermark (READ_COMMITTED: the last stable offset).
                let latest = readCommitted ? partition.lastStableOffset : partition.highWatermark
                found = TimestampAndOffset(timestamp: -1, offset: latest, leaderEpoch: LeaderEpoch(partition.leaderEpoch))
            case .earliest:
                found = try partition.log.offset(for: query)
            case .maxTimestamp, .timestamp:
                // Only records below the last fetchable offset are answered.
                let fetchable = readCommitted ? partition.lastStableOffset : partition.highWatermark
                found = try partition.log.offset(for: query).flatMap { $0.offset < fetchable ? $0 : nil }
            }
        } catch {
            response.errorCode = error.errorCode.rawValue
            return response
        }
        response.timestamp = found?.timestamp ?? -1
        response.offset = found?.offset ?? -1
        if version >= 4 {
            response.leaderEpoch = found?.leaderEpoch?.rawValue ?? -1
        }
        return response
    }
}
