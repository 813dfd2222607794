import BrookModel
import NIOCore

extension RaftReplica {
    /// Stands for the next epoch: first asking for pre-votes when `preVote` is on.
    mutating func startElection(now: Int64) {
        guard mayStandForElection else { return }
        pendingFetch = nil
        fetchingSnapshot = nil
        if configuration.preVote {
            role = .prospective(RaftRole.Ballot(granted: [id]))
            deadline = now + randomElectionTimeout()
            requestVotes(epoch: quorum.epoch.next, preVote: true)
        } else {
            becomeCandidate(now: now)
            return
        }
        countBallot(now: now)
    }

    /// A pre-vote round that did not win: back to the leader this replica knew, which may
    /// be alive after all, or another round.
    mutating func endPreVote(now: Int64) {
        if let leader = quorum.leader, leader != id {
            becomeFollower(of: leader, now: now)
        } else {
            startElection(now: now)
        }
    }

    mutating func becomeCandidate(now: Int64) {
        persist(QuorumState(epoch: quorum.epoch.next, votedFor: id))
        role = .candidate(RaftRole.Ballot(granted: [id]))
        deadline = now + randomElectionTimeout()
        requestVotes(epoch: quorum.epoch, preVote: false)
        countBallot(now: now)
    }

    mutating func requestVotes(epoch: LeaderEpoch, preVote: Bool) {
        let vote = RaftMessage.Vote(
            epoch: epoch, candidate: id, lastEpoch: log.lastEpoch, endOffset: log.endOffset, preVote: preVote
        )
        for voter in voters.sorted() where voter != id {
            send(.vote(vote), to: voter)
        }
    }

    /// Moves on once a majority granted: a prospective stands, a candidate leads.
    mutating func countBallot(now: Int64) {
        switch role {
        // Only the votes of the latest voter set count (a candidate removing itself is not in it).
        case .prospective(let ballot) where ballot.granted.intersection(voters).count >= majority:
            becomeCandidate(now: now)
        case .prospective(let ballot) where ballot.rejected.intersection(voters).count > voters.count - majority && quorum.leader != nil:
            endPreVote(now: now)
        case .candidate(let ballot) where ballot.granted.intersection(voters).count >= majority:
            becomeLeader(now: now)
        default:
            break
        }
    }

    mutating func becomeLeader(now: Int64) {
        persist(QuorumState(epoch: quorum.epoch, leader: id, votedFor: quorum.votedFor))
        var progress = RaftRole.LeaderProgress(epochStartOffset: log.endOffset)
        for voter in voters where voter != id {
            progress.lastFetch[voter] = now
        }
        appendToLog([RaftEntry(epoch: quorum.epoch, payload: .init(), isControl: true)])
        pendingFetch = nil
        nextFetchAt = nil
        progress.beginEpochSentAt = now
        role = .leader(progress)
        for voter in voters.sorted() where voter != id {
            send(.beginEpoch(.init(epoch: quorum.epoch, leader: id)), to: voter)
        }
        advanceHighWatermark(&progress)
        role = .leader(progress)
    }

    /// Gives up leadership (check-quorum failed, or the driver is shutting down gracefully):
    /// the voters most caught up are asked to stand first.
    public mutating func resign(now: Int64) -> [RaftAction] {
        stepDown(now: now)
        return drainOutbox()
    }

    mutating func stepDown(now: Int64) {
        guard case .leader(let progress) = role else { return }
        let successors = voters.filter { $0 != id }
            .sorted { (progress.voterEnd[$0] ?? Offset(0), $1) > (progress.voterEnd[$1] ?? Offset(0), $0) }
        role = .resigned
        deadline = now + randomElectionTimeout()
        for voter in successors {
            send(.endEpoch(.init(epoch: quorum.epoch, leader: id, preferredSuccessors: successors)), to: voter)
        }
    }

    /// Would this replica's log be at least as complete as the candidate's? Raft's election rule.
    func candidateLogIsCurrent(_ vote: RaftMessage.Vote) -> Bool {
        (vote.lastEpoch, vote.endOffset) >= (log.lastEpoch, log.endOffset)
    }

