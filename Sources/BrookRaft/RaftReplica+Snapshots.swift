import BrookModel
import NIOCore

/// FetchSnapshot (KIP-630): a leader whose log no longer reaches back to where a replica's fetch
/// starts answers with its latest snapshot's id; the replica fetches that snapshot piece by
/// piece, installs it in place of its log, and fetches entries from the snapshot's end.
extension RaftReplica {
    // MARK: Leader

    /// A voter fetching a snapshot is in touch, though its log end says nothing yet.
    mutating func recordContact(from sender: BrokerID, _ progress: inout RaftRole.LeaderProgress, now: Int64) {
        guard voters.contains(sender) else { return }
        progress.lastFetch[sender] = now
        progress.acknowledged.insert(sender)
        role = .leader(progress)
    }

    mutating func handleFetchSnapshot(_ fetch: RaftMessage.FetchSnapshot, from sender: BrokerID, now: Int64) {
        func reply(_ outcome: RaftMessage.FetchSnapshotResult.Outcome) -> RaftMessage {
            .fetchSnapshotResult(.init(
                epoch: quorum.epoch, leader: knownLeader, outcome: outcome, snapshot: fetch.snapshot,
                position: fetch.position, correlation: fetch.correlation
            ))
        }
        guard case .leader(var progress) = role, fetch.epoch == quorum.epoch else {
            send(reply(.notLeader), to: sender)
            return
        }
        recordContact(from: sender, &progress, now: now)
        guard let chunk = log.readSnapshot(fetch.snapshot, from: fetch.position, maxBytes: configuration.maxSnapshotChunkBytes) else {
            send(reply(.notFound), to: sender)
            return
        }
        send(reply(.chunk(chunk)), to: sender)
    }

    // MARK: Followers and observers

    /// Asks `target` for the next piece of the snapshot being fetched.
    mutating func sendFetchSnapshot(to target: BrokerID, now: Int64) {
        guard let fetching = fetchingSnapshot else { return }
        let correlation = nextCorrelation
        nextCorrelation &+= 1
        let position = Int64(fetching.received.readableBytes)
        pendingFetch = PendingFetch(
            target: target, correlation: correlation, fetchOffset: log.endOffset, sentAt: now, snapshotPosition: position)
        nextFetchAt = nil
        send(
            .fetchSnapshot(.init(epoch: quorum.epoch, replica: id, snapshot: fetching.id, position: position, correlation: correlation)),
            to: target
        )
    }

    mutating func handleFetchSnapshotResult(_ result: RaftMessage.FetchSnapshotResult, from sender: BrokerID, now: Int64) {
        if result.epoch > quorum.epoch {
            observeEpoch(result.epoch, leader: result.leader, now: now)
            return
        }
        guard let pending = pendingFetch, pending.correlation == result.correlation, pending.target == sender,
            let position = pending.snapshotPosition, position == result.position,
            var fetching = fetchingSnapshot, fetching.id == result.snapshot
        else { return }
        pendingFetch = nil
        guard result.epoch == quorum.epoch, result.leader == sender, case .follower = role else {
            nextFetchAt = now + configuration.idleFetchBackoff
            return
        }
        switch result.outcome {
        case .notLeader:
            nextFetchAt = now + configuration.idleFetchBackoff
        case .notFound:
            // A newer snapshot replaced it: a fetch learns which.
            fetchingSnapshot = nil
            deadline = now + configuration.fetchTimeout
            lastLeaderContact = now
            sendFetch(to: sender, now: now)
        case .chunk(var chunk):
            deadline = now + configuration.fetchTimeout
            lastLeaderContact = now
            let received = Int64(fetching.received.readableBytes)
            // Pieces must continue one another and stay within the size the leader gave.
            guard chunk.size > 0, received + Int64(chunk.bytes.readableBytes) <= chunk.size,
                chunk.bytes.readableBytes > 0 || received == chunk.size
            else {
                fetchingSnapshot = nil
                nextFetchAt = now + configuration.idleFetchBackoff
                return
            }
            fetching.received.writeBuffer(&chunk.bytes)
            guard Int64(fetching.received.readableBytes) == chunk.size else {
                fetchingSnapshot = fetching
                sendFetchSnapshot(to: sender, now: now)
                return
            }
            fetchingSnapshot = nil
            log.installSnapshot(fetching.id, bytes: fetching.received)
            // A log that could not take it (a snapshot that does not read) fetches it again.
            if log.startSnapshot == fetching.id {
                highWatermark = max(highWatermark, fetching.id.endOffset)
                baseVoters = log.startVoters ?? voters
                voterChanges.removeAll()
            }
            sendFetch(to: sender, now: now)
        }
    }
}
