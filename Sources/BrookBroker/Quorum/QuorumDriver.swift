import BrookModel
import BrookProtocol
import BrookRaft
import Dispatch
import Foundation
import Logging
import NIOCore
import Synchronization

/// Runs this node's replica of the metadata quorum (`RaftReplica` over `__cluster_metadata-0`)
/// on a thread of its own, and connects it to the other voters.
///
/// Everything the replica does happens on that thread, in order: requests from other nodes
/// (handed over by the Vote, BeginQuorumEpoch, EndQuorumEpoch and Fetch handlers, which wait
/// for the answer), answers to this node's own requests, proposals, and a tick every
/// `tickMilliseconds`. The quorum state is written (and fsynced) before anything that depends on
/// it is sent; the log is flushed before the leader counts it. Committed entries are handed to
/// `onCommitted` in order, then proposers waiting for them are released. A storage failure of
/// the metadata log stops the quorum (`failure` says why), as Kafka halts on one.
final class QuorumDriver: Sendable {
    /// A voter of the quorum: its id, its storage directory id (KIP-853) and its controller
    /// endpoint.
    typealias Voter = QuorumVoter

    struct Configuration: Sendable {
        var localID: BrokerID
        /// The static voters (`controller.quorum.voters`); empty for a dynamic quorum.
        var voters: [Voter]
        var clusterId: String
        /// `controller.quorum.bootstrap.servers` (KIP-853): where a node of a dynamic quorum
        /// looks for the leader, under ids -1, -2, ... (a voter set comes from the log).
        var bootstrapServers: [Voter] = []
        /// Whether the voter set changes through the log (kraft.version 1).
        var isDynamic: Bool { voters.isEmpty }
        /// Where this node listens, as its voter record should say (a dynamic quorum's voter
        /// whose record says otherwise asks the leader to update it: UpdateRaftVoter).
        var localEndpoint: Voter?
        var raft = RaftConfiguration()
        var tickMilliseconds = 10
        /// `metadata.max.retention.bytes` and `.ms`: past either, a new snapshot replaces the
        /// log before it (-1: no limit).
        var retentionBytes: Int64 = 104_857_600
        var retentionMs: Int64 = 604_800_000
        /// How connections to the other voters are secured (the controller listener's TLS and
        /// SASL); the brokers' requests to the active controller go the same way.
        var peerSecurity = PeerSecurity.plaintext
    }

    /// What DescribeQuorum and the tools show.
    struct Status: Sendable {
        struct Replica: Sendable {
            var id: BrokerID
            var logEndOffset: Offset
            var lastFetchMilliseconds: Int64?
        }

        /// The role's name (`leader`, `follower`, ...), for logs and DescribeQuorum.
        var role = "unattached"
        /// Whether this node leads the quorum: the active controller.
        var isLeader = false
        var epoch = LeaderEpoch(0)
        var leader: BrokerID?
        var highWatermark = Offset(0)
        var logEndOffset = Offset(0)
        /// The end of what this node has applied of the committed log.
        var appliedOffset = Offset(0)
        /// The leader's epoch-start entry (the leader only): once it is applied, everything
        /// committed before this epoch is too.
        var epochStartOffset: Offset?
        /// The voters' progress, as the leader knows it (only the leader fills it).
        var voters: [Replica] = []
        /// The observers fetching from the leader (only the leader fills it).
        var observers: [Replica] = []
        var failure: String?
    }

    let configuration: Configuration
    private let core: Mutex<Core>
    private let inbox = Mutex(Inbox())
    private let wake = DispatchSemaphore(value: 0)
    private let published = Mutex(Status())
    let links = Mutex<[BrokerID: QuorumPeerLink]>([:])
    /// Where each known node of the quorum listens: static voters, bootstrap servers, voters
    /// the log records and leaders named in fetch answers.
    let endpoints = Mutex<[BrokerID: Voter]>([:])
    private let stateFile: QuorumStateFile
    let logger: Logger
    private let onCommitted: @Sendable ([RaftEntry], Offset) -> Void
    private let onSnapshotInstalled: @Sendable (EpochEndOffset) throws -> Void
    private let finished = DispatchSemaphore(value: 0)
    /// Whether the thread was started and not yet waited for by `stop()`.
    private let running = Mutex(false)

