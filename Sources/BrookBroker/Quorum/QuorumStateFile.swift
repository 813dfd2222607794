import BrookModel
import BrookRaft
import BrookStorage
import Foundation

/// The `quorum-state` file in the metadata log's directory: what a Raft replica must not forget
/// across a restart (its epoch, the leader it knows, its vote).
///
/// Format: KRaft's JSON, one object, e.g.
/// `{"clusterId":"","leaderId":1,"leaderEpoch":3,"votedId":1,"appliedOffset":0,"currentVoters":[{"voterId":1}],"data_version":0}`.
/// Version 0 lists the static voters; version 1 (KIP-853) leaves them to the log. `leaderId`
/// and `votedId` are -1 when unknown. Writes replace the file atomically and are fsynced (file
/// and directory) before `write` returns, so a crash leaves the old state or the new one.
/// Not thread-safe: the quorum's driver is its only user.
struct QuorumStateFile {
    static let fileName = "quorum-state"
    let writer: AtomicFileWriter

    init(directory: String) {
        writer = AtomicFileWriter(path: directory + "/" + Self.fileName)
    }

    /// Why a quorum-state file cannot be used; the broker refuses to start rather than guess a
    /// vote it may already have cast.
    struct Corrupt: Error, CustomStringConvertible {
        var path: String
        var reason: String
        var description: String { "quorum state file \(path) is unusable: \(reason)" }
    }

    private struct Contents: Codable {
        var clusterId: String?
        var leaderId: Int32
        var leaderEpoch: Int32
        var votedId: Int32
        var appliedOffset: Int64?
        var currentVoters: [Voter]?
        var data_version: Int?

        struct Voter: Codable {
            var voterId: Int32
        }
    }

    /// The persisted state, or nil when the replica has never run.
    func read() throws -> QuorumState? {
        guard let bytes = try writer.read() else { return nil }
        let contents: Contents
        do {
            contents = try JSONDecoder().decode(Contents.self, from: Data(bytes))
        } catch {
            throw Corrupt(path: writer.path, reason: "not KRaft's quorum-state JSON (\(error))")
        }
        guard (0...1).contains(contents.data_version ?? 0) else {
            throw Corrupt(path: writer.path, reason: "data_version \(contents.data_version ?? 0) is not 0 or 1")
        }
        guard contents.leaderEpoch >= 0 || (contents.leaderId < 0 && contents.votedId < 0) else {
            throw Corrupt(path: writer.path, reason: "leaderEpoch \(contents.leaderEpoch) with a leader or a vote")
        }
        guard contents.leaderId >= -1, contents.votedId >= -1 else {
            throw Corrupt(path: writer.path, reason: "leaderId \(contents.leaderId) or votedId \(contents.votedId) is not a node id or -1")
        }
        return QuorumState(
            epoch: LeaderEpoch(max(0, contents.leaderEpoch)),
            leader: contents.leaderId >= 0 ? BrokerID(contents.leaderId) : nil,
            votedFor: contents.votedId >= 0 ? BrokerID(contents.votedId) : nil
        )
    }

    /// Replaces the file with `state`; `voters` is written for static quorums (version 0).
    func write(_ state: QuorumState, clusterId: String, voters: Set<BrokerID>?) throws {
        let contents = Contents(
            clusterId: clusterId, leaderId: state.leader?.rawValue ?? -1, leaderEpoch: state.epoch.rawValue,
            votedId: state.votedFor?.rawValue ?? -1, appliedOffset: 0,
            currentVoters: voters.map { $0.sorted().map { Contents.Voter(voterId: $0.rawValue) } },
            data_version: voters == nil ? 1 : 0
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try writer.write(Array(try encoder.encode(contents)))
    }
}
