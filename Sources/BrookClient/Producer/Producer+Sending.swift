import BrookModel
import BrookProtocol
import BrookRecords
import NIOCore
import Synchronization

extension Producer {
    /// The send loop: takes the batches that are due, sends them, and handles each response in
    /// a child task, until the producer closes and nothing is left.
    func runSendLoop() async {
        await withTaskGroup(of: Void.self) { group in
            while true {
                let work = accumulator.nextWork(now: .now)
                if work.isFinished { break }
                if work.batches.isEmpty {
                    await accumulator.sender.wait(until: work.nextDeadline)
                    continue
                }
                await dispatch(work.batches, group: &group)
            }
        }
    }

    /// Closes and stamps `batches`, adds new partitions to the open transaction, and writes one
    /// Produce request per leader.
    private func dispatch(_ batches: [ProducerBatch], group: inout TaskGroup<Void>) async {
        var ready: [ProducerBatch] = []
        for var batch in batches {
            do {
                try batch.close()
                ready.append(batch)
            } catch {
                complete(batch, with: error)
            }
        }
        var byLeader: [Int32: [ProducerBatch]] = [:]
        for (topic, topicBatches) in Dictionary(grouping: ready, by: \.partition.topic) {
            let layout: TopicLayout
            do {
                layout = try await self.layout(of: topic)
            } catch {
                topicBatches.forEach { retryOrFail($0, after: error) }
                continue
            }
            for batch in topicBatches {
                guard let leader = layout.leaders[batch.partition.partition], leader >= 0 else {
                    if layout.leaders[batch.partition.partition] == nil {
                        complete(batch, with: ProducerError.refused(
                            topic: topic, partition: batch.partition.partition, code: ErrorCode.unknownTopicOrPartition.rawValue,
                            message: "\(topic) has no partition \(batch.partition.partition)"))
                    } else {
                        forgetLayout(of: topic)
                        retryOrFail(batch, after: ClientError.broker(.leaderNotAvailable, nil))
                    }
                    continue
                }
                byLeader[leader, default: []].append(batch)
            }
        }
        if configuration.transactionalId != nil {
            do {
                try await addToTransaction(Set(byLeader.values.joined().map(\.partition)))
            } catch {
                for batch in byLeader.values.joined() { complete(batch, with: error) }
                return
            }
        }
        for (leader, leaderBatches) in byLeader {
            await send(leaderBatches.map(stamped), to: leader, group: &group)
        }
    }

    /// The batch with its producer fields written (sequence numbers assigned on first send).
    private func stamped(_ batch: ProducerBatch) -> ProducerBatch {
        var batch = batch
        guard configuration.isIdempotent else {
            batch.encoded?.stamp(.none)
            return batch
        }
        let fields = identity.withLock { identity -> EncodedBatch.ProducerFields in
            let sequence = batch.sequence ?? identity.nextSequence[batch.partition, default: 0]
            if batch.sequence == nil {
                identity.nextSequence[batch.partition] = sequence &+ batch.recordCount
            }
            return EncodedBatch.ProducerFields(
                producerId: identity.producerId, producerEpoch: identity.epoch, baseSequence: sequence,
                isTransactional: configuration.transactionalId != nil)
        }
        batch.sequence = fields.baseSequence
        batch.encoded?.stamp(fields)
        return batch
    }

