import BrookModel
import BrookProtocol
import BrookStorage

/// DeleteRecords: moves each partition's log start offset forward (offset -1 means the high
/// watermark); whole segments below it are deleted by retention.
struct DeleteRecordsHandler: RequestHandler {
    typealias Request = DeleteRecordsRequest
    let versions: ClosedRange<Int16> = 0...2
    let partitions: PartitionTable

    func handle(_ request: DeleteRecordsRequest, context: RequestContext) async throws -> DeleteRecordsResponse? {
        let topics = request.topics.map { topic in
            // With ACLs, DELETE on the topic.
            let denied = !context.authorized(.delete, .topic, topic.name)
            return DeleteRecordsResponse.DeleteRecordsTopicResult(name: topic.name, partitions: topic.partitions.map { requested in
                var result = DeleteRecordsResponse.DeleteRecordsPartitionResult(
                    partitionIndex: requested.partitionIndex, lowWatermark: -1, errorCode: 0
                )
                if denied {
                    result.errorCode = ErrorCode.topicAuthorizationFailed.rawValue
                    return result
                }
                let key = TopicPartition(topic: topic.name, partition: requested.partitionIndex)
                guard let partition = partitions.leader(key) else {
                    result.errorCode = partitions.notLeaderError(key).rawValue
                    return result
                }
                let highWatermark = partition.highWatermark
                let target = requested.offset == -1 ? highWatermark : requested.offset
                guard target >= 0, target <= highWatermark else {
                    result.errorCode = ErrorCode.offsetOutOfRange.rawValue
                    return result
                }
                do {
                    result.lowWatermark = try partition.log.deleteRecordsBefore(target)
                } catch let error as StorageError {
                    result.errorCode = error.errorCode.rawValue
                } catch {
                    result.errorCode = ErrorCode.unknownServerError.rawValue
                }
                return result
            })
        }
        return DeleteRecordsResponse(throttleTimeMs: 0, topics: topics)
    }
}
