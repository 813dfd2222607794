/// How followers fetch from leaders and leaders judge them: Kafka's `replica.*` broker keys.
struct ReplicationSettings: Sendable {
    /// This broker's node id, sent as the replica id of its fetches.
    var localId: Int32
    /// `replica.fetch.wait.max.ms`: how long a leader holds a follower's fetch with nothing new.
    var fetchWaitMaxMs: Int32 = 500
    /// `replica.fetch.min.bytes`.
    var fetchMinBytes: Int32 = 1
    /// `replica.fetch.max.bytes`: per partition.
    var fetchMaxBytes: Int32 = 1_048_576
    /// `replica.fetch.response.max.bytes`: per fetch.
    var fetchResponseMaxBytes: Int32 = 10_485_760
    /// `replica.fetch.backoff.ms`: the pause after a failed fetch, or for a partition in error.
    var fetchBackoffMs: Int64 = 1_000
    /// `replica.socket.timeout.ms`: a fetch unanswered this long is abandoned (and the connection).
    var socketTimeoutMs: Int64 = 30_000
    /// `replica.lag.time.max.ms`: a follower that has not caught up for this long leaves the ISR.
    var lagTimeMaxMs: Int64 = 30_000
    /// `replication.quota.window.num` and `replication.quota.window.size.seconds` (in ms): how
    /// replication throttles measure their rate.
    var quotaWindows = 11
    var quotaWindowMs: Int64 = 1000
    /// `inter.broker.listener.name`: the listener followers reach leaders on (nil: the first).
    var interBrokerListener: String?
    /// How followers' connections to leaders are secured (the inter-broker listener's TLS and SASL).
    var security = PeerSecurity.plaintext

    init(localId: Int32) {
        self.localId = localId
    }

    init(_ config: BrokerConfig) {
        self.localId = config.nodeId
        fetchWaitMaxMs = Int32(clamping: config.int("replica.fetch.wait.max.ms"))
        fetchMinBytes = Int32(clamping: config.int("replica.fetch.min.bytes"))
        fetchMaxBytes = Int32(clamping: config.int("replica.fetch.max.bytes"))
        fetchResponseMaxBytes = Int32(clamping: config.int("replica.fetch.response.max.bytes"))
        fetchBackoffMs = Int64(config.int("replica.fetch.backoff.ms"))
        socketTimeoutMs = Int64(config.int("replica.socket.timeout.ms"))
        lagTimeMaxMs = config.int64("replica.lag.time.max.ms") ?? 30_000
        quotaWindows = max(1, config.int("replication.quota.window.num"))
        quotaWindowMs = Int64(max(1, config.int("replication.quota.window.size.seconds"))) * 1000
        interBrokerListener = config.string("inter.broker.listener.name").flatMap { $0.isEmpty ? nil : $0 }
    }
}
