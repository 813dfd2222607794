import BrookModel
import NIOCore

/// A change of the voter set in the log (KIP-853's VotersRecord), at `offset`.
struct VoterChange: Sendable {
    var offset: Offset
    var voters: Set<BrokerID>
}

/// Why a leader refused a voter change; each maps to the error AddRaftVoter or RemoveRaftVoter
/// answers with.
public enum VoterChangeRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    /// This replica does not lead (NOT_LEADER_OR_FOLLOWER).
    case notLeader
    /// The leader has not yet committed an entry of its epoch, or another change is not yet
    /// committed: one change at a time (REQUEST_TIMED_OUT, retried).
    case changePending
    /// The replica to add is a voter already, or the one to remove is not (DUPLICATE_VOTER,
    /// VOTER_NOT_FOUND).
    case alreadyVoter(BrokerID)
    case notVoter(BrokerID)
    /// The replica to add has not fetched lately or not caught up with the high watermark
    /// (REQUEST_TIMED_OUT).
    case notCaughtUp(BrokerID)
    /// The last voter cannot be removed (INVALID_REQUEST).
    case lastVoter

    public var description: String {
        switch self {
        case .notLeader: "this replica is not the leader"
        case .changePending: "the leader has a voter change or its epoch's first entry still uncommitted"
        case .alreadyVoter(let id): "replica \(id) is already a voter"
        case .notVoter(let id): "replica \(id) is not a voter"
        case .notCaughtUp(let id): "replica \(id) has not fetched the log up to the high watermark lately"
        case .lastVoter: "the last voter cannot be removed"
        }
    }
}

extension RaftReplica {
    /// Appends `entries` to the log, noting the voter changes among them.
    mutating func appendToLog(_ entries: [RaftEntry]) {
        var offset = log.endOffset
        log.append(entries)
        for entry in entries {
            if let voters = entry.voters { voterChanges.append(VoterChange(offset: offset, voters: voters)) }
            offset = Offset(offset.rawValue + Int64(entry.recordCount))
        }
    }

    /// Truncates the log; voter changes it removes are undone.
    mutating func truncateLog(to offset: Offset) {
        log.truncate(to: offset)
        voterChanges.removeAll { $0.offset >= log.endOffset }
    }

    /// The voter changes a log holds, from its start (at init).
    static func voterChanges(in log: Log) -> [VoterChange] {
        var changes: [VoterChange] = []
        var offset = log.startOffset
        while offset < log.endOffset {
            let entries = log.entries(from: offset, below: log.endOffset, limit: 1024)
            guard !entries.isEmpty else { break }
            for entry in entries {
                if let voters = entry.voters { changes.append(VoterChange(offset: offset, voters: voters)) }
                offset = Offset(offset.rawValue + Int64(entry.recordCount))
            }
        }
        return changes
    }

    /// After the log's start moved (a snapshot replaced what came before), the voter set there
    /// becomes the base.
    mutating func voterSetMovedToLogStart() {
        let start = log.startOffset
        let before = voterChanges.last { $0.offset < start }?.voters
        baseVoters = log.startVoters ?? before ?? baseVoters
        voterChanges.removeAll { $0.offset < start }
    }

    /// Proposes `newVoters` as the voter set (KIP-853): one voter added or removed, by a leader
    /// that has committed an entry of its epoch and has no other change uncommitted. A replica
    /// added must have fetched lately and be caught up with the high watermark. `payload` is the
    /// change as the log stores it (a VotersRecord control batch). Returns the change's offset;
    /// it takes effect at once and is done when committed. A leader removing itself resigns once
    /// its removal is committed.
    ///
    /// With `updatingEndpoints` the set stays the same and only what `payload` records about
    /// its voters changes (UpdateRaftVoter: a voter's new endpoint).
    public mutating func changeVoters(
        to newVoters: Set<BrokerID>, payload: ByteBuffer, now: Int64, updatingEndpoints: Bool = false
    ) -> Result<Offset, VoterChangeRefusal> {
        guard case .leader(var progress) = role else { return .failure(.notLeader) }
        guard highWatermark > progress.epochStartOffset, (voterChanges.last?.offset ?? Offset(-1)) < highWatermark else {
            return .failure(.changePending)
        }
        let added = newVoters.subtracting(voters)
        let removed = voters.subtracting(newVoters)
        guard !newVoters.isEmpty else { return .failure(.lastVoter) }
        if updatingEndpoints {
            guard added.isEmpty, removed.isEmpty else { return .failure(.notVoter(added.union(removed).sorted()[0])) }
        } else if let replica = added.first {
            guard added.count == 1, removed.isEmpty else { return .failure(.alreadyVoter(replica)) }
            guard (progress.lastFetch[replica] ?? .min) >= now - configuration.fetchTimeout,
                (progress.voterEnd[replica] ?? Offset(0)) >= highWatermark
            else { return .failure(.notCaughtUp(replica)) }
        } else {
            guard removed.count == 1 else {
                return .failure(removed.isEmpty ? .alreadyVoter(newVoters.sorted().first ?? id) : .notVoter(removed.sorted()[0]))
            }
        }
        let offset = log.endOffset
        appendToLog([RaftEntry(epoch: quorum.epoch, payload: payload, isControl: true, voters: newVoters)])
        // A voter that stops voting no longer counts; a new one is heard from as of now.
        for voter in added { progress.lastFetch[voter] = max(progress.lastFetch[voter] ?? .min, now) }
        role = .leader(progress)
        return .success(offset)
    }

    /// Whether this replica may stand for election: it is a voter, or the latest voter set
    /// removes it but is not yet committed (its log may be the only one holding that change:
    /// without it standing, the voters it left could never elect a leader).
    public var mayStandForElection: Bool {
        if isVoter { return true }
        guard let last = voterChanges.last, last.offset >= highWatermark else { return false }
        let previous = voterChanges.dropLast().last?.voters ?? baseVoters
        return previous.contains(id)
    }

    /// Whether this leader was removed from the voters and its removal is committed: it resigns.
    var removedFromVotersAndCommitted: Bool {
        !isVoter && (voterChanges.last?.offset ?? Offset(-1)) < highWatermark
    }
}
