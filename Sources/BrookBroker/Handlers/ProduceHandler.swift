import BrookModel
import BrookProtocol
import BrookStorage
import NIOCore

/// Produce: validates each partition's batches (header and CRC, never the records) and appends
/// them to the partition's log. acks=0 gets no response; acks=1 and acks=-1 are answered once
/// the batches are in the log (on one node every in-sync replica has them).
struct ProduceHandler: RequestHandler {
    typealias Request = ProduceRequest
    let versions: ClosedRange<Int16> = 0...11
    let partitions: PartitionTable

    func handle(_ request: ProduceRequest, context: RequestContext) async throws -> ProduceResponse? {
        let validAcks = request.acks == 0 || request.acks == 1 || request.acks == -1
        var responses: [ProduceResponse.TopicProduceResponse] = []
        responses.reserveCapacity(request.topicData.count)
        for topic in request.topicData {
            var results: [ProduceResponse.PartitionProduceResponse] = []
            results.reserveCapacity(topic.partitionData.count)
            for data in topic.partitionData {
                guard validAcks else {
                    results.append(Self.failure(data.index, .invalidRequiredAcks))
                    continue
                }
                guard let partition = partitions.partition(TopicPartition(topic: topic.name, partition: data.index)) else {
                    results.append(Self.failure(data.index, .unknownTopicOrPartition))
                    continue
                }
                guard let records = data.records else {
                    results.append(Self.failure(data.index, .invalidRecord, message: "Produce request carries no records"))
                    continue
                }
                let converted: ByteBuffer
                switch Self.upConvertedRecords(records, version: context.apiVersion) {
                case .success(let batches): converted = batches
                case .failure(let error):
                    results.append(Self.failure(data.index, error.errorCode, message: "\(error)", logStartOffset: partition.log.logStartOffset))
                    continue
                }
                do {
                    let info = try partition.appendAsLeader(converted)
                    results.append(ProduceResponse.PartitionProduceResponse(
                        index: data.index, errorCode: ErrorCode.none.rawValue, baseOffset: info.firstOffset,
                        logAppendTimeMs: info.logAppendTime ?? -1, logStartOffset: info.logStartOffset
                    ))
                } catch {
                    results.append(Self.failure(data.index, error.errorCode, message: "\(error)", logStartOffset: partition.log.logStartOffset))
                }
            }
            responses.append(ProduceResponse.TopicProduceResponse(name: topic.name, partitionResponses: results))
        }
        if request.acks == 0 { return nil }
        return ProduceResponse(responses: responses, throttleTimeMs: 0)
    }

    static func failure(
        _ index: Int32, _ code: ErrorCode, message: String? = nil, logStartOffset: Int64 = -1
    ) -> ProduceResponse.PartitionProduceResponse {
        ProduceResponse.PartitionProduceResponse(
            index: index, errorCode: code.rawValue, baseOffset: -1, logAppendTimeMs: -1,
            logStartOffset: logStartOffset, errorMessage: message
        )
    }
}
