import BrookCoordinator
import BrookModel
import BrookProtocol

/// DescribeTransactions (v0): the state, producer, timeout, start time and partitions of each
/// transactional id; TRANSACTIONAL_ID_NOT_FOUND for ids the coordinator does not know.
struct DescribeTransactionsHandler: RequestHandler {
    typealias Request = DescribeTransactionsRequest
    let versions: ClosedRange<Int16> = 0...0
    let transactions: TransactionCoordinatorHost

    func handle(_ request: DescribeTransactionsRequest, context: RequestContext) async throws -> DescribeTransactionsResponse? {
        let coordinator = transactions.started
        let states = await request.transactionalIds.asyncMap { transactionalId in
            guard context.authorized(.describe, .transactionalId, transactionalId) else {
                return DescribeTransactionsResponse.TransactionState(
                    errorCode: ErrorCode.transactionalIdAuthorizationFailed.rawValue, transactionalId: transactionalId,
                    transactionState: "", transactionTimeoutMs: 0, transactionStartTimeMs: -1, producerId: -1, producerEpoch: -1)
            }
            guard let metadata = await coordinator?.shard(for: transactionalId).transaction(transactionalId) else {
                return DescribeTransactionsResponse.TransactionState(
                    errorCode: ErrorCode.transactionalIdNotFound.rawValue, transactionalId: transactionalId,
                    transactionState: "", transactionTimeoutMs: 0, transactionStartTimeMs: -1, producerId: -1, producerEpoch: -1)
            }
            let byTopic = Dictionary(grouping: metadata.partitions, by: \.topic)
            return DescribeTransactionsResponse.TransactionState(
                errorCode: 0, transactionalId: transactionalId, transactionState: metadata.state.name,
                transactionTimeoutMs: metadata.timeoutMs, transactionStartTimeMs: metadata.startTimestamp,
                producerId: metadata.producerId, producerEpoch: metadata.producerEpoch,
                topics: byTopic.keys.sorted().map { topic in
                    DescribeTransactionsResponse.TopicData(topic: topic, partitions: byTopic[topic]!.map(\.partition).sorted())
                })
        }
        return DescribeTransactionsResponse(throttleTimeMs: 0, transactionStates: states)
    }
}