    /// What waits for the quorum's thread; closed once the thread ends, so nothing is left
    /// unanswered.
    private struct Inbox {
        var inputs: [Input] = []
        var closed = false
    }

    enum Input: Sendable {
        case message(RaftMessage, from: BrokerID, reply: (@Sendable (RaftMessage?) -> Void)?)
        case propose(ByteBuffer, recordCount: Int, done: @Sendable (Result<Offset, QuorumError>) -> Void)
        case changeVoters(VoterChange, done: @Sendable (Result<Offset, QuorumError>) -> Void)
        /// A peer refused or dropped the connection.
        case unreachable(BrokerID)
        /// This node wrote a snapshot of its image.
        case snapshotWritten(EpochEndOffset)
        case stop
    }

    struct Core {
        var replica: RaftReplica<PartitionRaftLog>
        var applied = Offset(0)
        /// When this voter last asked to have its endpoint updated.
        var lastEndpointUpdate: Int64 = .min / 2
        var waiting: [(end: Offset, epoch: LeaderEpoch, done: @Sendable (Result<Offset, QuorumError>) -> Void)] = []
    }

    /// Reads the quorum state and prepares the replica; `start()` runs it.
    init(
        configuration: Configuration, log: sending PartitionRaftLog, stateDirectory: String, logger: Logger,
        appliedFrom: Offset = Offset(0), onCommitted: @escaping @Sendable ([RaftEntry], Offset) -> Void,
        onSnapshotInstalled: @escaping @Sendable (EpochEndOffset) throws -> Void = { _ in }
    ) throws {
        self.configuration = configuration
        self.logger = logger
        self.onCommitted = onCommitted
        self.onSnapshotInstalled = onSnapshotInstalled
        stateFile = QuorumStateFile(directory: stateDirectory)
        let state = try stateFile.read() ?? .initial
        let voterIDs = configuration.isDynamic
            ? Set((log.bootstrapVoters ?? []).map(\.id)) : Set(configuration.voters.map(\.id))
        var known = Dictionary(configuration.voters.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for server in configuration.bootstrapServers { known[server.id] = server }
        known.merge(log.voterEndpoints) { current, _ in current }
        endpoints.withLock { $0 = known }
        var replica = RaftReplica(
            id: configuration.localID, voters: voterIDs, log: log, state: state, configuration: configuration.raft,
            seed: UInt64.random(in: .min ... .max), now: Self.now()
        )
        if configuration.isDynamic { replica.bootstrapServers = configuration.bootstrapServers.map(\.id) }
        var initial = Core(replica: replica)
        // What a snapshot loaded at start already holds is not handed out again.
        initial.applied = appliedFrom
        core = Mutex(initial)
    }

    static func now() -> Int64 { Int64(DispatchTime.now().uptimeNanoseconds / 1_000_000) }

    var status: Status { published.withLock { $0 } }

    /// Starts the quorum's thread.
    func start() {
        running.withLock { $0 = true }
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "brook-quorum"
        thread.start()
    }

    /// Stops the thread (waiting for it) and closes the connections to the other voters.
    func stop() async {
        guard running.withLock({ running in defer { running = false }; return running }) else { return }
        submit(.stop)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                self.finished.wait()
                done.resume()
            }
        }
        for link in links.withLock({ Array($0.values) }) { await link.close() }
    }

    /// A snapshot of this node's image was written: past the retention limits, the log before
    /// it goes.
    func snapshotWritten(_ id: EpochEndOffset) {
        submit(.snapshotWritten(id))
    }

    private func retentionExceeded(_ log: PartitionRaftLog) -> Bool {
        log.exceedsRetention(bytes: configuration.retentionBytes, milliseconds: configuration.retentionMs)
    }

    /// Hands a request from `sender` to the replica and returns its answer (nil when the
    /// replica has none, or the quorum has stopped).
    func handle(_ message: RaftMessage, from sender: BrokerID) async -> RaftMessage? {
        await withCheckedContinuation { (continuation: CheckedContinuation<RaftMessage?, Never>) in
            if !submit(.message(message, from: sender, reply: { continuation.resume(returning: $0) })) {
                continuation.resume(returning: nil)
            }
        }
    }

    /// Appends `batch` (a record batch of `recordCount` records) if this node leads, and waits,
    /// blocking the calling thread (never the quorum's or the cooperative pool's), until it is
    /// committed and handed to `onCommitted`. Returns its offset.
    func proposeAndWait(_ batch: ByteBuffer, recordCount: Int, timeout: Duration) throws(QuorumError) -> Offset {
        let outcome = Mutex<Result<Offset, QuorumError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let submitted = submit(.propose(batch, recordCount: recordCount, done: { result in
            outcome.withLock { $0 = result }
            done.signal()
        }))
        guard submitted else { throw QuorumError("the metadata quorum has stopped", code: .notController) }
        let milliseconds = Int(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        guard done.wait(timeout: .now() + .milliseconds(milliseconds)) == .success,
            let result = outcome.withLock({ $0 })
        else { throw QuorumError("the metadata quorum did not commit the change within \(timeout)", code: .requestTimedOut) }
        return try result.get()
    }

    /// Waits until this node is the active controller with the whole committed log applied (a
    /// new leader first commits its epoch-start entry, which commits everything before it), so
    /// that a change is validated against the latest metadata. Blocks the calling thread;
    /// throws NOT_CONTROLLER at once when another node leads.
    func awaitActive(timeout: Duration) throws(QuorumError) {
        let deadline = ContinuousClock.now + timeout
        while true {
            let status = self.status
            guard status.isLeader else {
                throw QuorumError(
                    "node \(configuration.localID) is not the active controller (leader: \(status.leader.map(String.init(describing:)) ?? "unknown"))",
                    code: .notController)
            }
            if let start = status.epochStartOffset, status.appliedOffset > start { return }
            guard ContinuousClock.now < deadline else {
                throw QuorumError("the new active controller has not caught up within \(timeout)", code: .requestTimedOut)
            }
            Thread.sleep(forTimeInterval: 0.002)
        }
    }

    // MARK: The quorum's thread

    private func run() {
        if configuration.isDynamic {
            logger.info("metadata quorum starting: node \(configuration.localID), dynamic voters \(core.withLock { $0.replica.voters.sorted().map(String.init(describing:)) }), bootstrap servers \(configuration.bootstrapServers.map { "\($0.host):\($0.port)" }.joined(separator: ","))")
        } else {
            logger.info("metadata quorum starting: node \(configuration.localID), voters \(configuration.voters.map(\.description).joined(separator: ","))")
        }
        core.withLock { core in
            perform(core.replica.start(now: Self.now()), in: &core, reply: nil)
        }
        while true {
            _ = wake.wait(timeout: .now() + .milliseconds(configuration.tickMilliseconds))
            let inputs = inbox.withLock { inbox in
                defer { inbox.inputs.removeAll() }
                return inbox.inputs
            }
            if inputs.contains(where: { if case .stop = $0 { true } else { false } }) {
                answerLeftovers(inputs)
                break
            }
            let keepRunning = core.withLock { core -> Bool in
                step(&core, inputs: inputs)
                return core.replica.log.failure == nil
            }
            if !keepRunning { break }
        }
        core.withLock { core in
            for waiter in core.waiting { waiter.done(.failure(QuorumError("the metadata quorum stopped", code: .notController))) }
            core.waiting.removeAll()
        }
        answerLeftovers(inbox.withLock { inbox in
            inbox.closed = true
            defer { inbox.inputs.removeAll() }
            return inbox.inputs
        })
        logger.info("metadata quorum stopped")
    }

    private func answerLeftovers(_ inputs: [Input]) {
        for input in inputs {
            switch input {
            case .message(_, _, let reply): reply?(nil)
            case .propose(_, _, let done), .changeVoters(_, let done):
                done(.failure(QuorumError("the metadata quorum is stopping", code: .notController)))
            case .unreachable, .snapshotWritten, .stop: break
            }
        }
    }

    private func step(_ core: inout Core, inputs: [Input]) {
        let now = Self.now()
        for input in inputs {
            switch input {
            case .message(let message, let sender, let reply):
                perform(core.replica.receive(message, from: sender, now: now), in: &core, reply: reply.map { (sender, $0) })
            case .propose(let batch, let recordCount, let done):
                guard let first = core.replica.propose([(payload: batch, recordCount: recordCount)]) else {
                    done(.failure(QuorumError(
                        "node \(configuration.localID) is not the active controller (leader: \(core.replica.knownLeader.map(String.init(describing:)) ?? "unknown"))",
                        code: .notController)))
                    continue
                }
                core.waiting.append((Offset(first.rawValue + Int64(recordCount)), core.replica.quorum.epoch, done))
            case .unreachable(let peer):
                perform(core.replica.peerUnreachable(peer, now: now), in: &core, reply: nil)
            case .changeVoters(let change, let done):
                changeVoters(change, in: &core, now: now, done: done)
            case .snapshotWritten(let id):
                core.replica.log.noteSnapshot(id)
                if retentionExceeded(core.replica.log) { core.replica.deletePrefix(upTo: id) }
            case .stop:
                break
            }
        }
        perform(core.replica.tick(now: now), in: &core, reply: nil)
        if core.replica.log.endOffset > core.replica.log.durableEndOffset, core.replica.isLeader {
            perform(core.replica.flushLog(now: now), in: &core, reply: nil)
        }
        if let refused = core.replica.log.refusedSnapshot {
            logger.warning("refused the leader's metadata snapshot (fetching it again): \(refused)")
            core.replica.log.refusedSnapshot = nil
        }
        if let failure = core.replica.log.failure {
            logger.critical("metadata log failed, stopping the quorum: \(failure)")
            published.withLock { $0.failure = "\(failure)" }
            return
        }
        learn(core.replica.log.voterEndpoints.values)
        updateOwnEndpointIfMoved(&core, now: now)
        deliverCommitted(&core)
        publish(core)
    }

    /// Carries out the replica's actions: persist, then send. The answer to the request being
    /// handled goes back through `reply`; other messages go over the peer links.
    private func perform(_ actions: [RaftAction], in core: inout Core, reply: (BrokerID, @Sendable (RaftMessage?) -> Void)?) {
        var answered = false
        defer { if let (_, answer) = reply, !answered { answer(nil) } }
        for action in actions {
            switch action {
            case .persist(let state):
                do {
                    try stateFile.write(
                        state, clusterId: configuration.clusterId,
                        voters: configuration.isDynamic ? nil : Set(configuration.voters.map(\.id)))
                } catch {
                    // Without its vote on disk the replica must not speak: stop, as Kafka does.
                    logger.critical("cannot write the quorum state, stopping the quorum: \(error)")
                    published.withLock { $0.failure = "\(error)" }
                    submit(.stop)
                    return
                }
            case .send(let target, let message):
                if let (sender, answer) = reply, target == sender, !answered, message.isAnswer {
                    answered = true
                    answer(message)
                } else if !message.isAnswer, let link = link(for: target) {
                    link.send(
                        message, fetchMaxWaitMs: 0,
                        deliver: { [weak self] result, learned in
                            self?.learn(learned)
                            self?.enqueue(result, from: target)
                        },
                        unreachable: { [weak self] in self?.submit(.unreachable(target)) }
                    )
                }
            }
        }
    }

    private func enqueue(_ message: RaftMessage, from sender: BrokerID) {
        submit(.message(message, from: sender, reply: nil))
    }

    /// Queues `input` for the quorum's thread and wakes it; false once the thread has ended.
    @discardableResult
    func submit(_ input: Input) -> Bool {
        let accepted = inbox.withLock { inbox -> Bool in
            guard !inbox.closed else { return false }
            inbox.inputs.append(input)
            return true
        }
        if accepted { wake.signal() }
        return accepted
    }

    /// Hands newly committed entries to `onCommitted`, then releases the proposers they commit;
    /// a proposer whose epoch ended before its entry was committed is told to retry.
    private func deliverCommitted(_ core: inout Core) {
        if let start = core.replica.log.startSnapshot, core.applied < start.endOffset {
            // A snapshot from the leader replaced the log: it is the image from here on.
            do {
                try onSnapshotInstalled(start)
            } catch {
                logger.critical("cannot load the installed metadata snapshot, stopping the quorum: \(error)")
                published.withLock { $0.failure = "\(error)" }
                submit(.stop)
                return
            }
            logger.info("installed the leader's metadata snapshot \(start)")
            core.applied = start.endOffset
        }
        let highWatermark = core.replica.highWatermark
        while core.applied < highWatermark {
            let entries = core.replica.log.entries(from: core.applied, below: highWatermark, limit: 256)
            guard !entries.isEmpty else { break }
            core.applied = Offset(core.applied.rawValue + entries.reduce(0) { $0 + Int64($1.recordCount) })
            onCommitted(entries, core.applied)
        }
        let epoch = core.replica.quorum.epoch
        let isLeader = core.replica.isLeader
        core.waiting.removeAll { waiter in
            if waiter.end <= core.applied {
                waiter.done(.success(Offset(waiter.end.rawValue)))
                return true
            }
            if waiter.epoch != epoch || !isLeader {
                waiter.done(.failure(QuorumError("leadership moved before the change was committed", code: .notController)))
                return true
            }
            return false
        }
    }

    private func publish(_ core: Core) {
        let replica = core.replica
        var status = Status(
            role: replica.role.name, isLeader: replica.isLeader, epoch: replica.quorum.epoch, leader: replica.knownLeader,
            highWatermark: replica.highWatermark, logEndOffset: replica.log.endOffset, appliedOffset: core.applied
        )
        if case .leader(let progress) = replica.role {
            status.epochStartOffset = progress.epochStartOffset
            status.voters = replica.voters.sorted().map { id in
                id == configuration.localID
                    ? .init(id: id, logEndOffset: replica.log.endOffset, lastFetchMilliseconds: nil)
                    : .init(id: id, logEndOffset: progress.voterEnd[id] ?? Offset(0), lastFetchMilliseconds: progress.lastFetch[id])
            }
            // Observers that fetched within the fetch timeout.
            let recent = Self.now() - configuration.raft.fetchTimeout
            status.observers = progress.voterEnd.keys.filter { !replica.voters.contains($0) && $0 != configuration.localID }.sorted()
                .filter { (progress.lastFetch[$0] ?? .min) >= recent }
                .map { .init(id: $0, logEndOffset: progress.voterEnd[$0] ?? Offset(0), lastFetchMilliseconds: progress.lastFetch[$0]) }
        }
        let previous = published.withLock { published in
            defer { published = status }
            return published
        }
        if previous.epoch != status.epoch || previous.leader != status.leader || previous.role != status.role {
            logger.info("metadata quorum epoch \(status.epoch): \(status.role), leader \(status.leader.map(String.init(describing:)) ?? "unknown"), voters \(replica.voters.sorted().map(String.init(describing:)))")
        }
    }
}

/// Why the quorum refused or failed a request, with the Kafka error code to answer.
struct QuorumError: Error, CustomStringConvertible {
    var description: String
    var code: ErrorCode

    init(_ description: String, code: ErrorCode = .invalidConfig) {
        self.description = description
        self.code = code
    }
}

extension RaftMessage {
    /// Answers travel back as responses on the connection their request came in on.
    var isAnswer: Bool {
        switch self {
        case .voteResult, .beginEpochResult, .fetchResult, .fetchSnapshotResult: true
        case .vote, .beginEpoch, .endEpoch, .fetch, .fetchSnapshot: false
        }
    }
}

extension QuorumDriver {
    /// INCONSISTENT_CLUSTER_ID when a quorum request names another cluster.
    func refusal(clusterId: String?) -> ErrorCode? {
        guard let clusterId, !clusterId.isEmpty, clusterId != configuration.clusterId else { return nil }
        logger.warning("refusing a quorum request for cluster \(clusterId): this node belongs to \(configuration.clusterId)")
        return .inconsistentClusterId
    }
}
