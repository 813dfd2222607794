import BrookCoordinator
import BrookProtocol

/// ListTransactions (v0–1): the transactional ids this coordinator owns, filtered by state name,
/// producer id and (v1) how long the transaction has been open. State names the broker does not
/// know are echoed in UnknownStateFilters; if no filter name is known, nothing matches.
struct ListTransactionsHandler: RequestHandler {
    typealias Request = ListTransactionsRequest
    let versions: ClosedRange<Int16> = 0...1
    let transactions: TransactionCoordinatorHost

    func handle(_ request: ListTransactionsRequest, context: RequestContext) async throws -> ListTransactionsResponse? {
        let known = request.stateFilters.compactMap(TransactionState.init(name:))
        var response = ListTransactionsResponse(
            throttleTimeMs: 0, errorCode: 0,
            unknownStateFilters: request.stateFilters.filter { TransactionState(name: $0) == nil })
        guard let coordinator = transactions.started, request.stateFilters.isEmpty || !known.isEmpty else { return response }
        let listed = await coordinator.listTransactions(
            states: Set(known), producerIds: Set(request.producerIdFilters),
            minimumDurationMs: context.apiVersion >= 1 ? request.durationFilter : -1,
            now: GroupCoordinator.wallClockMilliseconds())
        // With ACLs, only the transactional ids the client may describe.
        response.transactionStates = listed.filter { context.authorized(.describe, .transactionalId, $0.transactionalId) }.map {
            ListTransactionsResponse.TransactionState(transactionalId: $0.transactionalId, producerId: $0.producerId, transactionState: $0.state.name)
        }
        return response
    }
}
