import BrookClient
import BrookRecords
import Foundation
import NIOCore

/// The load `brook perf produce` offers: `records` records of `recordSize` bytes, built into v2
/// batches of up to `batchSize` bytes, each batch sent to the next partition in turn.
///
/// Unthrottled, each batch is filled at once and sent; the sender's in-flight limit is the
/// only brake. Throttled, records are appended as they fall due at `throughput` records/s, and a
/// batch is sent when full or when `linger` has passed since its first record (Kafka's
/// `batch.size` and `linger.ms`). Work per record is one ``BatchEncoder/append(value:timestamp:)``
/// (the record's framing and a copy of its value); clocks are read per chunk of due records, and
/// bookkeeping is per batch.
struct ProducerWorkload {
    var records: Int
    var recordSize: Int
    /// Records per second; nil sends as fast as the broker acknowledges.
    var throughput: Double?
    var compression: CompressionCodec
    var batchSize: Int
    var linger: Duration
    var reportingInterval: Duration = .seconds(5)

    /// Sends the records through `sender` and returns what was acknowledged.
    func run(sender: ProduceSender<ProducerStats.BatchStamp>) async throws -> (stats: ProducerStats, end: ContinuousClock.Instant) {
        let partitions = sender.layout.partitions
        let payloads = PayloadPool(recordSize: recordSize)
        // An upper bound of one record's framing (length, attributes, deltas, key, value length,
        // header count) so that a batch stays within batchSize.
        let recordBound = recordSize + 20
        let recordsLimit = batchSize - RecordBatch.headerSize
        let clock = ContinuousClock()
        let start = clock.now
        var stats = ProducerStats(recordSize: recordSize, reportingInterval: reportingInterval, start: start)
        var appended = 0
        var batches = 0
        while appended < records {
            var encoder = BatchEncoder(compression: compression, capacity: batchSize)
            var first: ContinuousClock.Instant?
            var last = start
            while true {
                let now = clock.now
                let due = throughput.map { min(records, Int($0 * (now - start).seconds) + 1) } ?? records
                if due > appended {
                    let timestamp = Int64(Date().timeIntervalSince1970 * 1_000)
                    if first == nil { first = now }
                    while appended < due, encoder.recordCount == 0 || encoder.recordsSize + recordBound <= recordsLimit {
                        encoder.append(value: payloads.value(appended), timestamp: timestamp)
                        appended += 1
                    }
                    last = clock.now
                }
                let full = encoder.recordCount > 0 && encoder.recordsSize + recordBound > recordsLimit
                guard !full, appended < records, let throughput else { break }
                let lingerEnd = first.map { $0 + linger }
                if let lingerEnd, now >= lingerEnd { break }
                // Wake when the next record falls due, but at most once a millisecond: at high
                // rates a wake-up per record would cost more than the records.
                let nextDue = max(start + .seconds(Double(appended) / throughput), now + .milliseconds(1))
                try await Task.sleep(until: min(nextDue, lingerEnd ?? nextDue), clock: .continuous)
            }
            let stamp = ProducerStats.BatchStamp(first: first ?? last, last: last, records: Int(encoder.recordCount))
            let partition = partitions[batches % partitions.count]
            batches += 1
            try await sender.send(try encoder.build(), to: partition, tag: stamp) { stats.acknowledged($0) }
        }
        try await sender.flush { stats.acknowledged($0) }
        return (stats, clock.now)
    }
}
