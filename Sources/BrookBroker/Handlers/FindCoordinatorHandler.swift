import BrookProtocol

/// FindCoordinator: on one node every group and transactional id is coordinated here. A lookup
/// starts the group coordinator (creating `__consumer_offsets`) or the transaction coordinator
/// (creating `__transaction_state`) on first use. v0–v3 ask for one key, v4+ for a batch.
///
/// In a cluster the coordinator is the broker that leads the key's partition of the topic, as
/// in Kafka; while the topic is being created, or the partition has no live leader, the answer
/// is COORDINATOR_NOT_AVAILABLE, which clients retry.
struct FindCoordinatorHandler: RequestHandler {
    typealias Request = FindCoordinatorRequest
    let versions: ClosedRange<Int16> = 0...6
    let metadata: MetadataStore
    let groups: GroupCoordinatorHost
    let transactions: TransactionCoordinatorHost

    /// Kafka's coordinator key types.
    enum KeyType: Int8 {
        case group = 0
        case transaction = 1
    }

    func handle(_ request: FindCoordinatorRequest, context: RequestContext) async throws -> FindCoordinatorResponse? {
        let keys = context.apiVersion >= 4 ? request.coordinatorKeys : [request.key]
        let answers = keys.map { key in
            // With ACLs, DESCRIBE on the group or transactional id.
            switch KeyType(rawValue: request.keyType) {
            case .group where !context.authorized(.describe, .group, key):
                return failed(.init(key: key, nodeId: -1, host: "", port: -1), .groupAuthorizationFailed, "Group authorization failed.")
            case .transaction where !context.authorized(.describe, .transactionalId, key):
                return failed(
                    .init(key: key, nodeId: -1, host: "", port: -1), .transactionalIdAuthorizationFailed,
                    "Transactional Id authorization failed.")
            default:
                return coordinator(for: key, keyType: request.keyType, version: context.apiVersion, listener: context.listenerName)
            }
        }
        var response = FindCoordinatorResponse(throttleTimeMs: 0)
        if context.apiVersion >= 4 {
            response.coordinators = answers
        } else if let answer = answers.first {
            response.errorCode = answer.errorCode
            response.errorMessage = answer.errorCode == ErrorCode.none.rawValue ? nil : answer.errorMessage
            response.nodeId = answer.nodeId
            response.host = answer.host
            response.port = answer.port
        }
        return response
    }

    private func coordinator(for key: String, keyType: Int8, version: Int16, listener: String) -> FindCoordinatorResponse.Coordinator {
        var answer = FindCoordinatorResponse.Coordinator(key: key, nodeId: -1, host: "", port: -1)
        switch KeyType(rawValue: keyType) {
        case .group:
            guard !key.isEmpty else {
                return failed(answer, .invalidRequest, "Group id must not be empty")
            }
            do {
                if groups.hosting.coordinates(key) { _ = try groups.coordinator() }
            } catch .loadInProgress {
                // This node is the coordinator; the group requests that follow wait for the load.
            } catch {
                return failed(answer, .coordinatorNotAvailable, "The coordinator is not available: \(error)")
            }
        case .transaction:
            guard !key.isEmpty else {
                return failed(answer, .invalidRequest, "Transactional id must not be empty")
            }
            do {
                if transactions.hosting.coordinates(key) { _ = try transactions.coordinator() }
            } catch .loadInProgress {
                // This node is the coordinator; the transactional requests that follow wait for the load.
            } catch {
                return failed(answer, .coordinatorNotAvailable, "The coordinator is not available: \(error)")
            }
        case nil:
            return failed(answer, .invalidRequest, "Unknown coordinator key type \(keyType)")
        }
        let image = metadata.image
        var coordinatorId: Int32? = metadata.nodeId
        if metadata.replicated != nil {
            let topicName = keyType == KeyType.group.rawValue ? GroupCoordinatorHost.topicName : TransactionCoordinatorHost.topicName
            coordinatorId = image.coordinatorLeader(of: key, in: topicName)
        }
        guard let coordinatorId, let broker = image.broker(coordinatorId, on: listener) else {
            return failed(answer, .coordinatorNotAvailable, "The coordinator is not available")
        }
        answer.nodeId = broker.nodeId
        answer.host = broker.host
        answer.port = broker.port
        answer.errorMessage = nil
        return answer
    }

    private func failed(
        _ answer: FindCoordinatorResponse.Coordinator, _ code: ErrorCode, _ message: String
    ) -> FindCoordinatorResponse.Coordinator {
        var answer = answer
        answer.errorCode = code.rawValue
        answer.errorMessage = message
        return answer
    }
}
