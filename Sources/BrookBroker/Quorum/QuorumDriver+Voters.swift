import BrookModel
import BrookProtocol
import BrookRaft
import Dispatch
import Foundation
import Logging
import NIOCore
import Synchronization

/// The quorum's membership: where its nodes listen (static voters, bootstrap servers, the
/// voter records of the log, leaders' own word) and, for a dynamic quorum (KIP-853), changes of
/// the voter set and of a voter's endpoint.
extension QuorumDriver {
    /// Where node `id` of the quorum listens, if known.
    func endpoint(of id: BrokerID) -> Voter? {
        endpoints.withLock { $0[id] }
    }

    /// Notes where a new leader says it listens (BeginQuorumEpoch's LeaderEndpoints).
    func leaderListens(_ leader: BrokerID, host: String, port: Int) {
        guard leader != configuration.localID else { return }
        learn([Voter(id: leader, host: host, port: port, directoryId: endpoint(of: leader)?.directoryId ?? .zero)])
    }

    /// Notes endpoints learned from the log or from a fetch answer; a link to a node that moved
    /// is replaced.
    func learn(_ voters: some Sequence<Voter>) {
        let moved = endpoints.withLock { known -> [BrokerID] in
            var moved: [BrokerID] = []
            for voter in voters where voter.port > 0 && known[voter.id] != voter {
                if let old = known[voter.id], old.host != voter.host || old.port != voter.port { moved.append(voter.id) }
                known[voter.id] = voter
            }
            return moved
        }
        guard !moved.isEmpty else { return }
        let stale = links.withLock { links in moved.compactMap { links.removeValue(forKey: $0) } }
        for link in stale { Task { await link.close() } }
    }

    /// The link to node `id`, made on first use from its known endpoint.
    func link(for id: BrokerID) -> QuorumPeerLink? {
        guard id != configuration.localID else { return nil }
        if let link = links.withLock({ $0[id] }) { return link }
        guard let endpoint = endpoint(of: id) else { return nil }
        return links.withLock { links in
            if let link = links[id] { return link }
            let link = QuorumPeerLink(
                peer: endpoint, clusterId: configuration.clusterId, localID: configuration.localID,
                localEndpoint: configuration.localEndpoint, security: configuration.peerSecurity)
            links[id] = link
            return link
        }
    }

    /// A change of a dynamic quorum's voters (AddRaftVoter, RemoveRaftVoter).
    enum VoterChange: Sendable {
        case add(Voter)
        /// The voter's id and, when not zero, the directory id it must have.
        case remove(BrokerID, directoryId: Uuid)
        /// A voter's new endpoint (UpdateRaftVoter).
        case update(Voter)
    }

