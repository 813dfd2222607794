import BrookModel
import NIOCore

extension RaftReplica {
    // MARK: Leader

    mutating func tickLeader(_ progress: inout RaftRole.LeaderProgress, now: Int64) {
        // Check quorum: a leader cut off from a majority resigns instead of serving stale reads.
        let window = configuration.fetchTimeout * 3 / 2
        let inTouch = voters.filter { $0 == id || (progress.lastFetch[$0] ?? .min) >= now - window }.count
        if inTouch < majority || removedFromVotersAndCommitted {
            role = .leader(progress)
            stepDown(now: now)
            return
        }
        if now - progress.beginEpochSentAt >= configuration.requestTimeout {
            progress.beginEpochSentAt = now
            for voter in voters.sorted() where voter != id && !progress.acknowledged.contains(voter) {
                send(.beginEpoch(.init(epoch: quorum.epoch, leader: id)), to: voter)
            }
        }
        role = .leader(progress)
    }

    /// Commits the largest offset a majority of voters hold durably, once the leader's
    /// epoch-start entry is among them. Never moves back.
    mutating func advanceHighWatermark(_ progress: inout RaftRole.LeaderProgress) {
        let ends = voters.map { $0 == id ? log.durableEndOffset : progress.voterEnd[$0] ?? Offset(0) }.sorted(by: >)
        let committable = ends[majority - 1]
        if committable > progress.epochStartOffset, committable > highWatermark {
            highWatermark = committable
        }
    }

    mutating func handleFetch(_ fetch: RaftMessage.Fetch, from sender: BrokerID, now: Int64) {
        guard case .leader(var progress) = role, fetch.epoch == quorum.epoch else {
            send(
                .fetchResult(.init(
                    epoch: quorum.epoch, leader: knownLeader, outcome: .notLeader,
                    highWatermark: highWatermark, fetchOffset: fetch.fetchOffset, correlation: fetch.correlation
                )),
                to: sender
            )
            return
        }
        let (epoch, leader) = (quorum.epoch, id)
        func reply(_ outcome: RaftMessage.FetchResult.Outcome, _ highWatermark: Offset) -> RaftMessage {
            .fetchResult(.init(
                epoch: epoch, leader: leader, outcome: outcome, highWatermark: highWatermark,
                fetchOffset: fetch.fetchOffset, correlation: fetch.correlation
            ))
        }
        // Below our log's start, or in an epoch only our start snapshot holds: the fetcher
        // needs our latest snapshot (KIP-630).
        if let start = log.startSnapshot,
            fetch.fetchOffset < start.endOffset || fetch.lastFetchedEpoch < start.epoch
                || (fetch.fetchOffset == start.endOffset && fetch.lastFetchedEpoch != start.epoch)
        {
            recordContact(from: sender, &progress, now: now)
            send(reply(.snapshot(log.latestSnapshot ?? start), highWatermark), to: sender)
            return
        }
        // The fetcher's last entry must be one of ours: same epoch, and that epoch reaches its
        // fetch offset. If not, it truncates to where our copy of that epoch ends.
        if fetch.fetchOffset > Offset(0) || fetch.lastFetchedEpoch != .none {
            let ours = log.endOffset(forEpoch: fetch.lastFetchedEpoch)
            if ours.epoch != fetch.lastFetchedEpoch || ours.endOffset < fetch.fetchOffset {
                send(reply(.diverging(ours), highWatermark), to: sender)
                return
            }
        }
        // Observers' progress is kept too: one may be added as a voter once caught up.
        progress.voterEnd[sender] = fetch.fetchOffset
        progress.lastFetch[sender] = now
        if voters.contains(sender) {
            progress.acknowledged.insert(sender)
            advanceHighWatermark(&progress)
        }
        role = .leader(progress)
        let entries = log.entries(from: fetch.fetchOffset, below: log.endOffset, limit: configuration.maxFetchEntries)
        send(reply(.entries(entries), highWatermark), to: sender)
    }

    // MARK: Followers and observers

    func fetchIsDue(now: Int64) -> Bool {
        if let pendingFetch { return now - pendingFetch.sentAt >= configuration.requestTimeout }
        return (nextFetchAt ?? .min) <= now
    }

    /// Asks `target` for entries from the log's end. The log is flushed first: the fetch offset
    /// tells the leader what this replica holds durably.
    mutating func sendFetch(to target: BrokerID, now: Int64) {
        log.flush()
        let correlation = nextCorrelation
        nextCorrelation &+= 1
        pendingFetch = PendingFetch(target: target, correlation: correlation, fetchOffset: log.endOffset, sentAt: now)
        nextFetchAt = nil
        send(
            .fetch(.init(
                epoch: quorum.epoch, replica: id, fetchOffset: log.endOffset,
                lastFetchedEpoch: log.lastEpoch, correlation: correlation
            )),
            to: target
        )
    }

    mutating func handleFetchResult(_ result: RaftMessage.FetchResult, from sender: BrokerID, now: Int64) {
        if result.epoch > quorum.epoch {
            observeEpoch(result.epoch, leader: result.leader, now: now)
            return
        }
        // Only the answer to the fetch in flight counts: a late or repeated one is stale.
        guard let pending = pendingFetch, pending.correlation == result.correlation, pending.target == sender,
            pending.snapshotPosition == nil, pending.fetchOffset == result.fetchOffset, pending.fetchOffset == log.endOffset
        else { return }
        pendingFetch = nil
        guard result.epoch == quorum.epoch, result.leader == sender, case .follower = role else {
            if result.epoch == quorum.epoch, let leader = result.leader, leader != id, knownLeader == nil {
                becomeFollower(of: leader, now: now)
            } else {
                nextFetchAt = now + configuration.idleFetchBackoff
            }
            return
        }
        switch result.outcome {
        case .notLeader:
            // Our leader has resigned: the fetch timeout runs on.
            nextFetchAt = now + configuration.idleFetchBackoff
            return
        case .diverging, .entries, .snapshot:
            deadline = now + configuration.fetchTimeout
            lastLeaderContact = now
        }
        switch result.outcome {
        case .notLeader:
            break
        case .diverging(let leaders):
            let ours = log.endOffset(forEpoch: leaders.epoch)
            // Never below what is committed: a leader that says so is answering a stale fetch.
            truncateLog(to: max(min(leaders.endOffset, ours.endOffset), highWatermark))
            sendFetch(to: sender, now: now)
        case .snapshot(let id):
            // A snapshot holds only committed entries, so it never ends below what this replica
            // knows is committed; one that does is a stale or corrupt answer.
            guard id.endOffset >= highWatermark, id.epoch >= LeaderEpoch(0), id.epoch <= quorum.epoch else {
                nextFetchAt = now + configuration.idleFetchBackoff
                return
            }
            fetchingSnapshot = FetchingSnapshot(id: id, received: ByteBuffer())
            sendFetchSnapshot(to: sender, now: now)
        case .entries(let entries):
            // Entries come from leaders of this epoch or earlier, in epoch order after ours;
            // anything else is a corrupt or byzantine answer, not appended.
            var last = log.lastEpoch
            for entry in entries {
                guard entry.epoch >= last, entry.epoch <= quorum.epoch, entry.epoch >= LeaderEpoch(0) else {
                    nextFetchAt = now + configuration.idleFetchBackoff
                    return
                }
                last = entry.epoch
            }
            appendToLog(entries)
            highWatermark = max(highWatermark, min(result.highWatermark, log.endOffset))
            if entries.isEmpty {
                nextFetchAt = now + configuration.idleFetchBackoff
            } else {
                sendFetch(to: sender, now: now)
            }
        }
    }
}
