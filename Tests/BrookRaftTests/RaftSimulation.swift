import BrookModel
import BrookRaft
import NIOCore

/// A seeded quorum of `RaftReplica`s on a simulated network, clock and disk.
///
/// Each step moves the clock 5 ms and may crash a replica (keeping or losing its log's
/// unflushed tail), restart one, pause one (SIGSTOP: its messages wait), cut the network in two
/// or heal it; messages are delayed at random (so they reorder), lost and duplicated. Replicas
/// take snapshots of what they applied and drop the log below them, so replicas that fall behind
/// fetch and install the leader's snapshot. After every step it checks Raft's safety properties
/// and records any breach in `failures`. Every choice comes from the seed, so a failing seed
/// replays exactly.
struct RaftSimulation: Sendable {
    struct Node {
        var replica: RaftReplica<InMemoryRaftLog>?
        var disk: InMemoryRaftLog
        var persisted = QuorumState.initial
        /// How many committed entries it has applied, the offset after them, the epoch of the
        /// last, and a digest of them all (what a snapshot of its state holds).
        var applied = 0
        var appliedOffset = Offset(0)
        var appliedEpoch = LeaderEpoch.none
        var appliedDigest = SnapshotContent.emptyDigest
        /// The voter set its applied entries make.
        var appliedVoters: Set<BrokerID> = []
        var restartAt: Int64?
        var pausedUntil: Int64?
    }

    struct Envelope {
        var deliverAt: Int64
        var sequence: UInt64
        var from: BrokerID
        var to: BrokerID
        var message: RaftMessage
    }

    struct Faults {
        var crash = 0.004
        var powerCut = 0.5
        var pause = 0.003
        var partition = 0.003
        var heal = 0.01
        var loss = 0.02
        var duplicate = 0.02
        var maxDelay: Int64 = 30
        /// A running replica takes a snapshot of what it applied...
        var snapshot = 0.01
        /// ...and then drops the log below it.
        var deletePrefix = 0.5
        /// A leader adds a voter (when fewer than 4) or removes one (KIP-853).
        var voterChange = 0.004
        /// A broken disk, to show the checks catch what they claim to: a crash loses flushed
        /// entries too.
        var diskLosesFlushedEntries = false
    }

    let seed: UInt64
    let voters: [BrokerID]
    let observers: [BrokerID]
    var configuration = RaftConfiguration()
    var faults = Faults()
    var random: SplitMix64
    var now: Int64 = 0
    var nodes: [BrokerID: Node] = [:]
    var inFlight: [Envelope] = []
    var sequence: UInt64 = 0
    /// The side of the cut each node is on; nodes on different sides cannot talk.
    var side: [BrokerID: Int] = [:]
    var leaders: [LeaderEpoch: BrokerID] = [:]
    /// The longest committed prefix any replica has applied, each entry's offset, and the
    /// digest of the prefix up to each entry.
    var committed: [RaftEntry] = []
    var committedOffsets: [Offset] = []
    var committedDigests: [UInt64] = []
    /// How many snapshots replicas installed from a leader.
    var installs = 0
    /// How many voter changes were committed.
    var committedVoterChanges = 0
    var proposed = 0
    var checkStep = 0
    var failures: [String] = []
    var trace: [String] = []

    init(seed: UInt64, voterCount: Int = 3, observerCount: Int = 1, preVote: Bool = true) {
        self.seed = seed
        random = SplitMix64(seed: seed)
        voters = (1...voterCount).map { BrokerID(Int32($0)) }
        observers = (0..<observerCount).map { BrokerID(Int32(100 + $0)) }
        configuration.electionTimeout = 200
        configuration.fetchTimeout = 400
        configuration.requestTimeout = 150
        configuration.electionBackoffMax = 200
        configuration.idleFetchBackoff = 20
        configuration.maxFetchEntries = 16
        configuration.maxSnapshotChunkBytes = 48
        configuration.dynamicVoters = true
        configuration.preVote = preVote
        for id in voters + observers {
            var disk = InMemoryRaftLog()
            disk.votersInSnapshot = { SnapshotContent($0)?.voters }
            nodes[id] = Node(disk: disk)
            start(id)
        }
    }

    var allNodes: [BrokerID] { voters + observers }

    // MARK: Running

    mutating func run(steps: Int) {
        for _ in 0..<steps {
            injectFaults()
            step()
        }
    }