    private func send(_ batches: [ProducerBatch], to leader: Int32, group: inout TaskGroup<Void>) async {
        let connection: BrokerConnection
        do {
            connection = try await cluster.connection(to: leader)
        } catch {
            batches.forEach { retryOrFail($0, after: error) }
            return
        }
        await limiter.acquire(leader)
        let byTopic = Dictionary(grouping: batches, by: \.partition.topic)
        let request = ProduceRequest(
            transactionalId: configuration.transactionalId, acks: configuration.acks, timeoutMs: Int32(clamping: configuration.requestTimeoutMs),
            topicData: byTopic.map { topic, topicBatches in
                .init(name: topic, partitionData: topicBatches.map { .init(index: $0.partition.partition, records: $0.encoded?.bytes) })
            })
        let size = batches.reduce(256) { $0 + ($1.encoded?.bytes.readableBytes ?? 0) + $1.partition.topic.utf8.count }
        do {
            if configuration.acks == 0 {
                let written = try connection.enqueueUnanswered(request, frameCapacity: size)
                group.addTask {
                    defer { self.limiter.release(leader) }
                    do {
                        try await written.get()
                        for batch in batches { self.complete(batch, baseOffset: -1, logAppendTime: -1) }
                    } catch {
                        await self.cluster.discard(connection, of: leader)
                        batches.forEach { self.retryOrFail($0, after: error) }
                    }
                }
            } else {
                let pending = try connection.enqueue(request, frameCapacity: size)
                group.addTask {
                    let response: ProduceResponse
                    do {
                        response = try await pending.get()
                    } catch {
                        self.limiter.release(leader)
                        await self.cluster.discard(connection, of: leader)
                        batches.forEach { self.retryOrFail($0, after: error) }
                        return
                    }
                    self.limiter.release(leader)
                    await self.handle(response, for: batches)
                }
            }
        } catch {
            limiter.release(leader)
            await cluster.discard(connection, of: leader)
            batches.forEach { retryOrFail($0, after: error) }
        }
    }

    /// Applies each partition's answer to its batch.
    private func handle(_ response: ProduceResponse, for batches: [ProducerBatch]) async {
        var renewed = false
        for batch in batches {
            let result = response.responses.first { $0.name == batch.partition.topic }?
                .partitionResponses.first { $0.index == batch.partition.partition }
            guard let result else {
                retryOrFail(batch, after: ClientError.notFound("the Produce response does not mention \(batch.partition)"))
                continue
            }
            let code = ErrorCode(rawValue: result.errorCode) ?? .unknownServerError
            switch code {
            case .none, .duplicateSequenceNumber:
                complete(batch, baseOffset: code == .none ? result.baseOffset : -1, logAppendTime: result.logAppendTimeMs)
            case .outOfOrderSequenceNumber where configuration.transactionalId == nil, .unknownProducerId where configuration.transactionalId == nil:
                // The broker lost this producer's sequence (KIP-360): start a new producer id
                // and resend from sequence 0.
                if !renewed {
                    renewed = true
                    try? await renewProducerId()
                    accumulator.resetSequences()
                }
                var reset = batch
                reset.sequence = nil
                retryOrFail(reset, after: ClientError.broker(code, result.errorMessage))
            case _ where code.isRetriable:
                if [.notLeaderOrFollower, .leaderNotAvailable, .unknownTopicOrPartition, .fencedLeaderEpoch, .unknownTopicId].contains(code) {
                    forgetLayout(of: batch.partition.topic)
                }
                retryOrFail(batch, after: ClientError.broker(code, result.errorMessage))
            default:
                let message = ([result.errorMessage] + result.recordErrors.map(\.batchIndexErrorMessage)).compactMap { $0 }.joined(separator: "; ")
                complete(batch, with: ProducerError.refused(
                    topic: batch.partition.topic, partition: batch.partition.partition, code: code.rawValue,
                    message: "\(code.kafkaName)\(message.isEmpty ? "" : ": \(message)")"))
            }
        }
    }

    /// Retries `batch` after `retry.backoff.ms`, unless `delivery.timeout.ms` has passed.
    func retryOrFail(_ batch: ProducerBatch, after error: any Error) {
        let now = ContinuousClock.now
        if now - batch.createdAt >= .milliseconds(configuration.deliveryTimeoutMs) {
            complete(batch, with: ProducerError.deliveryTimedOut(topic: batch.partition.topic, partition: batch.partition.partition))
        } else {
            accumulator.retry(batch, notBefore: now + .milliseconds(configuration.retryBackoffMs))
        }
    }

    /// Delivers the outcome first, then frees the batch: `flush` returns only once every
    /// callback of what it waited for has run.
    func complete(_ batch: ProducerBatch, baseOffset: Int64, logAppendTime: Int64) {
        batch.succeed(baseOffset: baseOffset, logAppendTime: logAppendTime)
        accumulator.finished(batch)
    }

    func complete(_ batch: ProducerBatch, with error: any Error) {
        batch.fail(error)
        accumulator.finished(batch)
    }
}
