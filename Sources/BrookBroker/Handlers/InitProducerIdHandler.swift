import BrookCoordinator
import BrookProtocol

/// InitProducerId (v0–5). Without a transactional id (idempotent producers) every call gets a
/// fresh producer id at epoch 0, as in Kafka. With one, the transaction coordinator answers with
/// the id's producer id and a bumped epoch, aborting any open transaction of an older producer
/// first; from v3 the producer may pass its current id and epoch to keep them (KIP-360).
struct InitProducerIdHandler: RequestHandler {
    typealias Request = InitProducerIdRequest
    let versions: ClosedRange<Int16> = 0...5
    let producerIds: ProducerIdManager
    let transactions: TransactionCoordinatorHost

    func handle(_ request: InitProducerIdRequest, context: RequestContext) async throws -> InitProducerIdResponse? {
        guard let transactionalId = request.transactionalId else {
            // With ACLs an idempotent producer needs IDEMPOTENT_WRITE on the cluster or WRITE on
            // some topic, as in Kafka.
            guard !context.checksAcls || context.authorizedOnCluster(.idempotentWrite) || context.authorizedOnAny(.write, .topic) else {
                return Self.failure(.clusterAuthorizationFailed)
            }
            do {
                return InitProducerIdResponse(throttleTimeMs: 0, errorCode: 0, producerId: try producerIds.next(), producerEpoch: 0)
            } catch {
                return Self.failure(.coordinatorNotAvailable)
            }
        }
        guard !transactionalId.isEmpty else { return Self.failure(.invalidRequest) }
        guard context.authorized(.write, .transactionalId, transactionalId) else { return Self.failure(.transactionalIdAuthorizationFailed) }
        let shard: TransactionShard
        switch transactions.shard(for: transactionalId) {
        case .success(let found): shard = found
        case .failure(let error): return Self.failure(error.code)
        }
        let expected = context.apiVersion >= 3 && request.producerId >= 0 ? (request.producerId, request.producerEpoch) : nil
        switch await shard.initProducerId(transactionalId: transactionalId, timeoutMs: request.transactionTimeoutMs, expected: expected) {
        case .success(let (producerId, epoch)):
            return InitProducerIdResponse(throttleTimeMs: 0, errorCode: 0, producerId: producerId, producerEpoch: epoch)
        case .failure(let error):
            return Self.failure(error.code(version: context.apiVersion, fencedSince: 4))
        }
    }

    static func failure(_ code: ErrorCode) -> InitProducerIdResponse {
        InitProducerIdResponse(throttleTimeMs: 0, errorCode: code.rawValue, producerId: -1, producerEpoch: -1)
    }
}
