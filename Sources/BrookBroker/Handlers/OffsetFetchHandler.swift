import BrookCoordinator
import BrookModel
import BrookProtocol

/// OffsetFetch: a group's committed offsets (-1 where nothing is committed). v0–v7 ask for
/// one group, v8+ for several; a null topic list (v2+) asks for every committed partition.
/// Offsets committed in a transaction are not seen until it commits; meanwhile a v7+ request
/// with `require_stable` gets UNSTABLE_OFFSET_COMMIT (offset -1) for their partitions, and the
/// consumer retries. As in Kafka, that is a partition error at every version (v8+ too).
struct OffsetFetchHandler: RequestHandler {
    typealias Request = OffsetFetchRequest
    let versions: ClosedRange<Int16> = 0...9
    let groups: GroupCoordinatorHost

    /// One group's answer, before it is shaped for the version.
    struct GroupAnswer {
        var error: ErrorCode = .none
        var topics: [(name: String, partitions: [(index: Int32, offset: CommittedOffset?, error: ErrorCode)])] = []
    }

    func handle(_ request: OffsetFetchRequest, context: RequestContext) async throws -> OffsetFetchResponse? {
        var response = OffsetFetchResponse(throttleTimeMs: 0)
        if context.apiVersion >= 8 {
            response.groups = await request.groups.asyncMap { group in
                let requested = group.topics.map { $0.map { ($0.name, $0.partitionIndexes) } }
                let answer = await fetch(groupId: group.groupId, topics: requested, requireStable: request.requireStable, context: context)
                return OffsetFetchResponse.OffsetFetchResponseGroup(
                    groupId: group.groupId,
                    topics: answer.topics.map { topic in
                        OffsetFetchResponse.OffsetFetchResponseTopics(name: topic.name, partitions: topic.partitions.map {
                            OffsetFetchResponse.OffsetFetchResponsePartitions(
                                partitionIndex: $0.index, committedOffset: $0.offset?.offset ?? -1,
                                committedLeaderEpoch: $0.offset?.leaderEpoch ?? -1, metadata: $0.offset?.metadata ?? "",
                                errorCode: $0.error.rawValue
                            )
                        })
                    },
                    errorCode: answer.error.rawValue
                )
            }
            return response
        }
        let requested = request.topics.map { $0.map { ($0.name, $0.partitionIndexes) } }
        let answer = await fetch(groupId: request.groupId, topics: requested, requireStable: request.requireStable, context: context)
        let groupError = context.apiVersion < 2 ? answer.error : .none
        response.errorCode = answer.error.rawValue
        response.topics = answer.topics.map { topic in
            OffsetFetchResponse.OffsetFetchResponseTopic(name: topic.name, partitions: topic.partitions.map {
                OffsetFetchResponse.OffsetFetchResponsePartition(
                    partitionIndex: $0.index, committedOffset: $0.offset?.offset ?? -1,
                    committedLeaderEpoch: $0.offset?.leaderEpoch ?? -1, metadata: $0.offset?.metadata ?? "",
                    errorCode: (groupError != .none ? groupError : $0.error).rawValue
                )
            })
        }
        return response
    }

    /// With ACLs: DESCRIBE on the group (else GROUP_AUTHORIZATION_FAILED) and on each topic
    /// (a topic named without it gets TOPIC_AUTHORIZATION_FAILED; all topics lists only those
    /// the client may describe).
    private func fetch(groupId: String, topics: [(String, [Int32])]?, requireStable: Bool, context: RequestContext) async -> GroupAnswer {
        guard !groupId.isEmpty else { return GroupAnswer(error: .invalidGroupId) }
        guard context.authorized(.describe, .group, groupId) else { return GroupAnswer(error: .groupAuthorizationFailed) }
        let shard: GroupShard
        switch groups.shard(for: groupId) {
        case .success(let found): shard = found
        case .failure(let error): return GroupAnswer(error: error.code)
        }
        let partitions = topics.map { $0.flatMap { name, indexes in indexes.map { TopicPartition(topic: name, partition: $0) } } }
        let fetched = await shard.fetchOffsets(groupId: groupId, partitions: partitions, requireStable: requireStable)
        guard fetched.error == .none else { return GroupAnswer(error: fetched.error) }
        let answer = { (partition: TopicPartition) -> (Int32, CommittedOffset?, ErrorCode) in
            fetched.unstable.contains(partition)
                ? (partition.partition, nil, .unstableOffsetCommit) : (partition.partition, fetched.offsets[partition], .none)
        }
        if let topics {
            return GroupAnswer(topics: topics.map { name, indexes in
                guard context.authorized(.describe, .topic, name) else {
                    return (name, indexes.map { ($0, nil, ErrorCode.topicAuthorizationFailed) })
                }
                return (name, indexes.map { answer(TopicPartition(topic: name, partition: $0)) })
            })
        }
        let byTopic = Dictionary(grouping: Set(fetched.offsets.keys).union(fetched.unstable), by: \.topic)
        return GroupAnswer(topics: byTopic.keys.sorted().filter { context.authorized(.describe, .topic, $0) }.map { name in
            (name, byTopic[name]!.sorted { $0.partition < $1.partition }.map(answer))
        })
    }
}
