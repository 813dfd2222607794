import BrookProtocol

/// DeleteTopics: deletes topics by name (v0-v5) or by name or id (v6+).
///
/// Kafka's controller semantics: with `delete.topic.enable=false` every topic fails with
/// TOPIC_DELETION_DISABLED (INVALID_REQUEST before v3); a name or id given twice fails with
/// INVALID_REQUEST, as does an entry with both or neither; an unknown name fails with
/// UNKNOWN_TOPIC_OR_PARTITION and an unknown id with UNKNOWN_TOPIC_ID. Internal topics are not
/// protected, as in Kafka. After each deletion the topic creator's `onDelete` hook runs, so the
/// partition logs are dropped before the answer goes out.
struct DeleteTopicsHandler: RequestHandler {
    typealias Request = DeleteTopicsRequest
    let versions: ClosedRange<Int16> = 0...6
    let config: BrokerConfigStore
    let metadata: MetadataStore
    let topicCreator: TopicCreator

    private typealias Result = DeleteTopicsResponse.DeletableTopicResult

    func handle(_ request: DeleteTopicsRequest, context: RequestContext) async throws -> DeleteTopicsResponse? {
        let version = context.apiVersion
        let entries: [(name: String?, id: Uuid)] = version >= 6
            ? request.topics.map { ($0.name, $0.topicId) }
            : request.topicNames.map { ($0, Uuid.zero) }
        // Names are not nullable before v6.
        func result(_ name: String?, _ id: Uuid, _ code: ErrorCode, _ message: String?) -> Result {
            Result(name: version >= 6 ? name : name ?? "", topicId: id, errorCode: code.rawValue, errorMessage: message)
        }

        guard config.current.deleteTopicEnable else {
            let code: ErrorCode = version < 3 ? .invalidRequest : .topicDeletionDisabled
            return DeleteTopicsResponse(throttleTimeMs: 0, responses: entries.map {
                result($0.name, $0.id, code, "Topic deletion is disabled.")
            })
        }

        var nameCounts: [String: Int] = [:]
        var idCounts: [Uuid: Int] = [:]
        for entry in entries {
            if let name = entry.name, entry.id == .zero { nameCounts[name, default: 0] += 1 }
            if entry.name == nil, entry.id != .zero { idCounts[entry.id, default: 0] += 1 }
        }
        let image = metadata.image
        // Ids given directly and also reached through a name: neither entry is deleted.
        let conflictingIds = Set(nameCounts.keys.compactMap { image.topics[$0]?.id }).intersection(idCounts.keys)

        var results: [Result] = []
        var targets: [(name: String, id: Uuid)] = []
        var seenNames = Set<String>()
        var seenIds = Set<Uuid>()
        for (name, id) in entries {
            switch (name, id) {
            case (nil, .zero):
                results.append(result(nil, .zero, .invalidRequest, "Neither topic name nor id were specified."))
            case (let name?, let id) where id != .zero:
                results.append(result(name, id, .invalidRequest, "You may not specify both topic name and topic id."))
            case (let name?, _):
                guard seenNames.insert(name).inserted else { continue }
                if nameCounts[name, default: 0] > 1 {
                    results.append(result(name, .zero, .invalidRequest, "Duplicate topic name."))
                } else if let topic = image.topics[name] {
                    if conflictingIds.contains(topic.id) {
                        results.append(result(name, topic.id, .invalidRequest, "The provided topic name maps to an ID that was already supplied."))
                    } else {
                        targets.append((name, topic.id))
                    }
                } else {
                    results.append(result(name, .zero, .unknownTopicOrPartition, AdminChecks.unknownTopicMessage))
                }
            case (nil, let id):
                guard seenIds.insert(id).inserted else { continue }
                if idCounts[id, default: 0] > 1 {
                    results.append(result(nil, id, .invalidRequest, "Duplicate topic id."))
                } else if conflictingIds.contains(id) {
                    results.append(result(nil, id, .invalidRequest, "The provided topic id is also reached through a provided topic name."))
                } else if let topic = image.topic(id: id) {
                    targets.append((topic.name, id))
                } else {
                    results.append(result(nil, id, .unknownTopicId, "This server does not host this topic ID."))
                }
            }
        }

        for target in targets {
            // With ACLs, DELETE on the topic.
            guard context.authorized(.delete, .topic, target.name) else {
                results.append(result(target.name, target.id, .topicAuthorizationFailed, "Authorization failed."))
                continue
            }
            do {
                let topic = try metadata.deleteTopic(name: target.name)
                await topicCreator.onDelete(topic)
                results.append(result(topic.name, topic.id, .none, nil))
            } catch {
                results.append(result(target.name, target.id, error.code, error.message))
            }
        }
        return DeleteTopicsResponse(throttleTimeMs: 0, responses: results)
    }
}
