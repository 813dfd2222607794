/// An offset committed for one partition by a group.
public struct CommittedOffset: Sendable, Equatable {
    public var offset: Int64
    /// The leader epoch of the last consumed record, -1 when unknown.
    public var leaderEpoch: Int32
    public var metadata: String
    public var commitTimestamp: Int64
    /// Set only by OffsetCommit v1–v4 with an explicit retention; Kafka then writes value v1.
    public var expireTimestamp: Int64?

    public init(offset: Int64, leaderEpoch: Int32 = -1, metadata: String = "", commitTimestamp: Int64, expireTimestamp: Int64? = nil) {
        self.offset = offset
        self.leaderEpoch = leaderEpoch
        self.metadata = metadata
        self.commitTimestamp = commitTimestamp
        self.expireTimestamp = expireTimestamp
    }
}
