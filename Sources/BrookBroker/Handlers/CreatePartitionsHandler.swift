import BrookProtocol

/// CreatePartitions: grows topics to a new partition count, answering per topic, or with
/// `validateOnly` only says whether it would.
///
/// Kafka's controller semantics: a topic named twice fails with INVALID_REQUEST (one result per
/// name); an unknown topic with UNKNOWN_TOPIC_OR_PARTITION; a count that is not an increase with
/// INVALID_PARTITIONS; assignments that do not cover exactly the new partitions, or that name an
/// unregistered or repeated broker or a replica count unlike the topic's, with
/// INVALID_REPLICA_ASSIGNMENT. A request adding more than
/// ``AdminChecks/maximumRecordsPerRequest`` partitions fails as a whole with POLICY_VIOLATION.
/// After each topic grows, the topic creator's `onCreatePartitions` hook opens the new logs.
struct CreatePartitionsHandler: RequestHandler {
    typealias Request = CreatePartitionsRequest
    let versions: ClosedRange<Int16> = 0...3
    let metadata: MetadataStore
    let topicCreator: TopicCreator

    private typealias Result = CreatePartitionsResponse.CreatePartitionsTopicResult

    func handle(_ request: CreatePartitionsRequest, context: RequestContext) async throws -> CreatePartitionsResponse? {
        var occurrences: [String: Int] = [:]
        for topic in request.topics { occurrences[topic.name, default: 0] += 1 }
        let image = metadata.image
        let registered = Set(image.brokers.map(\.nodeId))

        var results: [Result] = []
        var accepted: [(name: String, count: Int32)] = []
        var added = 0
        var seen = Set<String>()
        for topic in request.topics where seen.insert(topic.name).inserted {
            if occurrences[topic.name, default: 0] > 1 {
                results.append(Result(name: topic.name, errorCode: ErrorCode.invalidRequest.rawValue, errorMessage: "Duplicate topic name."))
            } else if !context.authorized(.alter, .topic, topic.name) {
                results.append(Result(name: topic.name, errorCode: ErrorCode.topicAuthorizationFailed.rawValue, errorMessage: "Authorization failed."))
            } else if let error = Self.problem(with: topic, image: image, registered: registered) {
                results.append(Result(name: topic.name, errorCode: error.code.rawValue, errorMessage: error.message))
            } else {
                accepted.append((topic.name, topic.count))
                added += Int(topic.count) - (image.topics[topic.name]?.partitions.count ?? 0)
            }
        }
        if added > AdminChecks.maximumRecordsPerRequest {
            return CreatePartitionsResponse(throttleTimeMs: 0, results: request.topics.map {
                Result(name: $0.name, errorCode: ErrorCode.policyViolation.rawValue, errorMessage: AdminChecks.excessiveBatchMessage)
            })
        }

        for (name, count) in accepted {
            do {
                let before = metadata.image.topics[name]?.partitions.count ?? 0
                try metadata.createPartitions(topic: name, totalCount: count, validateOnly: request.validateOnly)
                if !request.validateOnly, let topic = metadata.image.topics[name] {
                    try await topicCreator.partitionsAdded(topic, Array(topic.partitions.filter { $0.index >= before }))
                }
                results.append(Result(name: name, errorCode: ErrorCode.none.rawValue, errorMessage: nil))
            } catch {
                results.append(Result(name: name, errorCode: error.code.rawValue, errorMessage: error.message))
            }
        }
        return CreatePartitionsResponse(throttleTimeMs: 0, results: results)
    }

    /// Why `topic` cannot grow as asked, checked against `image`.
    static func problem(
        with topic: CreatePartitionsRequest.CreatePartitionsTopic, image: MetadataImage, registered: Set<Int32>
    ) -> MetadataError? {
        guard let existing = image.topics[topic.name] else {
            return MetadataError(.unknownTopicOrPartition, AdminChecks.unknownTopicMessage)
        }
        let current = existing.partitions.count
        if Int(topic.count) == current {
            return MetadataError(.invalidPartitions, "Topic already has \(current) partition(s).")
        }
        if Int(topic.count) < current {
            return MetadataError(.invalidPartitions, "The topic \(topic.name) currently has \(current) partition(s); \(topic.count) would not be an increase.")
        }
        guard let assignments = topic.assignments else { return nil }
        let additional = Int(topic.count) - current
        if assignments.count != additional {
            return MetadataError(.invalidReplicaAssignment, "Attempted to add \(additional) additional partition(s), but only \(assignments.count) assignment(s) were specified.")
        }
        let replicationFactor = existing.partitions.first?.replicas.count
        for assignment in assignments {
            if let problem = AdminChecks.replicaAssignmentProblem(assignment.brokerIds, registered: registered, replicationFactor: replicationFactor) {
                return MetadataError(.invalidReplicaAssignment, problem)
            }
        }
        return nil
    }
}
