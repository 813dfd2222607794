/// One partition's replication state on this broker, as a value (the partition keeps it under its
/// lock; tests drive it directly): who leads in which epoch, the replicas and in-sync replicas
/// the controller last committed, and, on the leader, what each follower has fetched, from which
/// the high watermark and ISR changes follow (Kafka's ISR replication, KIP-101 and KIP-279).
struct ReplicaState: Sendable, Equatable {
    /// A follower as its leader sees it.
    struct Follower: Sendable, Equatable {
        /// The offset the follower fetches from: everything below it is in its log (-1: unknown).
        var logEndOffset: Int64 = -1
        /// Where the follower's log starts, as its last fetch said (-1: unknown).
        var logStartOffset: Int64 = -1
        /// When the follower last fetched up to the leader's log end (Kafka's lastCaughtUpTimeMs).
        var lastCaughtUpMs: Int64
        var lastFetchMs: Int64 = -1
        /// The leader's log end at the follower's last fetch.
        var lastFetchLeaderEndOffset: Int64 = -1
    }

    /// How a metadata change moved this broker's role for the partition.
    enum RoleChange: Equatable {
        case none
        /// This broker leads now, in a new leader epoch.
        case becameLeader
        /// This broker follows `leader` (-1: nobody leads) in a new leader epoch.
        case becameFollower(leader: Int32)
        /// Same role and epoch; the replicas or the ISR changed.
        case membershipChanged
    }

    let localId: Int32
    private(set) var leaderId: Int32
    private(set) var leaderEpoch: Int32
    private(set) var partitionEpoch: Int32
    private(set) var replicas: [Int32]
    /// The in-sync replicas as the controller committed them.
    private(set) var isr: [Int32]
    /// Only moves forward while this broker leads in one epoch.
    private(set) var highWatermark: Int64
    /// A follower's view of its leader's high watermark, from its last fetch (-1: none yet).
    private(set) var leaderHighWatermark: Int64 = -1
    /// The leader's log end when it took office: a follower joins the ISR only once it reaches it.
    private(set) var leaderEpochStartOffset: Int64 = 0
    private(set) var followers: [Int32: Follower] = [:]
    /// The ISR of an AlterPartition in flight: members it adds already count for the high
    /// watermark (Kafka's maximal ISR), and no other change is asked for meanwhile.
    private(set) var pendingIsr: [Int32]?

    init(localId: Int32, highWatermark: Int64 = 0) {
        self.localId = localId
        self.leaderId = -1
        self.leaderEpoch = -1
        self.partitionEpoch = -1
        self.replicas = []
        self.isr = []
        self.highWatermark = highWatermark
    }

    var isLeader: Bool { leaderId == localId }

    /// Whether the leader's high watermark is simply its log end: nobody else is in sync.
    var leadsAlone: Bool { isLeader && maximalIsr.allSatisfy { $0 == localId } }

    /// The ISR with the members an AlterPartition in flight adds.
    var maximalIsr: [Int32] {
        guard let pendingIsr else { return isr }
        return isr + pendingIsr.filter { !isr.contains($0) }
    }

    /// Takes the controller's latest state of the partition. A new leader epoch resets what the
    /// leader knew of its followers; the ISR in flight ends either way (the controller answered).
    mutating func apply(
        leader: Int32, leaderEpoch: Int32, partitionEpoch: Int32, replicas: [Int32], isr: [Int32],
        logEndOffset: Int64, now: Int64
    ) -> RoleChange {
        let newEpoch = leaderEpoch != self.leaderEpoch || leader != leaderId
        let changed = newEpoch || partitionEpoch != self.partitionEpoch || replicas != self.replicas || isr != self.isr
        guard changed else { return .none }
        self.leaderId = leader
        self.leaderEpoch = leaderEpoch
        self.partitionEpoch = partitionEpoch
        self.replicas = replicas
        self.isr = isr
        pendingIsr = nil
        if newEpoch {
            followers = [:]
            leaderHighWatermark = -1
            if leader == localId {
                leaderEpochStartOffset = logEndOffset
                // Every ISR member gets a full lag window to fetch from the new leader.
                for replica in replicas where replica != localId {
                    followers[replica] = Follower(lastCaughtUpMs: now)
                }
                return .becameLeader
            }
            return .becameFollower(leader: leader)
        }
        if isLeader {
            for replica in replicas where replica != localId && followers[replica] == nil {
                followers[replica] = Follower(lastCaughtUpMs: now)
            }
            for replica in followers.keys where !replicas.contains(replica) {
                followers[replica] = nil
            }
        }
        return .membershipChanged
    }

