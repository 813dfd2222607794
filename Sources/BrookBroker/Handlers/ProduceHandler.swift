import BrookModel
import BrookProtocol
import BrookStorage
import NIOCore

/// Produce: hands each partition's records to ``Partition/appendAsLeader(_:format:requiredAcks:)``,
/// which checks min.insync.replicas for acks=-1, converts legacy message sets (Produce v0-2),
/// decodes records only where the topic needs it (keys on compacted topics, re-encoding to its
/// compression.type) and appends them; the log checks each batch's header and CRC. acks=0 gets
/// no response; acks=1 is answered once the batches are in the log; acks=-1 too when the topic
/// has `write.caching` or other in-sync replicas, else (Brook's default on one node) only once
/// the batches are fsynced (``DurableAcknowledger``, one group fsync per partition for every
/// request waiting; the partitions of one request are fsynced in parallel). With a `verifier` (KIP-890), a producer's first
/// transactional batch on a partition is written only if the partition is in its open transaction.
/// With ACLs, a topic needs WRITE (else TOPIC_AUTHORIZATION_FAILED) and a transactional
/// producer WRITE on its transactional id (else TRANSACTIONAL_ID_AUTHORIZATION_FAILED).
struct ProduceHandler: RequestHandler {
    typealias Request = ProduceRequest
    let versions: ClosedRange<Int16> = 0...11
    let partitions: PartitionTable
    var verifier: ProduceTransactionVerifier? = nil
    /// In a cluster: tells a partition another broker hosts (NOT_LEADER_OR_FOLLOWER) from one
    /// that does not exist.
    var metadata: MetadataStore? = nil

    /// An acks=all append whose answer waits: where its answer sits (topic and partition index
    /// in the response), the partition, the offset to reach, and what must reach it — the
    /// fsync (`replicatedIn` nil), or the high watermark of the partition's ISR while this broker
    /// still leads in that leader epoch.
    typealias DurableWait = (topic: Int, index: Int, partition: Partition, endOffset: Int64, replicatedIn: Int32?)

    func handle(_ request: ProduceRequest, context: RequestContext) async throws -> ProduceResponse? {
        var (responses, durable) = append(request, context: context, refused: await refusals(of: request, context: context))
        let throttle = max(Self.throttle(request, context: context), context.requestThrottle())
        if request.acks == 0 { return nil }
        if !durable.isEmpty {
            await Self.waitUntilDurable(durable, timeoutMs: request.timeoutMs, answers: &responses)
        }
        return ProduceResponse(responses: responses, throttleTimeMs: throttle)
    }

    /// Records the request's bytes against the client's `producer_byte_rate` (as Kafka, after
    /// appending); the throttle time to answer with, for which the connection is also muted.
    static func throttle(_ request: ProduceRequest, context: RequestContext) -> Int32 {
        guard let quotas = context.quotas, quotas.manager.isActive else { return 0 }
        let bytes = request.topicData.reduce(0) { total, topic in
            topic.partitionData.reduce(total) { $0 + ($1.records?.readableBytes ?? 0) }
        }
        return quotas.record(.produce, Double(bytes), context: context)
    }

    /// The partitions whose transactional records the verifier refuses (none without one).
    private func refusals(of request: ProduceRequest, context: RequestContext) async -> [ProduceTransactionVerifier.Place: ErrorCode] {
        guard let verifier, request.transactionalId != nil else { return [:] }
        return await verifier.refusals(of: request, partitions: partitions, produceVersion: context.apiVersion)
    }

    /// Appends every partition's records, in request order, but those `refused`, and answers
    /// each; returns the answers and the appends whose answers must wait for an fsync.
    private func append(
        _ request: ProduceRequest, context: RequestContext, refused: [ProduceTransactionVerifier.Place: ErrorCode]
    ) -> ([ProduceResponse.TopicProduceResponse], [DurableWait]) {
        let validAcks = request.acks == 0 || request.acks == 1 || request.acks == -1
        var responses: [ProduceResponse.TopicProduceResponse] = []
        responses.reserveCapacity(request.topicData.count)
        var durable: [DurableWait] = []
        let transactionDenied = request.transactionalId.map { !context.authorized(.write, .transactionalId, $0) } ?? false
        for (topicIndex, topic) in request.topicData.enumerated() {
            var results: [ProduceResponse.PartitionProduceResponse] = []
            results.reserveCapacity(topic.partitionData.count)
            let denied: ErrorCode? = transactionDenied
                ? .transactionalIdAuthorizationFailed
                : context.authorized(.write, .topic, topic.name) ? nil : .topicAuthorizationFailed
            for (index, data) in topic.partitionData.enumerated() {
                guard validAcks else {
                    results.append(Self.failure(data.index, .invalidRequiredAcks))
                    continue
                }
                if let denied {
                    results.append(Self.failure(data.index, denied))
                    continue
                }
                guard let partition = partitions.partition(TopicPartition(topic: topic.name, partition: data.index)) else {
                    results.append(Self.failure(data.index, MetadataImage.missingPartitionError(
                        TopicPartition(topic: topic.name, partition: data.index), in: metadata)))
                    continue
                }
                guard let records = data.records else {
                    results.append(Self.failure(data.index, .invalidRecord, message: "Produce request carries no records"))
                    continue
                }
                if !refused.isEmpty, let refusal = refused[.init(topic: topicIndex, partition: index)] {
                    results.append(Self.failure(data.index, refusal, message: "The partition is not in the producer's open transaction"))
                    continue
                }
                do throws(LeaderAppendError) {
                    let epoch = partition.leaderEpoch
                    let info = try partition.appendAsLeader(
                        records, format: context.apiVersion < 3 ? .messageSet : .recordBatches, requiredAcks: request.acks)
                    if request.acks == -1 && partition.acksAllWaitsForFsync {
                        durable.append((responses.count, results.count, partition, info.lastOffset + 1, nil))
                    } else if request.acks == -1 && !partition.leadsAlone {
                        durable.append((responses.count, results.count, partition, info.lastOffset + 1, epoch))
                    }
                    results.append(ProduceResponse.PartitionProduceResponse(
                        index: data.index, errorCode: ErrorCode.none.rawValue, baseOffset: info.firstOffset,
                        logAppendTimeMs: info.logAppendTime ?? -1, logStartOffset: info.logStartOffset
                    ))
                } catch {
                    results.append(Self.failure(
                        data.index, error.errorCode, message: "\(error)", logStartOffset: partition.log.logStartOffset,
                        recordErrors: error.recordErrors
                    ))
                }
            }
            responses.append(ProduceResponse.TopicProduceResponse(name: topic.name, partitionResponses: results))
        }
        return (responses, durable)
    }

