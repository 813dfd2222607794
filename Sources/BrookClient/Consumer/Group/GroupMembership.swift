import BrookProtocol
import BrookModel

/// What a subscribed consumer follows: a list of topics or a regular expression over topic
/// names (matching whole names, as Java's `Pattern.matches`).
enum Subscription: Sendable, Equatable {
    case topics(Set<String>)
    case pattern(String)
}

/// A subscribed consumer's membership in its group, one implementation per group protocol:
/// ``ClassicGroupMember`` and ``ConsumerGroupMember`` (KIP-848). Each runs a background task
/// that joins, heartbeats and rebalances, and applies assignments to its ``Consumer``.
protocol GroupMembership: Sendable {
    /// Starts taking part in the group.
    func start()
    /// The consumer polled (for `max.poll.interval.ms`).
    func polled()
    /// The consumer subscribed to something else.
    func subscribe(_ subscription: Subscription)
    /// Gives up the partitions (committing with auto-commit), leaves the group and stops.
    func close() async
}

/// Runs `work` but waits for it at most `timeout`; past that the work goes on, abandoned.
///
/// For farewells (the last commit, LeaveGroup) to a cluster that may have gone away: the
/// client's requests have no deadline of their own, so a close must not wait for them forever
/// (the Java client's `close()` waits 30 s by default).
func waitAtMost(_ timeout: Duration, for work: @escaping @Sendable () async -> Void) async {
    let done = WakeSignal()
    Task {
        await work()
        done.signal()
    }
    await done.wait(until: .now + timeout)
}

/// When a subscribed consumer commits its positions by itself (`enable.auto.commit`): every
/// `auto.commit.interval.ms`, from the membership loop, so that these commits never overtake
/// (and undo) the commit of a revocation.
struct AutoCommitSchedule: Sendable {
    let intervalMs: Int64?
    private(set) var next: Int64
    private var committed: [TopicPartition: Int64] = [:]

    init(_ configuration: ConsumerConfiguration, now: Int64) {
        intervalMs = configuration.enableAutoCommit ? Int64(max(configuration.autoCommitIntervalMs, 1)) : nil
        next = intervalMs.map { now + $0 } ?? .max
    }

    /// Commits the positions that moved, when the interval has passed.
    mutating func commitIfDue(_ consumer: Consumer, now: Int64) async {
        guard let intervalMs, now >= next else { return }
        committed = await consumer.commitMovedPositions(since: committed)
        next = now + intervalMs
    }
}

/// Milliseconds since the membership started: the clock the state machines are driven with.
struct MembershipClock: Sendable {
    let origin = ContinuousClock.now

    var now: Int64 { milliseconds(ContinuousClock.now - origin) }

    /// The instant of a time in milliseconds; nil for `Int64.max` (never).
    func instant(_ milliseconds: Int64) -> ContinuousClock.Instant? {
        milliseconds == .max ? nil : origin + .milliseconds(milliseconds)
    }

    private func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}

extension Cluster {
    /// The topics `subscription` stands for now: the names given, or the topics whose whole
    /// name matches the pattern (internal ones left out when `excludeInternal`).
    func resolve(_ subscription: Subscription, excludeInternal: Bool) async throws -> Set<String> {
        switch subscription {
        case .topics(let names):
            return names
        case .pattern(let pattern):
            let regex = try Regex(pattern)
            let metadata = try await metadata(topics: nil)
            return Set(metadata.topics.compactMap { topic -> String? in
                guard let name = topic.name, topic.errorCode == 0, !(excludeInternal && topic.isInternal),
                      (try? regex.wholeMatch(in: name)) != nil else { return nil }
                return name
            })
        }
    }

    /// The partition count of each of `topics` that exists.
    func partitionCounts(_ topics: Set<String>) async throws -> [String: Int32] {
        guard !topics.isEmpty else { return [:] }
        var counts: [String: Int32] = [:]
        for topic in try await metadata(topics: topics.sorted()).topics where topic.errorCode == 0 {
            if let name = topic.name { counts[name] = Int32(topic.partitions.count) }
        }
        return counts
    }
}
