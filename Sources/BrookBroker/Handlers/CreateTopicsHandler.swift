import BrookProtocol

/// CreateTopics: creates topics with their partitions and config overrides, or with
/// `validateOnly` (v1+) only says whether it would.
///
/// Kafka's controller semantics, checked per topic in this order: a name given twice fails with
/// INVALID_REQUEST (one result per name); `__cluster_metadata` with INVALID_REQUEST; an illegal
/// name or one colliding with an existing topic once '.' and '_' are unified with
/// INVALID_TOPIC_EXCEPTION; an existing topic with TOPIC_ALREADY_EXISTS; a null or invalid config
/// with INVALID_CONFIG; then the partitions, either `numPartitions` and `replicationFactor`
/// (-1 takes `num.partitions` and `default.replication.factor`) or a manual assignment that only
/// names registered brokers (INVALID_REPLICA_ASSIGNMENT otherwise). A request that would write
/// more than ``AdminChecks/maximumRecordsPerRequest`` records fails as a whole with
/// POLICY_VIOLATION. From v5 a created topic comes back with its partition count, replication
/// factor and every config with its source; from v7 with its id.
struct CreateTopicsHandler: RequestHandler {
    typealias Request = CreateTopicsRequest
    let versions: ClosedRange<Int16> = 0...7
    let config: BrokerConfigStore
    let metadata: MetadataStore
    let topicCreator: TopicCreator

    /// What one topic of the request turned into before anything is written.
    private enum Outcome {
        case failed(ErrorCode, String)
        case planned(partitions: Int32, replicationFactor: Int16, configs: [String: String], assignment: [[Int32]]? = nil)
    }

    func handle(_ request: CreateTopicsRequest, context: RequestContext) async throws -> CreateTopicsResponse? {
        let validateOnly = request.validateOnly
        let broker = config.current
        let image = metadata.image
        var occurrences: [String: Int] = [:]
        for topic in request.topics { occurrences[topic.name, default: 0] += 1 }

        var order: [String] = []
        var outcomes: [String: Outcome] = [:]
        for topic in request.topics where outcomes[topic.name] == nil {
            order.append(topic.name)
            // With ACLs, CREATE on the cluster or on the topic.
            let allowed = !context.checksAcls || context.authorizedOnCluster(.create) || context.authorized(.create, .topic, topic.name)
            outcomes[topic.name] = occurrences[topic.name, default: 0] > 1
                ? .failed(.invalidRequest, "Duplicate topic name.")
                : !allowed ? .failed(.topicAuthorizationFailed, "Authorization failed.")
                : plan(topic, image: image, broker: broker)
        }

        var recordCount = 0
        for case .planned(let partitions, _, let configs, _) in outcomes.values {
            recordCount += 1 + configs.count + Int(partitions)
        }
        if recordCount > AdminChecks.maximumRecordsPerRequest {
            let results = request.topics.map {
                CreateTopicsResponse.CreatableTopicResult(
                    name: $0.name, errorCode: ErrorCode.policyViolation.rawValue, errorMessage: AdminChecks.excessiveBatchMessage
                )
            }
            return CreateTopicsResponse(throttleTimeMs: 0, topics: results)
        }

        var results: [CreateTopicsResponse.CreatableTopicResult] = []
        for name in order {
            switch outcomes[name] {
            case .planned(let partitions, let replicationFactor, let configs, let assignment):
                do {
                    let topic = try metadata.createTopic(
                        name: name, partitions: partitions, replicationFactor: replicationFactor, configs: configs,
                        validateOnly: validateOnly, assignment: assignment
                    )
                    if !validateOnly { try await topicCreator.created(topic) }
                    results.append(Self.created(
                        name: name, topicId: validateOnly ? .zero : topic.id, partitions: partitions,
                        replicationFactor: replicationFactor, configs: configs, broker: broker
                    ))
                } catch {
                    results.append(.init(name: name, errorCode: error.code.rawValue, errorMessage: error.message))
                }
            case .failed(let code, let message):
                results.append(.init(name: name, errorCode: code.rawValue, errorMessage: message))
            case nil:
                break
            }
        }
        return CreateTopicsResponse(throttleTimeMs: 0, topics: results)
    }