    /// Waits for every fsync and replication the request's acks=all appends need, all
    /// partitions at once, for at most the request's `timeoutMs`. A partition whose fsync fails
    /// is answered KAFKA_STORAGE_ERROR; one whose ISR did not replicate the records in time
    /// REQUEST_TIMED_OUT, or NOT_LEADER_OR_FOLLOWER when leadership moved meanwhile, or
    /// NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrank below `min.insync.replicas`.
    private static func waitUntilDurable(
        _ waits: [DurableWait], timeoutMs: Int32, answers responses: inout [ProduceResponse.TopicProduceResponse]
    ) async {
        let deadline = ContinuousClock.now + .milliseconds(max(0, Int64(timeoutMs)))
        if waits.count == 1 {
            if let (code, message) = await outcome(of: waits[0], deadline: deadline) {
                let (topic, index, _, _, _) = waits[0]
                responses[topic].partitionResponses[index] = failure(responses[topic].partitionResponses[index].index, code, message: message)
            }
            return
        }
        let failed = await withTaskGroup(of: (Int, Int, ErrorCode, String)?.self) { group in
            for wait in waits {
                group.addTask {
                    guard let (code, message) = await outcome(of: wait, deadline: deadline) else { return nil }
                    return (wait.topic, wait.index, code, message)
                }
            }
            var failed: [(Int, Int, ErrorCode, String)] = []
            for await result in group {
                if let result { failed.append(result) }
            }
            return failed
        }
        for (topic, index, code, message) in failed {
            responses[topic].partitionResponses[index] = failure(responses[topic].partitionResponses[index].index, code, message: message)
        }
    }

    /// Nil once `wait` is satisfied, else the error to answer with.
    private static func outcome(of wait: DurableWait, deadline: ContinuousClock.Instant) async -> (ErrorCode, String)? {
        if let epoch = wait.replicatedIn {
            let code = await wait.partition.waitForReplication(below: wait.endOffset, epoch: epoch, deadline: deadline)
            guard code != .none else { return nil }
            return (code, "The records of \(wait.partition.topicPartition) below offset \(wait.endOffset) were not replicated: \(code)")
        }
        do {
            try await wait.partition.durability.waitUntilDurable(below: wait.endOffset)
            return nil
        } catch {
            return (.kafkaStorageError, "\(error)")
        }
    }

    static func failure(
        _ index: Int32, _ code: ErrorCode, message: String? = nil, logStartOffset: Int64 = -1,
        recordErrors: [ProduceResponse.BatchIndexAndErrorMessage] = []
    ) -> ProduceResponse.PartitionProduceResponse {
        ProduceResponse.PartitionProduceResponse(
            index: index, errorCode: code.rawValue, baseOffset: -1, logAppendTimeMs: -1,
            logStartOffset: logStartOffset, recordErrors: recordErrors, errorMessage: message
        )
    }
}

extension ProduceHandler: FramingRequestHandler {
    /// As ``handle(_:context:)``, but an answer that waits for fsyncs comes ``RoutedResponse/later(_:)``,
    /// so that the connection can read and append its next Produce requests meanwhile: one
    /// group fsync then covers the requests a client pipelines, not one request at a time.
    func respond(to request: ProduceRequest, context: RequestContext) async throws -> RoutedResponse {
        let (responses, durable) = append(request, context: context, refused: await refusals(of: request, context: context))
        let throttle = max(Self.throttle(request, context: context), context.requestThrottle())
        if request.acks == 0 { return .none }
        let version = context.apiVersion
        let correlationId = context.header.correlationId
        guard !durable.isEmpty else {
            return try Self.frame(ProduceResponse(responses: responses, throttleTimeMs: throttle), version: version, correlationId: correlationId)
        }
        let waits = durable
        let answered = responses
        let timeoutMs = request.timeoutMs
        return .later {
            var responses = answered
            await Self.waitUntilDurable(waits, timeoutMs: timeoutMs, answers: &responses)
            do {
                return try Self.frame(ProduceResponse(responses: responses, throttleTimeMs: throttle), version: version, correlationId: correlationId)
            } catch {
                return .closeConnection(reason: "cannot encode the Produce response: \(error)")
            }
        }
    }

    private static func frame(_ response: ProduceResponse, version: Int16, correlationId: Int32) throws -> RoutedResponse {
        var output = ByteBuffer()
        try output.writeResponseFrame(response, version: version, correlationId: correlationId)
        return .frame(output)
    }
}
