import BrookProtocol

/// InitProducerId for idempotent producers: every call gets a fresh producer id at epoch 0
/// (as Kafka does without a transactional id). Transactional ids need the transaction
/// coordinator and are refused with COORDINATOR_NOT_AVAILABLE until it exists.
struct InitProducerIdHandler: RequestHandler {
    typealias Request = InitProducerIdRequest
    let versions: ClosedRange<Int16> = 0...5
    let producerIds: ProducerIdManager

    func handle(_ request: InitProducerIdRequest, context: RequestContext) async throws -> InitProducerIdResponse? {
        guard request.transactionalId == nil else {
            return InitProducerIdResponse(throttleTimeMs: 0, errorCode: ErrorCode.coordinatorNotAvailable.rawValue)
        }
        do {
            return InitProducerIdResponse(throttleTimeMs: 0, errorCode: 0, producerId: try producerIds.next(), producerEpoch: 0)
        } catch {
            return InitProducerIdResponse(throttleTimeMs: 0, errorCode: ErrorCode.coordinatorNotAvailable.rawValue)
        }
    }
}