    mutating func handleVote(_ vote: RaftMessage.Vote, from sender: BrokerID, now: Int64) {
        var granted = false
        // With static voters only a voter can stand: a request from anyone else changes
        // nothing (Kafka answers INCONSISTENT_VOTER_SET). With dynamic ones this replica's view
        // may be behind or ahead of the candidate's.
        guard voters.contains(vote.candidate) || configuration.dynamicVoters else {
            send(.voteResult(.init(epoch: quorum.epoch, leader: knownLeader, granted: false, preVote: vote.preVote)), to: sender)
            return
        }
        if vote.preVote {
            // A pre-vote changes nothing here; it is refused while a leader is known to be alive.
            // Replicas vote whether or not they vote in their own view (KIP-853): the candidate
            // counts only its voter set's answers.
            granted = vote.epoch > quorum.epoch && candidateLogIsCurrent(vote) && !hearsFromLeader(now: now)
        } else {
            if vote.epoch > quorum.epoch { observeEpoch(vote.epoch, leader: nil, now: now) }
            if vote.epoch == quorum.epoch, quorum.leader == nil, candidateLogIsCurrent(vote),
                quorum.votedFor == nil || quorum.votedFor == vote.candidate
            {
                switch role {
                case .unattached, .prospective:
                    granted = true
                    persist(QuorumState(epoch: quorum.epoch, votedFor: vote.candidate))
                    if case .prospective = role { role = .unattached }
                    deadline = now + randomElectionTimeout()
                default:
                    break
                }
            }
        }
        send(.voteResult(.init(epoch: quorum.epoch, leader: knownLeader, granted: granted, preVote: vote.preVote)), to: sender)
    }

    /// The leader itself, or a follower that heard from its leader within the fetch timeout.
    func hearsFromLeader(now: Int64) -> Bool {
        switch role {
        case .leader: true
        case .follower: lastLeaderContact > now - configuration.fetchTimeout
        default: false
        }
    }

    mutating func handleVoteResult(_ result: RaftMessage.VoteResult, from sender: BrokerID, now: Int64) {
        if result.epoch > quorum.epoch {
            observeEpoch(result.epoch, leader: result.leader, now: now)
            return
        }
        // A leader named in our epoch is followed, unless it is the one we stopped hearing from.
        if result.epoch == quorum.epoch, let leader = result.leader, leader != id, leader != quorum.leader {
            switch role {
            case .prospective, .candidate, .unattached:
                becomeFollower(of: leader, now: now)
                return
            default:
                break
            }
        }
        switch role {
        case .prospective(var ballot) where result.preVote:
            if result.granted { ballot.granted.insert(sender) } else { ballot.rejected.insert(sender) }
            role = .prospective(ballot)
        case .candidate(var ballot) where !result.preVote && result.epoch == quorum.epoch:
            if result.granted { ballot.granted.insert(sender) } else { ballot.rejected.insert(sender) }
            role = .candidate(ballot)
        default:
            return
        }
        countBallot(now: now)
    }

    mutating func handleBeginEpoch(_ begin: RaftMessage.BeginEpoch, from sender: BrokerID, now: Int64) {
        guard voters.contains(begin.leader) || configuration.dynamicVoters else {
            send(.beginEpochResult(.init(epoch: quorum.epoch, leader: knownLeader)), to: sender)
            return
        }
        if begin.epoch > quorum.epoch {
            observeEpoch(begin.epoch, leader: begin.leader, now: now)
        } else if begin.epoch == quorum.epoch, begin.leader != id, knownLeader == nil {
            becomeFollower(of: begin.leader, now: now)
        }
        if begin.epoch == quorum.epoch, knownLeader == begin.leader, begin.leader != id {
            lastLeaderContact = now
        }
        send(.beginEpochResult(.init(epoch: quorum.epoch, leader: knownLeader)), to: sender)
    }

    mutating func handleEndEpoch(_ end: RaftMessage.EndEpoch, now: Int64) {
        guard voters.contains(end.leader) || configuration.dynamicVoters else { return }
        if end.epoch > quorum.epoch {
            observeEpoch(end.epoch, leader: nil, now: now)
        }
        guard end.epoch == quorum.epoch, case .follower(let leader) = role, leader == end.leader else { return }
        // The most caught-up successor stands at once; each later one waits a little longer.
        let position = Int64(end.preferredSuccessors.firstIndex(of: id) ?? end.preferredSuccessors.count)
        let backoff = min(configuration.electionBackoffMax, position * configuration.electionBackoffMax / 4)
        deadline = min(deadline, now + backoff + Int64(random.next() % 16))
    }
}

extension LeaderEpoch {
    /// The epoch after this one (saturating: an epoch never wraps).
    var next: LeaderEpoch { LeaderEpoch(rawValue == .max ? .max : rawValue + 1) }
}
