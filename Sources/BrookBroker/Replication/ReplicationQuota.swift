import Synchronization

/// A replication throttle (Kafka's replication quotas, KIP-73): `leader.replication.throttled.rate`
/// on the leaders' side, `follower.replication.throttled.rate` on the followers'. Only the
/// replicas a topic lists in `leader.replication.throttled.replicas` /
/// `follower.replication.throttled.replicas` count, and only while they are out of the ISR (so a
/// throttle never pushes an in-sync replica out): once their bytes over the measured windows
/// exceed the rate, they get nothing until the rate falls back under it.
final class ReplicationQuota: Sendable {
    /// Bytes per second; `Int64.max` means no throttle, checked without a lock.
    private let limit: Atomic<Int64>
    private let rate: Mutex<ByteRate>

    init(bytesPerSecond: Int64 = .max, windows: Int = 11, windowMs: Int64 = 1000) {
        limit = Atomic(max(0, bytesPerSecond))
        rate = Mutex(ByteRate(windows: windows, windowMs: windowMs))
    }

    /// Whether a rate is set at all.
    var isLimited: Bool { limit.load(ordering: .relaxed) != .max }

    func setLimit(_ bytesPerSecond: Int64) {
        limit.store(max(0, bytesPerSecond), ordering: .relaxed)
    }

    /// Whether the throttled replicas' bytes went over the rate.
    func isExceeded(nowMs: Int64) -> Bool {
        let limit = limit.load(ordering: .relaxed)
        guard limit != .max else { return false }
        return rate.withLock { $0.bytesPerSecond(nowMs: nowMs) } > Double(limit)
    }

    /// Counts bytes a throttled replica was sent (or fetched).
    func record(_ bytes: Int, nowMs: Int64) {
        guard bytes > 0, isLimited else { return }
        rate.withLock { $0.record(Int64(bytes), nowMs: nowMs) }
    }
}

/// A byte rate measured over the last `windows` windows of `windowMs` (Kafka's sampled rate:
/// `replication.quota.window.num` × `replication.quota.window.size.seconds`). While fewer
/// windows have passed, the elapsed time counts as at least all but one of them, so one burst
/// at the start does not read as an enormous rate.
struct ByteRate: Sendable {
    private(set) var windows: Int
    private(set) var windowMs: Int64
    /// (window start, bytes) of the windows still measured, oldest first.
    private(set) var samples: [(start: Int64, bytes: Int64)] = []

    init(windows: Int, windowMs: Int64) {
        self.windows = max(1, windows)
        self.windowMs = max(1, windowMs)
    }

    mutating func record(_ bytes: Int64, nowMs: Int64) {
        expire(nowMs: nowMs)
        if let last = samples.last, nowMs < last.start + windowMs {
            samples[samples.count - 1].bytes = last.bytes.addingReportingOverflow(bytes).overflow ? .max : last.bytes + bytes
        } else {
            samples.append((nowMs, bytes))
        }
    }

    func bytesPerSecond(nowMs: Int64) -> Double {
        let live = samples.filter { $0.start > nowMs - Int64(windows) * windowMs }
        guard let oldest = live.first else { return 0 }
        let total = live.reduce(0.0) { $0 + Double($1.bytes) }
        let elapsed = max(nowMs - oldest.start, Int64(windows - 1) * windowMs, 1)
        return total * 1000 / Double(elapsed)
    }

    private mutating func expire(nowMs: Int64) {
        let horizon = nowMs - Int64(windows) * windowMs
        samples.removeAll { $0.start <= horizon }
    }
}

/// A topic's `leader.replication.throttled.replicas` or `follower.replication.throttled.replicas`:
/// `*` for every replica, else `partition:broker` pairs separated by commas.
struct ThrottledReplicas: Sendable, Equatable {
    private(set) var all = false
    private(set) var pairs: Set<Pair> = []

    struct Pair: Hashable, Sendable {
        var partition: Int32
        var broker: Int32
    }

    /// Parses the config value (the topic config's validation has refused anything else).
    init(_ text: String) {
        for entry in text.split(separator: ",") {
            let trimmed = String(entry).trimmingCharacters(in: " \t")
            if trimmed == "*" { all = true; continue }
            let parts = trimmed.split(separator: ":")
            guard parts.count == 2, let partition = Int32(parts[0]), let broker = Int32(parts[1]) else { continue }
            pairs.insert(Pair(partition: partition, broker: broker))
        }
    }

    func contains(partition: Int32, broker: Int32) -> Bool {
        all || pairs.contains(Pair(partition: partition, broker: broker))
    }
}
