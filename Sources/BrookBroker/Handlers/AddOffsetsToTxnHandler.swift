import BrookCoordinator
import BrookModel
import BrookProtocol

/// AddOffsetsToTxn (v0–4): adds the group's partition of `__consumer_offsets` to the producer's
/// transaction, so that TxnOffsetCommit may write there and EndTxn puts a marker there.
struct AddOffsetsToTxnHandler: RequestHandler {
    typealias Request = AddOffsetsToTxnRequest
    let versions: ClosedRange<Int16> = 0...4
    let transactions: TransactionCoordinatorHost
    let groups: GroupCoordinatorHost

    func handle(_ request: AddOffsetsToTxnRequest, context: RequestContext) async throws -> AddOffsetsToTxnResponse? {
        guard !request.groupId.isEmpty else { return Self.response(.invalidGroupId) }
        // With ACLs: WRITE on the transactional id, READ on the group.
        guard context.authorized(.write, .transactionalId, request.transactionalId) else {
            return Self.response(.transactionalIdAuthorizationFailed)
        }
        guard context.authorized(.read, .group, request.groupId) else { return Self.response(.groupAuthorizationFailed) }
        let offsetsPartition: Int32
        do {
            let groupCoordinator = try groups.coordinator()
            offsetsPartition = GroupCoordinator.partition(for: request.groupId, partitions: Int32(groupCoordinator.shards.count))
        } catch .loadInProgress {
            return Self.response(.coordinatorLoadInProgress)
        } catch {
            return Self.response(.coordinatorNotAvailable)
        }
        let shard: TransactionShard
        switch transactions.shard(for: request.transactionalId) {
        case .success(let found): shard = found
        case .failure(let error): return Self.response(error.code)
        }
        let result = await shard.addPartitions(
            transactionalId: request.transactionalId, producerId: request.producerId, epoch: request.producerEpoch,
            partitions: [TopicPartition(topic: GroupCoordinatorHost.topicName, partition: offsetsPartition)])
        return Self.response(result.errorCode(version: context.apiVersion, fencedSince: 2))
    }

    static func response(_ code: ErrorCode) -> AddOffsetsToTxnResponse {
        AddOffsetsToTxnResponse(throttleTimeMs: 0, errorCode: code.rawValue)
    }
}