    /// Has the leader (this node) change the voter set and waits, blocking the calling thread,
    /// until the change is committed. Throws the error AddRaftVoter and RemoveRaftVoter answer.
    func changeVoters(_ change: VoterChange, timeout: Duration) throws(QuorumError) {
        let outcome = Mutex<Result<Offset, QuorumError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        guard submit(.changeVoters(change, done: { result in
            outcome.withLock { $0 = result }
            done.signal()
        })) else { throw QuorumError("the metadata quorum has stopped", code: .notLeaderOrFollower) }
        let milliseconds = Int(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        guard done.wait(timeout: .now() + .milliseconds(max(1, milliseconds))) == .success, let result = outcome.withLock({ $0 }) else {
            throw QuorumError("the voter change was not committed within \(timeout)", code: .requestTimedOut)
        }
        _ = try result.get()
    }

    /// On the quorum's thread: proposes the new voter set, or says why not.
    func changeVoters(
        _ change: VoterChange, in core: inout Core, now: Int64, done: @escaping @Sendable (Result<Offset, QuorumError>) -> Void
    ) {
        guard configuration.isDynamic else {
            done(.failure(QuorumError(
                "the quorum's voters are static (controller.quorum.voters); only a quorum formatted with --standalone or --initial-controllers changes its voters",
                code: .unsupportedVersion)))
            return
        }
        let known = endpoints.withLock { $0 }
        var voters = core.replica.voters.sorted().map { known[$0] ?? Voter(id: $0, host: "", port: 0) }
        switch change {
        case .add(let voter):
            guard !voters.contains(where: { $0.id == voter.id }) else {
                done(.failure(QuorumError("node \(voter.id) is already a voter", code: .duplicateVoter)))
                return
            }
            voters.append(voter)
            learn([voter])
        case .remove(let id, let directoryId):
            guard let index = voters.firstIndex(where: { $0.id == id }),
                directoryId == .zero || voters[index].directoryId == .zero || voters[index].directoryId == directoryId
            else {
                done(.failure(QuorumError("node \(id) is not a voter\(directoryId == .zero ? "" : " with that directory id")", code: .voterNotFound)))
                return
            }
            voters.remove(at: index)
        case .update(let voter):
            guard let index = voters.firstIndex(where: { $0.id == voter.id }),
                voter.directoryId == .zero || voters[index].directoryId == .zero || voters[index].directoryId == voter.directoryId
            else {
                done(.failure(QuorumError("node \(voter.id) is not a voter", code: .voterNotFound)))
                return
            }
            guard voters[index].host != voter.host || voters[index].port != voter.port else {
                done(.success(core.applied))
                return
            }
            voters[index].host = voter.host
            voters[index].port = voter.port
        }
        let payload: ByteBuffer
        do {
            payload = try QuorumVoterRecords.batch(
                voters, epoch: core.replica.quorum.epoch.rawValue, timestamp: Int64(Date().timeIntervalSince1970 * 1000))
        } catch {
            done(.failure(QuorumError("cannot build the voters record: \(error)", code: .unknownServerError)))
            return
        }
        let isUpdate = if case .update = change { true } else { false }
        switch core.replica.changeVoters(to: Set(voters.map(\.id)), payload: payload, now: now, updatingEndpoints: isUpdate) {
        case .success(let offset):
            logger.info("voter set changing to \(voters.map(\.description).joined(separator: ",")) at offset \(offset)")
            core.waiting.append((Offset(offset.rawValue + 1), core.replica.quorum.epoch, done))
        case .failure(let refusal):
            let code: ErrorCode = switch refusal {
            case .notLeader: .notLeaderOrFollower
            case .changePending, .notCaughtUp: .requestTimedOut
            case .alreadyVoter: .duplicateVoter
            case .notVoter: .voterNotFound
            case .lastVoter: .invalidRequest
            }
            done(.failure(QuorumError("the voter change was refused: \(refusal)", code: code)))
        }
    }

    /// A voter of a dynamic quorum whose voter record names another endpoint than the one it
    /// listens on (it restarted on another address) has the leader update the record, at most
    /// once a second until it does: itself when it leads, else with UpdateRaftVoter.
    func updateOwnEndpointIfMoved(_ core: inout Core, now: Int64) {
        guard configuration.isDynamic, let mine = configuration.localEndpoint, core.replica.isVoter,
            let recorded = core.replica.log.voterEndpoints[configuration.localID],
            recorded.host != mine.host || recorded.port != mine.port,
            now - core.lastEndpointUpdate >= 1_000, let leader = core.replica.knownLeader
        else { return }
        core.lastEndpointUpdate = now
        var voter = mine
        voter.directoryId = recorded.directoryId
        logger.info("this voter's record names \(recorded.host):\(recorded.port); asking the leader to record \(mine.host):\(mine.port)")
        if leader == configuration.localID {
            changeVoters(.update(voter), in: &core, now: now) { _ in }
            return
        }
        guard let link = link(for: leader) else { return }
        let request = UpdateRaftVoterRequest(
            clusterId: configuration.clusterId, currentLeaderEpoch: core.replica.quorum.epoch.rawValue, voterId: voter.id.rawValue,
            voterDirectoryId: voter.directoryId,
            listeners: [.init(name: QuorumVoterRecords.listenerName, host: voter.host, port: UInt16(clamping: voter.port))],
            kRaftVersionFeature: .init(minSupportedVersion: 0, maxSupportedVersion: 1))
        let logger = self.logger
        Task {
            do {
                let response = try await link.request(request)
                if response.errorCode != 0 {
                    logger.info("the leader did not update this voter's endpoint yet: \(ErrorCode(rawValue: response.errorCode).map(String.init(describing:)) ?? String(response.errorCode))")
                }
            } catch {
                logger.info("could not ask the leader to update this voter's endpoint: \(error)")
            }
        }
    }
}