    /// A follower's fetch from `fetchOffset` while the leader's log ended at `leaderEndOffset`:
    /// its progress, then the high watermark. Returns whether the high watermark moved.
    mutating func recordFetch(
        replica: Int32, fetchOffset: Int64, logStartOffset: Int64 = -1, leaderEndOffset: Int64, now: Int64
    ) -> Bool {
        guard isLeader, var follower = followers[replica] else { return false }
        if fetchOffset >= leaderEndOffset {
            follower.lastCaughtUpMs = max(follower.lastCaughtUpMs, now)
        } else if fetchOffset >= follower.lastFetchLeaderEndOffset, follower.lastFetchMs >= 0 {
            follower.lastCaughtUpMs = max(follower.lastCaughtUpMs, follower.lastFetchMs)
        }
        follower.logEndOffset = fetchOffset
        follower.logStartOffset = logStartOffset
        follower.lastFetchLeaderEndOffset = leaderEndOffset
        follower.lastFetchMs = now
        followers[replica] = follower
        return advanceHighWatermark(leaderEndOffset: leaderEndOffset)
    }

    /// The in-sync followers that hold `offset` (it lies within their logs), with their progress:
    /// where a leader may send a consumer to read instead (KIP-392).
    func followersHolding(_ offset: Int64) -> [(id: Int32, logEndOffset: Int64, lastCaughtUpMs: Int64)] {
        guard isLeader else { return [] }
        return isr.compactMap { member in
            guard member != localId, let follower = followers[member], follower.logEndOffset >= offset,
                follower.logStartOffset >= 0, follower.logStartOffset <= offset
            else { return nil }
            return (member, follower.logEndOffset, follower.lastCaughtUpMs)
        }
    }

    /// Moves the leader's high watermark to the lowest log end of the (maximal) ISR, never back.
    mutating func advanceHighWatermark(leaderEndOffset: Int64) -> Bool {
        guard isLeader else { return false }
        var candidate = leaderEndOffset
        for member in maximalIsr where member != localId {
            guard let follower = followers[member], follower.logEndOffset >= 0 else { return false }
            candidate = min(candidate, follower.logEndOffset)
        }
        guard candidate > highWatermark else { return false }
        highWatermark = candidate
        return true
    }

    /// A follower takes its leader's high watermark, as far as its own log reaches.
    mutating func followHighWatermark(_ leaderHighWatermark: Int64, logEndOffset: Int64) {
        guard !isLeader else { return }
        self.leaderHighWatermark = leaderHighWatermark
        highWatermark = min(leaderHighWatermark, logEndOffset)
    }

    /// The log was truncated or restarted below the high watermark (a follower, or a fresh log).
    mutating func capHighWatermark(_ logEndOffset: Int64) {
        highWatermark = min(highWatermark, logEndOffset)
    }

    /// Raises the high watermark to `offset` (a follower whose log now starts above it).
    mutating func raiseHighWatermark(to offset: Int64) {
        highWatermark = max(highWatermark, offset)
    }

    /// The ISR to ask the controller for now, if any, and marks it in flight: followers that
    /// reached the high watermark (and the leader's epoch start) join; followers that have not
    /// caught up for `maxLagMs` leave. Only replicas `canJoin` allows join (a fenced broker or
    /// one shutting down would be refused). One change at a time, as Kafka's leaders ask.
    mutating func proposeIsrChange(now: Int64, maxLagMs: Int64, canJoin: (Int32) -> Bool = { _ in true }) -> [Int32]? {
        guard isLeader, pendingIsr == nil else { return nil }
        var proposed = isr
        for replica in replicas where replica != localId && !isr.contains(replica) && canJoin(replica) {
            guard let follower = followers[replica], follower.logEndOffset >= highWatermark,
                follower.logEndOffset >= leaderEpochStartOffset
            else { continue }
            proposed.append(replica)
        }
        proposed.removeAll { member in
            guard member != localId else { return false }
            guard let follower = followers[member] else { return true }
            return now - follower.lastCaughtUpMs > maxLagMs
        }
        if !proposed.contains(localId) { proposed.insert(localId, at: 0) }
        guard Set(proposed) != Set(isr) else { return nil }
        pendingIsr = proposed
        return proposed
    }

    /// The AlterPartition in flight failed: the next check may ask again.
    mutating func isrChangeFailed() {
        pendingIsr = nil
    }
}
