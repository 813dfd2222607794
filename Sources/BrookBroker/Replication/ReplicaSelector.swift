/// `replica.selector.class`: which replica a consumer reads from (KIP-392). A consumer that
/// sends Fetch v11+ says which rack it is in (`client.rack`); its partition's leader may then
/// name a closer replica in the response (`preferred_read_replica`), which the consumer fetches
/// from instead until it errs or the leader changes.
enum ReplicaSelector: Sendable, Equatable {
    /// Kafka's default (`LeaderSelector`, or no class): consumers read from the leader.
    case leader
    /// Kafka's `RackAwareReplicaSelector`: a replica in the consumer's rack (the leader when it
    /// is one of them, else the most caught-up), or the leader when no replica is in that rack.
    case rackAware

    static let leaderClassName = "org.apache.kafka.common.replica.LeaderSelector"
    static let rackAwareClassName = "org.apache.kafka.common.replica.RackAwareReplicaSelector"
    static let classNames = [leaderClassName, rackAwareClassName]

    /// The selector a `replica.selector.class` value names (nil or empty: the leader's).
    init?(className: String?) {
        switch (className?.trimmingCharacters(in: " \t") ?? "").lowercased() {
        case "", Self.leaderClassName.lowercased(): self = .leader
        case Self.rackAwareClassName.lowercased(): self = .rackAware
        default: return nil
        }
    }

    /// A follower that could serve the fetch, as the leader knows it.
    struct Candidate: Sendable, Equatable {
        var brokerId: Int32
        var rack: String?
        var logEndOffset: Int64
        /// When it last caught up with the leader.
        var lastCaughtUpMs: Int64
    }

    /// The replica a consumer in `clientRack` should read from, nil for the leader (which is in
    /// `leaderRack`). The candidates are the followers that hold the fetch offset and may serve it.
    func preferredReadReplica(clientRack: String, leaderRack: String?, followers: [Candidate]) -> Int32? {
        guard self == .rackAware, !clientRack.isEmpty, leaderRack != clientRack else { return nil }
        let sameRack = followers.filter { $0.rack == clientRack }
        let best = sameRack.max { a, b in
            (a.logEndOffset, a.lastCaughtUpMs, -a.brokerId) < (b.logEndOffset, b.lastCaughtUpMs, -b.brokerId)
        }
        return best?.brokerId
    }
}
