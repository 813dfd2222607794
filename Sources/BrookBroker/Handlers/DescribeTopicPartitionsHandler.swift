import BrookProtocol

/// DescribeTopicPartitions (KIP-966): topics with their partitions, paged.
///
/// As in Kafka: an empty topic list means every topic. Topics are answered in name order from
/// the cursor's topic (and, for it, from the cursor's partition) on, at most
/// `responsePartitionLimit` partitions in all (clamped to 1...2000, Kafka's
/// `max.request.partition.size.limit`); when the limit cuts the answer short, `nextCursor` names
/// the first partition left out. Named topics that do not exist answer
/// UNKNOWN_TOPIC_OR_PARTITION, or INVALID_TOPIC_EXCEPTION for illegal names. A cursor topic
/// missing from a non-empty topic list, or a negative cursor partition, fails the request with
/// INVALID_REQUEST.
struct DescribeTopicPartitionsHandler: RequestHandler {
    typealias Request = DescribeTopicPartitionsRequest
    let versions: ClosedRange<Int16> = 0...0
    let metadata: MetadataStore

    static let maximumPartitionLimit: Int32 = 2000


    private typealias Topic = DescribeTopicPartitionsResponse.DescribeTopicPartitionsResponseTopic

    func handle(_ request: DescribeTopicPartitionsRequest, context: RequestContext) async throws -> DescribeTopicPartitionsResponse? {
        let image = metadata.image
        let all = request.topics.isEmpty
        let cursorTopic = request.cursor?.topicName ?? ""
        let names = Set(all ? Array(image.topics.keys) : request.topics.map(\.name)).filter { $0 >= cursorTopic }.sorted()

        if let cursor = request.cursor {
            let problem: String? = if !all && !names.contains(cursor.topicName) {
                "DescribeTopicPartitionsRequest topic list should contain the cursor topic: \(cursor.topicName)"
            } else if cursor.partitionIndex < 0 {
                "DescribeTopicPartitionsRequest cursor partition must be valid: \(cursor.topicName)-\(cursor.partitionIndex)"
            } else {
                nil
            }
            if problem != nil {
                return DescribeTopicPartitionsResponse(throttleTimeMs: 0, topics: request.topics.map {
                    Topic(errorCode: ErrorCode.invalidRequest.rawValue, name: $0.name, topicId: .zero, isInternal: false, partitions: [])
                })
            }
        }

        var remaining = Int(max(min(Self.maximumPartitionLimit, request.responsePartitionLimit), 1))
        var response = DescribeTopicPartitionsResponse(throttleTimeMs: 0)
        for name in names {
            guard remaining > 0 else {
                response.nextCursor = .init(topicName: name, partitionIndex: 0)
                break
            }
            // With ACLs, DESCRIBE on the topic: all topics lists those the client may describe.
            guard context.authorized(.describe, .topic, name) else {
                if !all {
                    response.topics.append(Topic(
                        errorCode: ErrorCode.topicAuthorizationFailed.rawValue, name: name, topicId: .zero, isInternal: false, partitions: []))
                }
                continue
            }
            guard let topic = image.topics[name] else {
                if !all {
                    let code: ErrorCode = TopicName.problem(with: name) == nil ? .unknownTopicOrPartition : .invalidTopicException
                    response.topics.append(Topic(errorCode: code.rawValue, name: name, topicId: .zero,
                                                 isInternal: TopicName.internalTopics.contains(name), partitions: []))
                }
                continue
            }
            let start = name == cursorTopic ? Int(request.cursor?.partitionIndex ?? 0) : 0
            let end = min(topic.partitions.count, start + remaining)
            let page = start < end ? Array(topic.partitions[start..<end]) : []
            response.topics.append(Topic(
                errorCode: ErrorCode.none.rawValue, name: name, topicId: topic.id, isInternal: topic.isInternal,
                partitions: page.map(Self.describe),
                topicAuthorizedOperations: context.authorizedOperations(.topic, name, among: AclOperation.topicOperations)
            ))
            if end < topic.partitions.count {
                response.nextCursor = .init(topicName: name, partitionIndex: Int32(end))
                break
            }
            remaining -= page.count
        }
        return response
    }

    static func describe(_ partition: MetadataImage.Partition) -> DescribeTopicPartitionsResponse.DescribeTopicPartitionsResponsePartition {
        .init(
            errorCode: ErrorCode.none.rawValue, partitionIndex: partition.index, leaderId: partition.leader,
            leaderEpoch: partition.leaderEpoch, replicaNodes: partition.replicas, isrNodes: partition.isr,
            eligibleLeaderReplicas: [], lastKnownElr: [], offlineReplicas: []
        )
    }
}
