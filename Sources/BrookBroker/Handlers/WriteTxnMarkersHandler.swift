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
struct WriteTxnMarkersHandler: RequestHandler {
    typealias Request = WriteTxnMarkersRequest
    let versions: ClosedRange<Int16> = 0...1
    /// The same writer the broker's own transaction coordinator uses.
    let markers: LocalMarkerWriter

    init(partitions: PartitionTable, groups: GroupCoordinatorHost) {
        markers = LocalMarkerWriter(partitions: partitions, groups: groups)
    }

    func handle(_ request: WriteTxnMarkersRequest, context: RequestContext) async throws -> WriteTxnMarkersResponse? {
        var results: [WriteTxnMarkersResponse.WritableTxnMarkerResult] = []
        for marker in request.markers {
            var topics: [WriteTxnMarkersResponse.WritableTxnMarkerTopicResult] = []
            for topic in marker.topics {
                let partitionResults = topic.partitionIndexes.map { index in
                    let code = markers.write(
                        commit: marker.transactionResult, producerId: marker.producerId, producerEpoch: marker.producerEpoch,
                        coordinatorEpoch: marker.coordinatorEpoch, to: TopicPartition(topic: topic.name, partition: index))
                    return WriteTxnMarkersResponse.WritableTxnMarkerPartitionResult(partitionIndex: index, errorCode: code.rawValue)
                }
                topics.append(.init(name: topic.name, partitions: partitionResults))
            }
            results.append(.init(producerId: marker.producerId, topics: topics))
        }
        return WriteTxnMarkersResponse(markers: results)
    }
}