    /// Heals every fault, then runs until a leader commits a new entry that every replica
    /// applies; records a failure if that does not happen within `limit` ms.
    mutating func settle(limit: Int64 = 20_000) {
        faults.crash = 0
        faults.pause = 0
        faults.partition = 0
        faults.heal = 0
        faults.loss = 0
        faults.duplicate = 0
        // The marker is looked for in the logs: none may drop it once applied.
        faults.snapshot = 0
        faults.voterChange = 0
        side = [:]
        for id in allNodes {
            if nodes[id]!.replica == nil { start(id) }
            nodes[id]!.pausedUntil = nil
        }
        let deadline = now + limit
        let marker = ByteBuffer(string: "settle-\(seed)")
        // Proposed once to each new leader: a leader that loses its epoch may lose it too.
        var proposedIn: LeaderEpoch?
        while now < deadline {
            step(proposing: false)
            if let leader = currentLeader(), nodes[leader]!.replica!.quorum.epoch != proposedIn {
                proposedIn = nodes[leader]!.replica!.quorum.epoch
                _ = nodes[leader]!.replica!.propose([marker])
            }
            if allNodes.allSatisfy({ applied(by: $0).contains { $0.payload == marker } }) {
                return
            }
        }
        fail("no entry committed and applied everywhere within \(limit) ms of healing: \(states)")
    }

    mutating func step(proposing: Bool = true) {
        now += 5
        for id in allNodes where nodes[id]!.replica == nil && (nodes[id]!.restartAt ?? .max) <= now {
            start(id)
        }
        for id in allNodes where (nodes[id]!.pausedUntil ?? .max) <= now {
            nodes[id]!.pausedUntil = nil
            note("\(id) resumes")
        }
        deliverDueMessages()
        for id in allNodes where isRunning(id) {
            perform(nodes[id]!.replica!.tick(now: now), by: id)
            if random.chance(0.5) { perform(nodes[id]!.replica!.flushLog(now: now), by: id) }
            if random.chance(faults.snapshot) { takeSnapshot(id) }
        }
        if proposing, random.chance(0.3) {
            for id in allNodes where isRunning(id) && nodes[id]!.replica!.isLeader {
                let count = 1 + Int(random.next() % 3)
                let batches = (0..<count).map { _ -> (payload: ByteBuffer, recordCount: Int) in
                    proposed += 1
                    return (ByteBuffer(string: "\(seed)-\(proposed)"), 1 + Int(random.next() % 4))
                }
                _ = nodes[id]!.replica!.propose(batches)
            }
        }
        if proposing, random.chance(faults.voterChange), let leader = currentLeader() {
            changeVoters(leader)
        }
        check()
    }

    func isRunning(_ id: BrokerID) -> Bool {
        nodes[id]!.replica != nil && nodes[id]!.pausedUntil == nil
    }

    func currentLeader() -> BrokerID? {
        let running = allNodes.filter { isRunning($0) && nodes[$0]!.replica!.isLeader }
        return running.max { nodes[$0]!.replica!.quorum.epoch < nodes[$1]!.replica!.quorum.epoch }
    }

    // MARK: Faults

    mutating func injectFaults() {
        let candidates = allNodes.filter { nodes[$0]!.replica != nil }
        if random.chance(faults.crash), let victim = random.pick(candidates) {
            crash(victim, losingUnflushedTail: random.chance(faults.powerCut))
        }
        if random.chance(faults.pause), let victim = random.pick(candidates.filter(isRunning)) {
            nodes[victim]!.pausedUntil = now + 100 + Int64(random.next() % 1500)
            note("\(victim) paused")
        }
        if random.chance(faults.partition) {
            side = Dictionary(uniqueKeysWithValues: allNodes.map { ($0, Int(random.next() % 2)) })
            note("partition \(allNodes.map { "\($0):\(side[$0]!)" }.joined(separator: " "))")
        } else if !side.isEmpty, random.chance(faults.heal) {
            side = [:]
            note("network healed")
        }
    }

    mutating func crash(_ id: BrokerID, losingUnflushedTail: Bool) {
        guard var log = nodes[id]!.replica?.log else { return }
        if losingUnflushedTail { log.loseUnflushedTail() }
        if faults.diskLosesFlushedEntries {
            log.truncate(to: Offset(max(0, log.endOffset.rawValue - Int64(random.next() % 20))))
        }
        nodes[id]!.disk = log
        nodes[id]!.replica = nil
        nodes[id]!.pausedUntil = nil
        nodes[id]!.restartAt = now + 50 + Int64(random.next() % 2000)
        note("\(id) crashes\(losingUnflushedTail ? ", losing its unflushed tail" : "") with log end \(log.endOffset)")
    }

