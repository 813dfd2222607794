import BrookProtocol

/// Metadata: brokers, controller and the requested topics with their partitions.
///
/// A null topic list (v1+) or an empty one at v0 means every topic. Unknown topics are created
/// when the request allows it (always before v4) and `auto.create.topics.enable` is set;
/// otherwise they come back with UNKNOWN_TOPIC_OR_PARTITION, and illegal names with
/// INVALID_TOPIC_EXCEPTION. In a cluster, a broker that is not the active controller asks the
/// controller to create the topic and answers LEADER_NOT_AVAILABLE until its image has it.
///
/// With ACLs, as Kafka: the full list holds only the topics the client may DESCRIBE; a topic
/// asked for without DESCRIBE, or missing and not to be created without CREATE (on the cluster
/// or the topic), comes back with TOPIC_AUTHORIZATION_FAILED.
struct MetadataHandler: RequestHandler {
    typealias Request = MetadataRequest
    let versions: ClosedRange<Int16> = 0...12
    let metadata: MetadataStore
    let topicCreator: TopicCreator

    func handle(_ request: MetadataRequest, context: RequestContext) async throws -> MetadataResponse? {
        let version = context.apiVersion
        var image = metadata.image
        var topics: [MetadataResponse.MetadataResponseTopic] = []
        let requested = request.topics
        if requested == nil || (version == 0 && requested?.isEmpty == true) {
            for topic in image.topics.values.sorted(by: { $0.name < $1.name })
            where context.authorized(.describe, .topic, topic.name) {
                topics.append(Self.describe(topic))
            }
        } else {
            let allowCreation = version < 4 || request.allowAutoTopicCreation
            for entry in requested ?? [] {
                let name = entry.name ?? image.topic(id: entry.topicId)?.name
                guard let name else {
                    topics.append(.init(errorCode: ErrorCode.unknownTopicId.rawValue, name: nil, topicId: entry.topicId))
                    continue
                }
                guard context.authorized(.describe, .topic, name) else {
                    topics.append(.init(
                        errorCode: ErrorCode.topicAuthorizationFailed.rawValue, name: entry.name, topicId: entry.topicId, isInternal: false))
                    continue
                }
                if let topic = image.topics[name] {
                    topics.append(Self.describe(topic))
                    continue
                }
                if TopicName.problem(with: name) != nil {
                    topics.append(.init(errorCode: ErrorCode.invalidTopicException.rawValue, name: name))
                    continue
                }
                if allowCreation, context.checksAcls, !context.authorizedOnCluster(.create), !context.authorized(.create, .topic, name) {
                    topics.append(.init(errorCode: ErrorCode.topicAuthorizationFailed.rawValue, name: name, isInternal: false))
                    continue
                }
                switch allowCreation ? await topicCreator.autoCreation(of: name) : .refused {
                case .created(let created):
                    image = metadata.image
                    topics.append(Self.describe(created))
                case .requested:
                    topics.append(.init(errorCode: ErrorCode.leaderNotAvailable.rawValue, name: name, isInternal: false))
                case .refused:
                    topics.append(.init(errorCode: ErrorCode.unknownTopicOrPartition.rawValue, name: name, topicId: entry.topicId))
                }
            }
        }
        // Each broker as reached on the listener this request came in on, as Kafka answers.
        let brokers = image.brokers(on: context.listenerName).map {
            MetadataResponse.MetadataResponseBroker(nodeId: $0.nodeId, host: $0.host, port: $0.port, rack: $0.rack)
        }
        // The authorized operations, when asked (topics v8+, the cluster v8-10).
        if version >= 8, request.includeTopicAuthorizedOperations {
            for index in topics.indices where topics[index].errorCode == 0 {
                topics[index].topicAuthorizedOperations = context.authorizedOperations(
                    .topic, topics[index].name ?? "", among: AclOperation.topicOperations)
            }
        }
        var response = MetadataResponse(
            throttleTimeMs: 0, brokers: brokers, clusterId: image.clusterId,
            controllerId: image.controllerIdForClients(asking: metadata.nodeId), topics: topics
        )
        if (8...10).contains(version), request.includeClusterAuthorizedOperations {
            response.clusterAuthorizedOperations = context.authorizedOperations(
                .cluster, AclResourceType.clusterName, among: AclOperation.clusterOperations)
        }
        return response
    }

    static func describe(_ topic: MetadataImage.Topic) -> MetadataResponse.MetadataResponseTopic {
        MetadataResponse.MetadataResponseTopic(
            errorCode: ErrorCode.none.rawValue, name: topic.name, topicId: topic.id, isInternal: topic.isInternal,
            partitions: topic.partitions.map { partition in
                MetadataResponse.MetadataResponsePartition(
                    errorCode: (partition.leader < 0 ? ErrorCode.leaderNotAvailable : .none).rawValue,
                    partitionIndex: partition.index, leaderId: partition.leader,
                    leaderEpoch: partition.leaderEpoch, replicaNodes: partition.replicas, isrNodes: partition.isr,
                    offlineReplicas: []
                )
            }
        )
    }
}
