import BrookProtocol

/// ElectLeaders: preferred-leader elections (the first replica leads again, if it is a live
/// in-sync replica) and unclean ones (a partition without a leader gets a live replica), as
/// Kafka's controller runs them (``PartitionLeadership/elect(_:of:preferred:in:)``). In a
/// cluster the controller commits them (other brokers forward the request); on a single node
/// every partition already has its preferred leader.
///
/// Each named partition answers ELECTION_NOT_NEEDED when it already has the leader the
/// election would give, PREFERRED_LEADER_NOT_AVAILABLE or ELIGIBLE_LEADERS_NOT_AVAILABLE when
/// nobody can lead; unknown topics and partitions answer UNKNOWN_TOPIC_OR_PARTITION. A null
/// partition list means every partition, and then only the partitions elected are listed. An
/// unknown election type fails the whole request with INVALID_REQUEST.
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
        func refused(_ code: ErrorCode, _ message: String) -> ElectLeadersResponse {
            var response = ElectLeadersResponse(throttleTimeMs: 0, replicaElectionResults: (request.topicPartitions ?? []).map { topic in
                ElectLeadersResponse.ReplicaElectionResult(topic: topic.topic, partitionResult: topic.partitions.map {
                    .init(partitionId: $0, errorCode: code.rawValue, errorMessage: message)
                })
            })
            if version >= 1 { response.errorCode = code.rawValue }
            return response
        }
        // With ACLs, ALTER on the cluster.
        guard context.authorizedOnCluster(.alter) else { return refused(.clusterAuthorizationFailed, "Cluster authorization failed.") }
        guard let electionType = ElectionType(rawValue: request.electionType) else {
            return refused(.invalidRequest, "Unknown election type \(request.electionType)")
        }
        let everyPartition = request.topicPartitions == nil
        let requested = request.topicPartitions ?? image.topics.keys.sorted().map {
            ElectLeadersRequest.TopicPartitions(topic: $0, partitions: image.topics[$0]!.partitions.map(\.index))
        }
        var outcomes: [[(Int16, String?)]] = []
        do {
            try metadata.commitComputed { image throws(MetadataError) -> [MetadataRecord] in
                var records: [MetadataRecord] = []
                outcomes = requested.map { topic in
                    topic.partitions.map { index in
                        let (outcome, message) = Self.elect(topic: topic.topic, partition: index, type: electionType, image: image)
                        if case .elected(let record) = outcome {
                            records.append(.partition(record))
                            return (ErrorCode.none.rawValue, nil)
                        }
                        guard case .refused(let code) = outcome else { return (ErrorCode.unknownServerError.rawValue, nil) }
                        return (code.rawValue, message)
                    }
                }
                return records
            }
        } catch {
            outcomes = requested.map { $0.partitions.map { _ in (error.code.rawValue, error.message) } }
        }
        let results = zip(requested, outcomes).map { topic, codes in
            ElectLeadersResponse.ReplicaElectionResult(topic: topic.topic, partitionResult: zip(topic.partitions, codes).compactMap {
                index, answer in
                // Asked for every partition: only those elected are listed.
                if everyPartition && answer.0 != ErrorCode.none.rawValue { return nil }
                return .init(partitionId: index, errorCode: answer.0, errorMessage: answer.1)
            })
        }
        return ElectLeadersResponse(throttleTimeMs: 0, replicaElectionResults: results)
    }

    static func elect(
        topic name: String, partition index: Int32, type: ElectionType, image: MetadataImage
    ) -> (PartitionLeadership.ElectionOutcome, String?) {
        guard let topic = image.topics[name] else {
            return (.refused(.unknownTopicOrPartition), "No such topic as \(name)")
        }
        guard let partition = topic.partitions.first(where: { $0.index == index }) else {
            return (.refused(.unknownTopicOrPartition), "No such partition as \(name)-\(index)")
        }
        return (PartitionLeadership.elect(partition, of: topic, preferred: type == .preferred, in: image), nil)
    }
}