    /// Checks one topic against the current image and resolves its partitions and configs.
    private func plan(_ topic: CreateTopicsRequest.CreatableTopic, image: MetadataImage, broker: BrokerConfig) -> Outcome {
        let name = topic.name
        if name == "__cluster_metadata" {
            return .failed(.invalidRequest, "Creation of internal topic \(name) is prohibited.")
        }
        if let problem = TopicName.problem(with: name) { return .failed(.invalidTopicException, problem) }
        if image.topics[name] != nil { return .failed(.topicAlreadyExists, "Topic '\(name)' already exists.") }
        if let existing = Self.collision(of: name, in: image) {
            return .failed(.invalidTopicException, "Topic '\(name)' collides with existing topic: \(existing)")
        }

        let nullConfigs = topic.configs.filter { $0.value == nil }.map(\.name)
        if !nullConfigs.isEmpty {
            return .failed(.invalidConfig, "Null value not supported for topic configs: \(nullConfigs.joined(separator: ","))")
        }
        var configs: [String: String] = [:]
        for entry in topic.configs { configs[entry.name] = entry.value }
        if let problem = TopicConfigDefinitions.problem(with: configs) { return .failed(.invalidConfig, problem) }

        let brokerCount = image.brokers.count
        if !topic.assignments.isEmpty {
            if topic.replicationFactor != -1 {
                return .failed(.invalidRequest, "A manual partition assignment was specified, but replication factor was not set to -1.")
            }
            if topic.numPartitions != -1 {
                return .failed(.invalidRequest, "A manual partition assignment was specified, but numPartitions was not set to -1.")
            }
            let registered = Set(image.brokers.map(\.nodeId))
            var seen = Set<Int32>()
            var replicationFactor: Int?
            for assignment in topic.assignments {
                guard seen.insert(assignment.partitionIndex).inserted else {
                    return .failed(.invalidReplicaAssignment, "Found multiple manual partition assignments for partition \(assignment.partitionIndex)")
                }
                if let problem = AdminChecks.replicaAssignmentProblem(assignment.brokerIds, registered: registered, replicationFactor: replicationFactor) {
                    return .failed(.invalidReplicaAssignment, problem)
                }
                replicationFactor = assignment.brokerIds.count
            }
            guard seen == Set(0..<Int32(seen.count)) else {
                return .failed(.invalidReplicaAssignment, "partitions should be a consecutive 0-based integer sequence")
            }
            let assignment = topic.assignments.sorted { $0.partitionIndex < $1.partitionIndex }.map(\.brokerIds)
            return .planned(
                partitions: Int32(seen.count), replicationFactor: Int16(replicationFactor ?? 1), configs: configs, assignment: assignment)
        }
        if topic.replicationFactor < -1 || topic.replicationFactor == 0 {
            return .failed(.invalidReplicationFactor, "Replication factor must be larger than 0, or -1 to use the default value.")
        }
        if topic.numPartitions < -1 || topic.numPartitions == 0 {
            return .failed(.invalidPartitions, "Number of partitions was set to an invalid non-positive value.")
        }
        let partitions = topic.numPartitions == -1 ? broker.numPartitions : topic.numPartitions
        let replicationFactor = topic.replicationFactor == -1 ? broker.defaultReplicationFactor : topic.replicationFactor
        if Int(replicationFactor) > brokerCount {
            return .failed(.invalidReplicationFactor, "Unable to replicate the partition \(replicationFactor) time(s): The target replication factor of \(replicationFactor) cannot be reached because only \(brokerCount) broker(s) are registered.")
        }
        return .planned(partitions: partitions, replicationFactor: replicationFactor, configs: configs)
    }

    /// An existing topic whose name equals `name` once '.' and '_' are treated alike, as Kafka
    /// forbids (their metric names would clash).
    static func collision(of name: String, in image: MetadataImage) -> String? {
        guard name.contains(".") || name.contains("_") else { return nil }
        let unified = name.replacingDots()
        return image.topics.keys.sorted().first { $0 != name && $0.replacingDots() == unified }
    }

    private static func created(
        name: String, topicId: Uuid, partitions: Int32, replicationFactor: Int16, configs: [String: String], broker: BrokerConfig
    ) -> CreateTopicsResponse.CreatableTopicResult {
        let described = ConfigDescriber.topic(overrides: configs, broker: broker).map {
            CreateTopicsResponse.CreatableTopicConfigs(
                name: $0.name, value: $0.value, readOnly: $0.readOnly, configSource: $0.source.rawValue, isSensitive: $0.isSensitive
            )
        }
        return CreateTopicsResponse.CreatableTopicResult(
            name: name, topicId: topicId, errorCode: ErrorCode.none.rawValue, errorMessage: nil,
            topicConfigErrorCode: ErrorCode.none.rawValue, numPartitions: partitions,
            replicationFactor: replicationFactor, configs: described
        )
    }
}

private extension String {
    func replacingDots() -> String {
        String(map { $0 == "." ? "_" : $0 })
    }
}