    mutating func start(_ id: BrokerID) {
        var node = nodes[id]!
        node.replica = RaftReplica(
            id: id, voters: Set(voters), log: node.disk, state: node.persisted,
            configuration: configuration, seed: random.next(), now: now
        )
        node.applied = 0
        node.appliedOffset = Offset(0)
        node.appliedEpoch = .none
        node.appliedDigest = SnapshotContent.emptyDigest
        node.appliedVoters = Set(voters)
        node.restartAt = nil
        nodes[id] = node
        note("\(id) starts: \(node.persisted), log end \(node.disk.endOffset)")
        perform(nodes[id]!.replica!.start(now: now), by: id)
    }

    // MARK: Network

    mutating func perform(_ actions: [RaftAction], by id: BrokerID) {
        for action in actions {
            switch action {
            case .persist(let state):
                nodes[id]!.persisted = state
            case .send(let to, let message):
                if random.chance(faults.loss) { continue }
                let copies = random.chance(faults.duplicate) ? 2 : 1
                for _ in 0..<copies {
                    sequence += 1
                    let delay = 1 + Int64(random.next() % UInt64(faults.maxDelay))
                    inFlight.append(Envelope(deliverAt: now + delay, sequence: sequence, from: id, to: to, message: message))
                }
            }
        }
    }

    mutating func deliverDueMessages() {
        inFlight.sort { ($0.deliverAt, $0.sequence) < ($1.deliverAt, $1.sequence) }
        var waiting: [Envelope] = []
        var due: [Envelope] = []
        for envelope in inFlight {
            if envelope.deliverAt <= now { due.append(envelope) } else { waiting.append(envelope) }
        }
        inFlight = waiting
        for var envelope in due {
            let (from, to) = (envelope.from, envelope.to)
            // A message across the cut is lost (the connection hangs); one to a stopped process
            // is refused, which its sender learns.
            guard side[from] == side[to] else { continue }
            guard nodes[to]!.replica != nil else {
                if isRunning(from) { perform(nodes[from]!.replica!.peerUnreachable(to, now: now), by: from) }
                continue
            }
            if let resume = nodes[to]!.pausedUntil {
                envelope.deliverAt = resume
                inFlight.append(envelope)
                continue
            }
            let startBefore = nodes[to]!.replica!.log.startSnapshot
            perform(nodes[to]!.replica!.receive(envelope.message, from: from, now: now), by: to)
            if case .fetchSnapshotResult = envelope.message, let start = nodes[to]!.replica!.log.startSnapshot, start != startBefore {
                installs += 1
                note("\(to) installs snapshot \(start) from \(from)")
            }
        }
    }

    // MARK: Invariants

    func applied(by id: BrokerID) -> [RaftEntry] {
        guard let replica = nodes[id]!.replica else { return [] }
        return replica.log.entries(from: Offset(0), below: replica.highWatermark, limit: .max)
    }

