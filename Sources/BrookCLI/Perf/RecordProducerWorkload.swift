import BrookClient
import BrookRecords
import Foundation
import NIOCore
import Synchronization

/// `brook perf produce --api producer`: the same load as ``ProducerWorkload``, but record by
/// record through the client library's ``Producer`` (its batching, linger, partitioning and
/// idempotence), as an application would send them, like kafka-producer-perf-test does with the
/// Java producer. Latency runs from `enqueue` to the record's delivery callback.
struct RecordProducerWorkload {
    var records: Int
    var recordSize: Int
    var throughput: Double?
    var reportingInterval: Duration = .seconds(5)

    func run(producer: Producer, topic: String) async throws -> (stats: ProducerStats, end: ContinuousClock.Instant) {
        let payloads = PayloadPool(recordSize: recordSize)
        let clock = ContinuousClock()
        let start = clock.now
        let stats = Mutex(ProducerStats(recordSize: recordSize, reportingInterval: reportingInterval, start: start))
        let failure = Mutex<(any Error)?>(nil)
        for index in 0..<records {
            if let throughput {
                let due = start + .seconds(Double(index) / throughput)
                if due > clock.now { try await Task.sleep(until: due, clock: .continuous) }
            }
            let appendedAt = clock.now
            try await producer.enqueue(ProducerRecord(topic: topic, value: payloads.value(index))) { result in
                switch result {
                case .success:
                    let stamp = ProducerStats.BatchStamp(first: appendedAt, last: appendedAt, records: 1)
                    stats.withLock { $0.acknowledged(stamp, at: .now) }
                case .failure(let error):
                    failure.withLock { $0 = $0 ?? error }
                }
            }
            if index % 4_096 == 0, let error = failure.withLock({ $0 }) { throw error }
        }
        await producer.flush()
        if let error = failure.withLock({ $0 }) { throw error }
        return (stats.withLock { $0 }, clock.now)
    }
}
