import BrookClient
import BrookRecords
import Foundation
import NIOCore
import Synchronization

/// `brook perf produce --api producer`: the same load as ``ProducerWorkload``, but record by
/// record through the client library's ``Producer`` (its batching, linger, partitioning and
/// idempotence), as an application would send them, like kafka-producer-perf-test does with the
/// Java producer.
///
/// Latency runs from `enqueue` to the record's delivery callback. It is sampled: every
/// ``sampleEvery``th record carries a callback that notes its latency and stands for itself and
/// the records after it up to the next sample (kafka-producer-perf-test samples its percentiles
/// too); the others share one callback that only watches for failures, so the tool adds no
/// allocation per record to what it measures. The record count is exact.
struct RecordProducerWorkload {
    var records: Int
    var recordSize: Int
    var throughput: Double?
    var reportingInterval: Duration = .seconds(5)
    var sampleEvery = 16

    func run(producer: Producer, topic: String) async throws -> (stats: ProducerStats, end: ContinuousClock.Instant) {
        let payloads = PayloadPool(recordSize: recordSize)
        let clock = ContinuousClock()
        let start = clock.now
        let stats = Mutex(ProducerStats(recordSize: recordSize, reportingInterval: reportingInterval, start: start))
        let failure = Mutex<(any Error)?>(nil)
        let noteFailure: @Sendable (Result<RecordMetadata, any Error>) -> Void = { result in
            if case .failure(let error) = result { failure.withLock { $0 = $0 ?? error } }
        }
        for index in 0..<records {
            if let throughput {
                let due = start + .seconds(Double(index) / throughput)
                if due > clock.now { try await Task.sleep(until: due, clock: .continuous) }
            }
            let record = ProducerRecord(topic: topic, value: payloads.value(index))
            guard index % sampleEvery == 0 else {
                try await producer.enqueue(record, onDelivery: noteFailure)
                continue
            }
            let appendedAt = clock.now
            let stamp = ProducerStats.BatchStamp(first: appendedAt, last: appendedAt, records: min(sampleEvery, records - index))
            try await producer.enqueue(record) { result in
                switch result {
                case .success: stats.withLock { $0.acknowledged(stamp, at: .now) }
                case .failure: noteFailure(result)
                }
            }
            if let error = failure.withLock({ $0 }) { throw error }
        }
        await producer.flush()
        if let error = failure.withLock({ $0 }) { throw error }
        return (stats.withLock { $0 }, clock.now)
    }
}
