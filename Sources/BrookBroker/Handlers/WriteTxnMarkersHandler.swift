import BrookModel
import BrookProtocol

/// WriteTxnMarkers (v0-1), the transaction coordinator's inter-broker call: for each marker, a
/// COMMIT (`transaction_result` true) or ABORT control batch carrying the producer id and epoch
/// and the coordinator epoch is appended to each named partition this broker leads, closing the
/// producer's transaction there. Errors are per partition: UNKNOWN_TOPIC_OR_PARTITION for a
/// partition not led here, INVALID_PRODUCER_EPOCH for a fenced producer epoch,
/// TRANSACTION_COORDINATOR_FENCED for an older coordinator epoch, and the storage errors.
///
/// Once a marker is in a partition of `__consumer_offsets`, the group coordinator applies it to
/// the producer's pending transactional offsets
/// (``GroupCoordinatorHost/transactionCompleted(partition:producerId:commit:)``) before the
/// answer goes back, so the transaction is complete for consumers when the coordinator hears so.
///
/// A marker claiming a coordinator epoch higher than any coordinator of this cluster has had
/// (``TransactionCoordinatorHost/highestCoordinatorEpoch``) is refused with
/// TRANSACTION_COORDINATOR_FENCED and writes nothing: no coordinator sent it, and writing it
/// would fence the real coordinator's markers for that producer on that partition (its open
/// transactions there would then hold the last stable offset). Kafka cannot tell from the
/// partition leader and relies on the ClusterAction check instead; on one node the coordinator
/// epochs are known here. A marker at or below that epoch is still written, so Admin's
/// abortTransaction (which takes the epoch from DescribeProducers) works.
///
/// Authorization: Kafka answers CLUSTER_AUTHORIZATION_FAILED for the whole request unless the
/// principal has ClusterAction on the cluster. Brook has no authorizer yet; when one exists this
/// is the place to check it (see `authorize(_:)`), before any marker is written.
struct WriteTxnMarkersHandler: RequestHandler {
    typealias Request = WriteTxnMarkersRequest
    let versions: ClosedRange<Int16> = 0...1
    /// The same writer the broker's own transaction coordinator uses.
    let markers: LocalMarkerWriter
    /// The highest coordinator epoch a coordinator of this cluster has had.
    let highestCoordinatorEpoch: @Sendable () -> Int32

    init(partitions: PartitionTable, groups: GroupCoordinatorHost, highestCoordinatorEpoch: @escaping @Sendable () -> Int32) {
        markers = LocalMarkerWriter(partitions: partitions, groups: groups)
        self.highestCoordinatorEpoch = highestCoordinatorEpoch
    }

    /// The hook for the ClusterAction check: nil to go on, or the error for every partition.
    /// Every principal passes until Brook has an authorizer (issue 13).
    private func authorize(_ context: RequestContext) -> ErrorCode? {
        context.authorizedOnCluster(.clusterAction) ? nil : .clusterAuthorizationFailed
    }

    func handle(_ request: WriteTxnMarkersRequest, context: RequestContext) async throws -> WriteTxnMarkersResponse? {
        let refusal = authorize(context)
        let highestEpoch = highestCoordinatorEpoch()
        var results: [WriteTxnMarkersResponse.WritableTxnMarkerResult] = []
        for marker in request.markers {
            var topics: [WriteTxnMarkersResponse.WritableTxnMarkerTopicResult] = []
            for topic in marker.topics {
                let partitionResults = await topic.partitionIndexes.asyncMap { index in
                    let code: ErrorCode
                    if let refusal {
                        code = refusal
                    } else if marker.coordinatorEpoch > highestEpoch {
                        code = .transactionCoordinatorFenced
                    } else {
                        code = await markers.write(
                            commit: marker.transactionResult, producerId: marker.producerId, producerEpoch: marker.producerEpoch,
                            coordinatorEpoch: marker.coordinatorEpoch, to: TopicPartition(topic: topic.name, partition: index))
                    }
                    return WriteTxnMarkersResponse.WritableTxnMarkerPartitionResult(partitionIndex: index, errorCode: code.rawValue)
                }
                topics.append(.init(name: topic.name, partitions: partitionResults))
            }
            results.append(.init(producerId: marker.producerId, topics: topics))
        }
        return WriteTxnMarkersResponse(markers: results)
    }
}
