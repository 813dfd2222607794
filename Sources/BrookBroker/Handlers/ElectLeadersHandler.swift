import BrookProtocol

/// ElectLeaders: on a single node every partition already has its preferred leader, so an
/// election is never needed.
///
/// As in Kafka's controller: each named partition answers ELECTION_NOT_NEEDED when its leader is
/// its first replica (preferred election, the only kind before v1) or when it has a leader at all
/// (unclean election); unknown topics and partitions answer UNKNOWN_TOPIC_OR_PARTITION. A null
/// partition list means every partition, and then partitions that need no election are left
/// out, so each topic comes back with an empty list. An unknown election type fails the whole
/// request with INVALID_REQUEST.
struct ElectLeadersHandler: RequestHandler {
    typealias Request = ElectLeadersRequest
    let versions: ClosedRange<Int16> = 0...2
    let metadata: MetadataStore

    /// Kafka's election types.
    enum ElectionType: Int8 {
        case preferred = 0
        case unclean = 1
    }

    func handle(_ request: ElectLeadersRequest, context: RequestContext) async throws -> ElectLeadersResponse? {
        let version = context.apiVersion
        let image = metadata.image
        guard let electionType = ElectionType(rawValue: request.electionType) else {
            let message = "Unknown election type \(request.electionType)"
            var response = ElectLeadersResponse(throttleTimeMs: 0, replicaElectionResults: (request.topicPartitions ?? []).map { topic in
                ElectLeadersResponse.ReplicaElectionResult(topic: topic.topic, partitionResult: topic.partitions.map {
                    .init(partitionId: $0, errorCode: ErrorCode.invalidRequest.rawValue, errorMessage: message)
                })
            })
            if version >= 1 { response.errorCode = ErrorCode.invalidRequest.rawValue }
            return response
        }
        guard let requested = request.topicPartitions else {
            // Every partition: all already have their leader, so none is listed.
            let results = image.topics.keys.sorted().map { ElectLeadersResponse.ReplicaElectionResult(topic: $0, partitionResult: []) }
            return ElectLeadersResponse(throttleTimeMs: 0, replicaElectionResults: results)
        }
        let results = requested.map { topic in
            ElectLeadersResponse.ReplicaElectionResult(topic: topic.topic, partitionResult: topic.partitions.map { index in
                let (code, message) = Self.elect(topic: topic.topic, partition: index, type: electionType, image: image)
                return .init(partitionId: index, errorCode: code, errorMessage: message)
            })
        }
        return ElectLeadersResponse(throttleTimeMs: 0, replicaElectionResults: results)
    }

    static func elect(topic name: String, partition index: Int32, type: ElectionType, image: MetadataImage) -> (Int16, String?) {
        guard let topic = image.topics[name] else {
            return (ErrorCode.unknownTopicOrPartition.rawValue, "No such topic as \(name)")
        }
        guard let partition = topic.partitions.first(where: { $0.index == index }) else {
            return (ErrorCode.unknownTopicOrPartition.rawValue, "No such partition as \(name)-\(index)")
        }
        switch type {
        case .preferred:
            if partition.leader == partition.replicas.first { return (ErrorCode.electionNotNeeded.rawValue, nil) }
            return (ErrorCode.preferredLeaderNotAvailable.rawValue, nil)
        case .unclean:
            if partition.leader >= 0 { return (ErrorCode.electionNotNeeded.rawValue, nil) }
            return (ErrorCode.eligibleLeadersNotAvailable.rawValue, nil)
        }
    }
}
