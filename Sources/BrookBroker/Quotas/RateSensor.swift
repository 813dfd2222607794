/// A rate over sliding sample windows, as Kafka's quota sensors measure it: `count` samples of
/// `windowMs` each; the rate is what the live samples hold over the time they span, counted as at
/// least one whole window. (Kafka counts at least `count - 1` windows, which lets a new client
/// send ten windows' worth at once: over 30 s at 1 MiB/s, 1.3 times its quota. Brook does not.)
struct RateSensor: Sendable {
    private struct Sample {
        var start: Int64
        var value: Double
    }

    let windowMs: Int64
    let count: Int
    private var samples: [Sample] = []

    init(windowMs: Int64, count: Int) {
        self.windowMs = max(1, windowMs)
        self.count = max(2, count)
    }

    /// Adds `value` at `now` (milliseconds).
    mutating func record(_ value: Double, now: Int64) {
        purge(now)
        if let last = samples.last, now < last.start + windowMs {
            samples[samples.count - 1].value += value
        } else {
            samples.append(Sample(start: now - now % windowMs, value: value))
            if samples.count > count { samples.removeFirst(samples.count - count) }
        }
    }

    /// The rate per second at `now`, and the span (ms) it was measured over.
    mutating func rate(now: Int64) -> (perSecond: Double, spanMs: Int64) {
        purge(now)
        guard let oldest = samples.first else { return (0, windowMs) }
        let span = max(now - oldest.start, windowMs)
        let total = samples.reduce(0) { $0 + $1.value }
        return (total * 1000 / Double(span), span)
    }

    /// How long a client must wait for the rate to fall back to `bound` (Kafka's
    /// `(rate - bound) / bound * span`), at most the whole sampled time; 0 when within it.
    mutating func throttleMs(bound: Double, now: Int64) -> Int64 {
        let (rate, span) = rate(now: now)
        guard bound > 0, rate > bound else { return 0 }
        let wait = (rate - bound) / bound * Double(span)
        return min(Int64(wait.rounded(.up)), windowMs * Int64(count))
    }

    /// Drops samples that ended before the sampled time.
    private mutating func purge(_ now: Int64) {
        let horizon = now - windowMs * Int64(count)
        while let first = samples.first, first.start + windowMs <= horizon { samples.removeFirst() }
    }
}
