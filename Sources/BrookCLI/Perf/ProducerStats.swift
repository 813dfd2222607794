import BrookClient
import Foundation

/// What `brook perf produce` has acknowledged: totals with a latency histogram, and the current
/// reporting window, printed in kafka-producer-perf-test's words.
///
/// Latency is counted per record, with batch-level work: a batch's records were appended
/// between `first` and `last` and acknowledged together, so their latencies spread evenly from
/// (ack − last) to (ack − first).
struct ProducerStats {
    /// When a batch's records were appended, and how many there were.
    struct BatchStamp: Sendable {
        var first: ContinuousClock.Instant
        var last: ContinuousClock.Instant
        var records: Int
    }

    private struct Window {
        var start: ContinuousClock.Instant
        var records = 0
        var latencySumMicros = 0.0
        var maxMicros = 0
    }

    let recordSize: Int
    let reportingInterval: Duration
    let start: ContinuousClock.Instant
    private(set) var records = 0
    private(set) var histogram = LatencyHistogram()
    private var window: Window

    init(recordSize: Int, reportingInterval: Duration, start: ContinuousClock.Instant) {
        self.recordSize = recordSize
        self.reportingInterval = reportingInterval
        self.start = start
        self.window = Window(start: start)
    }

    /// Counts an acknowledged batch; prints the window's line when the interval has passed.
    mutating func acknowledged(_ ack: ProduceSender<BatchStamp>.Acknowledgement) {
        acknowledged(ack.tag, at: ack.receivedAt)
    }

    /// Counts `stamp.records` records acknowledged `at` that moment.
    mutating func acknowledged(_ stamp: BatchStamp, at receivedAt: ContinuousClock.Instant) {
        let upper = (receivedAt - stamp.first).microseconds
        let lower = (receivedAt - stamp.last).microseconds
        histogram.recordSpread(from: lower, to: upper, count: stamp.records)
        records += stamp.records
        window.records += stamp.records
        window.latencySumMicros += Double(lower + upper) / 2 * Double(stamp.records)
        window.maxMicros = max(window.maxMicros, upper)
        let now = ContinuousClock.now
        if now - window.start >= reportingInterval {
            printWindow(until: now)
            window = Window(start: now)
        }
    }

    /// kafka-producer-perf-test's progress line.
    private func printWindow(until now: ContinuousClock.Instant) {
        let seconds = (now - window.start).seconds
        let average = window.records == 0 ? 0 : window.latencySumMicros / Double(window.records) / 1_000
        print(String(
            format: "%ld records sent, %.1f records/sec (%.2f MB/sec), %.1f ms avg latency, %.1f ms max latency.",
            window.records, Double(window.records) / seconds, megabytes(window.records) / seconds,
            average, Double(window.maxMicros) / 1_000
        ))
        fflush(nil)  // every output stream: progress must show through a pipe
    }

    /// kafka-producer-perf-test's final line. Percentiles are printed with two decimals (Kafka
    /// prints whole milliseconds, which hides everything below 1 ms).
    func summary(until end: ContinuousClock.Instant) -> String {
        let seconds = (end - start).seconds
        let ms = { (micros: Int) in Double(micros) / 1_000 }
        return String(
            format: "%ld records sent, %f records/sec (%.2f MB/sec), %.2f ms avg latency, %.2f ms max latency, %.2f ms 50th, %.2f ms 95th, %.2f ms 99th, %.2f ms 99.9th.",
            records, Double(records) / seconds, megabytes(records) / seconds, histogram.averageMicros / 1_000,
            ms(histogram.maxMicros), ms(histogram.percentile(0.5)), ms(histogram.percentile(0.95)),
            ms(histogram.percentile(0.99)), ms(histogram.percentile(0.999))
        )
    }

    /// Payload megabytes (2^20 bytes, as Kafka's tools count them) in `records` records.
    private func megabytes(_ records: Int) -> Double {
        Double(records) * Double(recordSize) / 1_048_576
    }
}

extension Duration {
    /// Whole microseconds, rounded down.
    var microseconds: Int {
        let parts = components
        return Int(parts.seconds) * 1_000_000 + Int(parts.attoseconds / 1_000_000_000_000)
    }
}
