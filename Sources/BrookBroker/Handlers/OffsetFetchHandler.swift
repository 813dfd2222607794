import BrookCoordinator
import BrookModel
import BrookProtocol

/// OffsetFetch: a group's committed offsets (-1 where nothing is committed). v0–v7 ask for
/// one group, v8+ for several; a null topic list (v2+) asks for every committed partition.
struct OffsetFetchHandler: RequestHandler {
    typealias Request = OffsetFetchRequest
    let versions: ClosedRange<Int16> = 0...9
    let groups: GroupCoordinatorHost

    /// One group's answer, before it is shaped for the version.
    struct GroupAnswer {
        var error: ErrorCode = .none
        var topics: [(name: String, partitions: [(index: Int32, offset: CommittedOffset?)])] = []
    }

    func handle(_ request: OffsetFetchRequest, context: RequestContext) async throws -> OffsetFetchResponse? {
        var response = OffsetFetchResponse(throttleTimeMs: 0)
        if context.apiVersion >= 8 {
            response.groups = request.groups.map { group in
                let requested = group.topics.map { $0.map { ($0.name, $0.partitionIndexes) } }
                let answer = fetch(groupId: group.groupId, topics: requested)
                return OffsetFetchResponse.OffsetFetchResponseGroup(
                    groupId: group.groupId,
                    topics: answer.topics.map { topic in
                        OffsetFetchResponse.OffsetFetchResponseTopics(name: topic.name, partitions: topic.partitions.map {
                            OffsetFetchResponse.OffsetFetchResponsePartitions(
                                partitionIndex: $0.index, committedOffset: $0.offset?.offset ?? -1,
                                committedLeaderEpoch: $0.offset?.leaderEpoch ?? -1, metadata: $0.offset?.metadata ?? "",
                                errorCode: ErrorCode.none.rawValue
                            )
                        })
                    },
                    errorCode: answer.error.rawValue
                )
            }
            return response
        }
        let requested = request.topics.map { $0.map { ($0.name, $0.partitionIndexes) } }
        let answer = fetch(groupId: request.groupId, topics: requested)
        let partitionError = context.apiVersion < 2 ? answer.error : .none
        response.errorCode = answer.error.rawValue
        response.topics = answer.topics.map { topic in
            OffsetFetchResponse.OffsetFetchResponseTopic(name: topic.name, partitions: topic.partitions.map {
                OffsetFetchResponse.OffsetFetchResponsePartition(
                    partitionIndex: $0.index, committedOffset: $0.offset?.offset ?? -1,
                    committedLeaderEpoch: $0.offset?.leaderEpoch ?? -1, metadata: $0.offset?.metadata ?? "",
                    errorCode: partitionError.rawValue
                )
            })
        }
        return response
    }

    private func fetch(groupId: String, topics: [(String, [Int32])]?) -> GroupAnswer {
        guard !groupId.isEmpty else { return GroupAnswer(error: .invalidGroupId) }
        let shard: GroupShard
        switch groups.shard(for: groupId) {
        case .success(let found): shard = found
        case .failure(let error): return GroupAnswer(error: error.code)
        }
        let partitions = topics.map { $0.flatMap { name, indexes in indexes.map { TopicPartition(topic: name, partition: $0) } } }
        let (error, offsets) = shard.fetchOffsets(groupId: groupId, partitions: partitions)
        guard error == .none else { return GroupAnswer(error: error) }
        if let topics {
            return GroupAnswer(topics: topics.map { name, indexes in
                (name, indexes.map { ($0, offsets[TopicPartition(topic: name, partition: $0)]) })
            })
        }
        let byTopic = Dictionary(grouping: offsets, by: { $0.key.topic })
        return GroupAnswer(topics: byTopic.keys.sorted().map { name in
            (name, byTopic[name]!.sorted { $0.key.partition < $1.key.partition }.map { ($0.key.partition, $0.value) })
        })
    }
}