    mutating func check() {
        checkStep += 1
        if checkStep % 50 == 0 { checkLogMatching() }
        for id in allNodes {
            guard let replica = nodes[id]!.replica else { continue }
            if replica.isLeader {
                let epoch = replica.quorum.epoch
                if let other = leaders[epoch], other != id {
                    fail("two leaders in epoch \(epoch): \(other) and \(id)")
                } else if leaders[epoch] == nil {
                    leaders[epoch] = id
                    note("\(id) leads epoch \(epoch) from log end \(replica.log.endOffset)")
                    if !replica.mayStandForElection {
                        fail("\(id) was elected leader of epoch \(epoch) without being a voter or removing itself")
                    }
                    // Leader completeness: a new leader holds every committed entry (those below
                    // its log's start in its snapshot).
                    let start = replica.log.startOffset
                    let firstHeld = committedOffsets.firstIndex { $0 >= start } ?? committed.count
                    let held = replica.log.entries(from: start, below: Offset(.max), limit: committed.count - firstHeld)
                    if held != Array(committed[firstHeld...]) {
                        fail("leader \(id) of epoch \(epoch) lacks committed entries: holds \(held.count) of \(committed.count - firstHeld) after its log start \(start) or differs")
                    }
                }
            }
            let highWatermark = replica.highWatermark
            if replica.log.endOffset < highWatermark {
                fail("\(id) truncated below its high watermark: log end \(replica.log.endOffset), high watermark \(highWatermark)")
                continue
            }
            // A log that starts past what was applied holds a snapshot in its place (installed
            // from the leader, or the replica's own at restart): load it.
            var node = nodes[id]!
            if let start = replica.log.startSnapshot, start.endOffset > node.appliedOffset {
                load(start, from: replica.log, into: &node, id: id)
            }
            // Apply newly committed entries: each must be the committed entry at its position.
            if highWatermark > node.appliedOffset {
                for entry in replica.log.entries(from: node.appliedOffset, below: highWatermark, limit: .max) {
                    if node.applied < committed.count {
                        if committed[node.applied] != entry || committedOffsets[node.applied] != node.appliedOffset {
                            fail("\(id) applies a different entry at committed offset \(node.appliedOffset)")
                            break
                        }
                    } else {
                        if entry.voters != nil { committedVoterChanges += 1 }
                        committed.append(entry)
                        committedOffsets.append(node.appliedOffset)
                        committedDigests.append(SnapshotContent.digest(node.appliedDigest, entry))
                    }
                    node.applied += 1
                    node.appliedOffset = Offset(node.appliedOffset.rawValue + Int64(entry.recordCount))
                    node.appliedEpoch = entry.epoch
                    node.appliedDigest = SnapshotContent.digest(node.appliedDigest, entry)
                    if let voters = entry.voters { node.appliedVoters = voters }
                }
            }
            nodes[id] = node
        }
    }

    /// Makes `node`'s applied state the snapshot's, which must be the committed prefix it ends.
    mutating func load(_ id: EpochEndOffset, from log: InMemoryRaftLog, into node: inout Node, id replica: BrokerID) {
        guard let bytes = log.snapshots[id], let content = SnapshotContent(bytes) else {
            fail("\(replica) starts at \(id) without a readable snapshot there")
            return
        }
        let matches = content.count <= committed.count
            && (content.count == 0 ? content.digest == SnapshotContent.emptyDigest : committedDigests[content.count - 1] == content.digest)
            && (content.count == committed.count || committedOffsets[content.count] == id.endOffset)
        guard matches, content.count >= node.applied else {
            fail("\(replica) installs snapshot \(id) holding \(content.count) entries that are not the committed prefix")
            return
        }
        node.applied = content.count
        node.appliedOffset = id.endOffset
        node.appliedEpoch = id.epoch
        node.appliedDigest = content.digest
        node.appliedVoters = content.voters ?? node.appliedVoters
    }

    /// The leader adds a replica that is not a voter (while fewer than 4 vote) or removes a
    /// voter, itself included; it may refuse (a change pending, a replica behind).
    mutating func changeVoters(_ leader: BrokerID) {
        let current = nodes[leader]!.replica!.voters
        var next = current
        let outsiders = allNodes.filter { !current.contains($0) }
        if current.count < 4, random.chance(0.6), let added = random.pick(outsiders) {
            next.insert(added)
        } else if current.count > 1, let removed = random.pick(current.sorted()) {
            next.remove(removed)
        } else {
            return
        }
        let payload = ByteBuffer(string: "voters " + next.sorted().map { String($0.rawValue) }.joined(separator: ","))
        if case .success(let offset) = nodes[leader]!.replica!.changeVoters(to: next, payload: payload, now: now) {
            note("\(leader) proposes voters \(next.sorted()) at \(offset)")
        }
    }

    /// `id` snapshots what it applied (only what its log holds durably) and may drop the log
    /// below it.
    mutating func takeSnapshot(_ id: BrokerID) {
        let node = nodes[id]!
        guard let replica = node.replica, node.appliedOffset > replica.log.startOffset,
            node.appliedOffset <= replica.log.durableEndOffset,
            node.appliedOffset > (replica.log.latestSnapshot?.endOffset ?? Offset(0))
        else { return }
        let snapshot = EpochEndOffset(epoch: node.appliedEpoch, endOffset: node.appliedOffset)
        let bytes = SnapshotContent(count: node.applied, digest: node.appliedDigest, voters: node.appliedVoters).encoded
        nodes[id]!.replica!.updateLog { $0.storeSnapshot(snapshot, bytes: bytes, voters: node.appliedVoters) }
        if random.chance(faults.deletePrefix) {
            nodes[id]!.replica!.deletePrefix(upTo: snapshot)
            note("\(id) snapshots \(snapshot) and drops its log below it")
        }
    }

