import BrookModel
import BrookProtocol
import BrookStorage

/// DescribeProducers (v0): the active idempotent and transactional producers of each partition
/// this broker leads, from the partition's producer state: epoch, last sequence, last timestamp,
/// the coordinator epoch of its last marker and the first offset of its open transaction.
struct DescribeProducersHandler: RequestHandler {
    typealias Request = DescribeProducersRequest
    let versions: ClosedRange<Int16> = 0...0
    let partitions: PartitionTable

    func handle(_ request: DescribeProducersRequest, context: RequestContext) async throws -> DescribeProducersResponse? {
        let topics = request.topics.map { topic in
            // With ACLs, READ on the topic.
            let denied = !context.authorized(.read, .topic, topic.name)
            return DescribeProducersResponse.TopicResponse(name: topic.name, partitions: topic.partitionIndexes.map { index in
                let key = TopicPartition(topic: topic.name, partition: index)
                if denied {
                    return DescribeProducersResponse.PartitionResponse(
                        partitionIndex: index, errorCode: ErrorCode.topicAuthorizationFailed.rawValue, errorMessage: "Authorization failed.")
                }
                guard let partition = partitions.leader(key) else {
                    return DescribeProducersResponse.PartitionResponse(
                        partitionIndex: index, errorCode: partitions.notLeaderError(key).rawValue,
                        errorMessage: "This broker does not lead \(topic.name)-\(index)")
                }
                let producers = partition.log.producerState.entries.values.sorted { $0.producerId < $1.producerId }.map { entry in
                    DescribeProducersResponse.ProducerState(
                        producerId: entry.producerId, producerEpoch: Int32(entry.epoch), lastSequence: entry.lastSequence,
                        lastTimestamp: entry.lastTimestamp, coordinatorEpoch: entry.coordinatorEpoch,
                        currentTxnStartOffset: entry.currentTxnFirstOffset ?? -1)
                }
                return DescribeProducersResponse.PartitionResponse(partitionIndex: index, errorCode: 0, activeProducers: producers)
            })
        }
        return DescribeProducersResponse(throttleTimeMs: 0, topics: topics)
    }
}
