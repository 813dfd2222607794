import BrookCoordinator
import BrookProtocol

/// EndTxn (v0–4): commits or aborts the producer's open transaction. The answer comes once the
/// decision is in `__transaction_state` and the markers have been written (markers that failed
/// are retried by the coordinator; the outcome stands). v5 (KIP-890's per-transaction epoch
/// bump) is not served.
struct EndTxnHandler: RequestHandler {
    typealias Request = EndTxnRequest
    let versions: ClosedRange<Int16> = 0...4
    let transactions: TransactionCoordinatorHost

    func handle(_ request: EndTxnRequest, context: RequestContext) async throws -> EndTxnResponse? {
        guard context.authorized(.write, .transactionalId, request.transactionalId) else {
            return EndTxnResponse(throttleTimeMs: 0, errorCode: ErrorCode.transactionalIdAuthorizationFailed.rawValue)
        }
        let shard: TransactionShard
        switch transactions.shard(for: request.transactionalId) {
        case .success(let found): shard = found
        case .failure(let error): return EndTxnResponse(throttleTimeMs: 0, errorCode: error.code.rawValue)
        }
        let code = await shard.endTransaction(
            transactionalId: request.transactionalId, producerId: request.producerId, epoch: request.producerEpoch,
            commit: request.committed)
        return EndTxnResponse(throttleTimeMs: 0, errorCode: TransactionError(code).code(version: context.apiVersion, fencedSince: 2).rawValue)
    }
}