    /// Raft's log matching: where two logs hold an entry of the same epoch at one offset, they
    /// hold the same entries up to it (where both still hold entries).
    mutating func checkLogMatching() {
        let logs = allNodes.compactMap { id in nodes[id]!.replica.map { (id, $0.log) } }
        for (index, (first, a)) in logs.enumerated() {
            for (second, b) in logs[(index + 1)...] {
                // Walk both logs' entries in offset order, pairing those at the same offset.
                var pairs: [(RaftEntry, RaftEntry)] = []
                var (i, j) = (0, 0)
                while i < a.baseOffsets.count, j < b.baseOffsets.count {
                    if a.baseOffsets[i] < b.baseOffsets[j] {
                        i += 1
                    } else if a.baseOffsets[i] > b.baseOffsets[j] {
                        j += 1
                    } else {
                        pairs.append((a.storedEntries[i], b.storedEntries[j]))
                        i += 1
                        j += 1
                    }
                }
                guard let last = pairs.lastIndex(where: { $0.0.epoch == $0.1.epoch }) else { continue }
                if pairs[...last].contains(where: { $0.0 != $0.1 }) {
                    fail("logs of \(first) and \(second) agree on an epoch at a shared offset but differ before it")
                }
            }
        }
    }

    // MARK: Reporting

    mutating func fail(_ message: String) {
        guard failures.count < 5 else { return }
        failures.append("t=\(now) \(message)")
    }

    mutating func note(_ event: String) {
        trace.append("t=\(now) \(event)")
        if trace.count > 80 { trace.removeFirst(trace.count - 80) }
    }

    /// Each replica's role, quorum state, log end (with its last epoch) and high watermark.
    var states: String {
        allNodes.map { id in
            guard let replica = nodes[id]!.replica else { return "\(id) down" }
            return "\(id) \(replica.role.name) \(replica.quorum) end \(replica.log.endOffset)@\(replica.log.lastEpoch) hw \(replica.highWatermark)"
        }.joined(separator: "; ")
    }

    var report: String {
        """
        seed \(seed): \(failures.joined(separator: "; "))
        replay: BROOK_SIMULATION_SEED=\(seed) swift test --filter RaftSimulationTests
        last events:
        \(trace.joined(separator: "\n"))
        """
    }
}

/// What a simulated replica's snapshot holds: how many committed entries it applied and a
/// digest of them, padded so that fetching it takes several pieces.
struct SnapshotContent: Equatable {
    static let emptyDigest: UInt64 = 0xcbf2_9ce4_8422_2325

    var count: Int
    var digest: UInt64
    var voters: Set<BrokerID>?

    init(count: Int, digest: UInt64, voters: Set<BrokerID>?) {
        self.count = count
        self.digest = digest
        self.voters = voters
    }

    init?(_ bytes: ByteBuffer) {
        let fields = String(buffer: bytes).split(separator: "|")[0].split(separator: " ")
        guard fields.count == 3, let count = Int(fields[0]), let digest = UInt64(fields[1]) else { return nil }
        let voters = fields[2].split(separator: ",").compactMap { Int32($0).map { BrokerID($0) } }
        self.init(count: count, digest: digest, voters: Set(voters))
    }

    var encoded: ByteBuffer {
        let voterList = (voters ?? []).sorted().map { String($0.rawValue) }.joined(separator: ",")
        return ByteBuffer(string: "\(count) \(digest) \(voterList)|" + String(repeating: "s", count: 100))
    }

    /// FNV-1a over the entry's epoch, size, kind and bytes, continuing `digest`.
    static func digest(_ digest: UInt64, _ entry: RaftEntry) -> UInt64 {
        var hash = digest
        func mix(_ byte: UInt8) { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        for byte in withUnsafeBytes(of: entry.epoch.rawValue.littleEndian, Array.init) { mix(byte) }
        for byte in withUnsafeBytes(of: Int64(entry.recordCount).littleEndian, Array.init) { mix(byte) }
        mix(entry.isControl ? 1 : 0)
        for byte in entry.payload.readableBytesView { mix(byte) }
        return hash
    }
}

extension SplitMix64 {
    mutating func chance(_ probability: Double) -> Bool {
        probability > 0 && Double(next() % 1_000_000) < probability * 1_000_000
    }

    mutating func pick<T>(_ items: [T]) -> T? {
        items.isEmpty ? nil : items[Int(next() % UInt64(items.count))]
    }
}
