/// Latencies in microseconds, counted in a fixed set of log-linear buckets: exact below 1,024 µs,
/// then 512 buckets per power of two (at most 0.2% relative error), up to 2^40 µs. The table is
/// allocated once; recording touches one bucket, or a few when spreading a batch.
struct LatencyHistogram {
    private static let linearBuckets = 1_024
    private static let subBuckets = 512
    private static let maxMagnitude = 31
    private var counts = [Int](repeating: 0, count: (maxMagnitude + 1) * subBuckets + linearBuckets)
    private(set) var count = 0
    private(set) var sumMicros = 0.0
    private(set) var maxMicros = 0

    /// Records `count` samples of `micros`.
    mutating func record(_ micros: Int, count: Int = 1) {
        let micros = max(0, micros)
        counts[Self.index(of: micros)] += count
        self.count += count
        sumMicros += Double(micros) * Double(count)
        maxMicros = max(maxMicros, micros)
    }

    /// Records `count` samples spread evenly over `lower...upper`: the records of one batch,
    /// appended one after the other and acknowledged together. At most 64 points are recorded.
    mutating func recordSpread(from lower: Int, to upper: Int, count: Int) {
        guard count > 0 else { return }
        let lower = max(0, lower), upper = max(lower, upper)
        let points = min(count, 64, upper - lower + 1)
        for point in 0..<points {
            let share = count / points + (point < count % points ? 1 : 0)
            let micros = points == 1 ? lower : lower + (upper - lower) * point / (points - 1)
            record(micros, count: share)
        }
    }

    /// The smallest recorded value at or above the `quantile` of the samples (0 when empty).
    func percentile(_ quantile: Double) -> Int {
        guard count > 0 else { return 0 }
        let rank = max(1, Int((quantile * Double(count)).rounded(.up)))
        var seen = 0
        for (index, bucketCount) in counts.enumerated() where bucketCount > 0 {
            seen += bucketCount
            if seen >= rank { return min(Self.value(at: index), maxMicros) }
        }
        return maxMicros
    }

    var averageMicros: Double { count == 0 ? 0 : sumMicros / Double(count) }

    private static func index(of micros: Int) -> Int {
        guard micros >= linearBuckets else { return micros }
        let magnitude = min(maxMagnitude, (Int.bitWidth - micros.leadingZeroBitCount) - 10)
        let sub = min(micros >> magnitude, linearBuckets - 1)  // 512..<1024
        return magnitude * subBuckets + sub
    }

    /// The middle of bucket `index`.
    private static func value(at index: Int) -> Int {
        guard index >= linearBuckets else { return index }
        let magnitude = index / subBuckets - 1
        let sub = index - magnitude * subBuckets
        return (sub << magnitude) + (1 << magnitude) / 2
    }
}
