@testable import BrookBroker
import BrookModel
import BrookProtocol
import BrookStorage

/// A seeded simulation of one partition replicated on three brokers (replication factor 3,
/// min.insync.replicas 2) with Brook's own replication logic: each broker's ``ReplicaState``
/// (high watermark, ISR proposals), the leader's diverging-epoch check and the follower's
/// truncation point (``ReplicaFetchResult``), the leader epoch cache of the log, and the
/// controller's elections and ISR changes (``PartitionLeadership``) applied to a metadata image
/// that brokers follow with delays. Network, clock and disks are simulated.
///
/// Every 5 ms step may deliver messages (delayed at random, so they reorder, or lost), run the
/// brokers' fetchers and ISR checks, let an acks=all producer write to whoever the metadata says
/// leads, and, while the cluster is healthy, inject one fault: a crash (with the unsynced tail of
/// its log lost half the time), a pause (SIGSTOP), or a broker cut off the network. After every
/// step the checks run: what any replica holds below its high watermark agrees with every other
/// replica, and every acknowledged record is in that committed prefix; once faults stop and the
/// cluster settles, every replica holds every acknowledged record at its offset. Every choice
/// comes from the seed, so a failing seed replays exactly.
struct ReplicationSimulation {
    struct Record: Equatable, CustomStringConvertible {
        var epoch: Int32
        var value: UInt64
        var description: String { "\(value)@\(epoch)" }
    }

    /// A replica's log on a simulated disk: records at offsets from 0, the leader epoch cache as
    /// the real log keeps it, and how many records are fsynced.
    struct SimulatedLog {
        var records: [Record] = []
        var cache = LeaderEpochCache()
        var flushed = 0

        var end: Int64 { Int64(records.count) }
        var latestEpoch: Int32 { cache.latest?.epoch.rawValue ?? -1 }

        mutating func append(_ new: some Sequence<Record>) {
            for record in new {
                cache.assign(epoch: record.epoch, startOffset: end)
                records.append(record)
            }
        }

        mutating func truncate(to offset: Int64) {
            let offset = max(0, min(offset, end))
            records.removeSubrange(Int(offset)...)
            cache.truncateFromEnd(offset)
            flushed = min(flushed, records.count)
        }

        func endOffset(forEpoch epoch: Int32) -> EpochEndOffset? {
            cache.endOffset(for: LeaderEpoch(epoch), logEndOffset: end)
        }
    }

    enum FetchAnswer {
        case refused
        case diverging(EpochEndOffset)
        case outOfRange(highWatermark: Int64)
        case records([Record], highWatermark: Int64)
    }

    enum Message {
        case fetch(follower: Int32, incarnation: Int, fetchOffset: Int64, lastFetchedEpoch: Int32, leaderEpoch: Int32)
        case fetchAnswer(incarnation: Int, leaderEpoch: Int32, fetchOffset: Int64, FetchAnswer)
        case alterPartition(leader: Int32, request: Int, leaderEpoch: Int32, partitionEpoch: Int32, isr: [(id: Int32, epoch: Int64)])
        /// The controller's answer to an AlterPartition (the change itself comes with the metadata).
        case alterAnswered(request: Int, accepted: Bool)
    }

    struct Envelope {
        var deliverAt: Int64
        var sequence: UInt64
        var from: Int32
        var to: Int32
        var message: Message
    }

    struct Broker {
        var id: Int32
        var running = true
        /// A new one at every restart: answers meant for an earlier process are dropped.
        var incarnation = 0
        var log = SimulatedLog()
        var state: ReplicaState
        /// The broker's view of the metadata, and how many of the controller's records it applied.
        var image: MetadataImage
        var applied = 0
        var registered = false
        var fetchInFlight = false
        var fetchBackoffUntil: Int64 = 0
        var pausedUntil: Int64?
        var restartAt: Int64?
        /// The high watermark last written to replication-offset-checkpoint.
        var checkpointedHighWatermark: Int64 = 0
        /// How much of the log the checks found in the committed history (lowered by truncation).
        var checkedUpTo = 0
        /// The AlterPartition in flight, and when it is given up unanswered (its timeout).
        var isrChangeRequest = 0
        var isrChangeDeadline: Int64?

        mutating func truncate(to offset: Int64) {
            log.truncate(to: offset)
            checkedUpTo = min(checkedUpTo, log.records.count)
        }

        var isServing: Bool { running && pausedUntil == nil }

        /// What consumers may read below, as ``Partition/highWatermark`` computes it.
        var highWatermark: Int64 {
            state.leadsAlone ? log.end : min(state.highWatermark, log.end)
        }
    }

    /// An acks=all produce waiting for the high watermark.
    struct PendingProduce {
        var broker: Int32
        var incarnation: Int
        var epoch: Int32
        var records: [(offset: Int64, value: UInt64)]
        var deadline: Int64
    }

    struct Faults {
        var crash = 0.002
        var powerCut = 0.5
        var pause = 0.002
        var cut = 0.002
        var loss = 0.01
        var maxDelay: Int64 = 20
        var produce = 0.3
        /// A broken follower, to show the checks catch what they claim to: it sends no last
        /// fetched epoch, as before KIP-320, so its divergent tail is never found.
        var skipDivergenceCheck = false
        /// False for a broker that, restarted, acts on the metadata it replays before it has
        /// read its own registration (leading in epochs long over, as the first runs found).
        var registrationGate = true
    }

    static let topic = "sim"
    static let topicId = Uuid(mostSignificantBits: 7, leastSignificantBits: 7)
    static let minInSync = 2
    static let sessionTimeoutMs: Int64 = 600
    static let lagTimeMaxMs: Int64 = 500
    static let fetchBackoffMs: Int64 = 50
    static let maxFetchRecords = 20

    let seed: UInt64
    var faults = Faults()
    var random: SplitMix64
    var now: Int64 = 0
    var brokers: [Int32: Broker] = [:]
    var controllerImage: MetadataImage
    /// The metadata log, in the order the controller committed it.
    var metadataLog: [MetadataRecord] = []
    var lastContact: [Int32: Int64] = [:]
    var nextBrokerEpoch: Int64 = 100
    var inFlight: [Envelope] = []
    var sequence: UInt64 = 0
    /// A broker cut off the network (from the others, the controller and clients) until `cutUntil`.
    var cutBroker: Int32?
    var cutUntil: Int64 = 0
    var pending: [PendingProduce] = []
    var nextValue: UInt64 = 1
    var acknowledged: [(offset: Int64, value: UInt64)] = []
    /// Acknowledged since the last check.
    var newlyAcknowledged: [(offset: Int64, value: UInt64)] = []
    /// Events worth reading when a seed fails (kept when `tracing`).
    var tracing = false
    var trace: [String] = []
    /// The longest prefix any replica holds below its high watermark.
    var committed: [Record] = []
    var failures: [String] = []
    var faultCount = 0

    init(seed: UInt64) {
        self.seed = seed
        random = SplitMix64(seed: seed)
        controllerImage = MetadataImage(clusterId: "sim", controllerId: 0, brokers: [])
        for id: Int32 in 1...3 {
            brokers[id] = Broker(id: id, state: ReplicaState(localId: id), image: MetadataImage(clusterId: "sim", controllerId: 0, brokers: []))
            register(id)
            lastContact[id] = 0
        }
        commit([.topic(TopicRecord(name: Self.topic, topicId: Self.topicId)),
                .partition(PartitionRecord(partitionId: 0, topicId: Self.topicId, replicas: [1, 2, 3], isr: [1, 2, 3],
                                           leader: 1, leaderEpoch: 0, partitionEpoch: 0))])
    }

    static func incarnationId(_ incarnation: Int) -> Uuid { Uuid(mostSignificantBits: 1, leastSignificantBits: UInt64(incarnation)) }

    var partition: MetadataImage.Partition? { controllerImage.topics[Self.topic]?.partitions.first }

    // MARK: Running

    mutating func run(steps: Int) {
        for _ in 0..<steps where failures.isEmpty { step(allowFaults: true) }
    }

    /// Heals every fault and runs until the replicas agree (or 60 s pass); then checks that
    /// every replica holds every acknowledged record.
    mutating func settle() {
        guard failures.isEmpty else { return }
        cutBroker = nil
        for id in brokers.keys.sorted() {
            brokers[id]!.pausedUntil = nil
            if !brokers[id]!.running { restart(id) }
        }
        for _ in 0..<12_000 {
            step(allowFaults: false)
            if settled { break }
        }
        guard settled else {
            failures.append("seed \(seed): no settled state after healing: \(summary)")
            return
        }
        for (offset, value) in acknowledged {
            for broker in brokers.values where Int(offset) >= broker.log.records.count || broker.log.records[Int(offset)].value != value {
                failures.append("seed \(seed): broker \(broker.id) lost acknowledged \(value) at \(offset)")
            }
        }
    }

    /// Every replica in the ISR, caught up, with the same log.
    var settled: Bool {
        guard let partition, partition.leader > 0, partition.isr.count == 3, pending.isEmpty else { return false }
        let logs = brokers.values.map(\.log.records)
        return brokers.values.allSatisfy { $0.isServing && $0.highWatermark == $0.log.end } && logs.allSatisfy { $0 == logs[0] }
    }

    mutating func step(allowFaults: Bool) {
        now += 5
        if allowFaults { injectFault() }
        wakeAndRestart()
        controllerStep()
        deliverMetadata()
        deliverMessages()
        for id in brokers.keys.sorted() where brokers[id]!.isServing { brokerStep(id) }
        if allowFaults, chance(faults.produce) { produce() }
        settleProduces()
        check()
    }

    private mutating func chance(_ probability: Double) -> Bool {
        Double(random.next() % 1_000_000) / 1_000_000 < probability
    }

    private mutating func pick(_ range: ClosedRange<Int64>) -> Int64 {
        range.lowerBound + Int64(random.next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    private func reachable(_ a: Int32, _ b: Int32) -> Bool {
        guard let cut = cutBroker else { return true }
        return a != cut && b != cut
    }

    // MARK: Faults

    /// One fault at a time, only while every replica is in sync: Kafka's promise is to survive
    /// the loss of any one broker.
    private mutating func injectFault() {
        guard cutBroker == nil, brokers.values.allSatisfy({ $0.isServing }), let partition, partition.isr.count == 3 else { return }
        let victim = Int32(1 + random.next() % 3)
        if chance(faults.crash) {
            faultCount += 1
            brokers[victim]!.running = false
            brokers[victim]!.restartAt = now + pick(100...2000)
            let (end, flushed) = (brokers[victim]!.log.end, brokers[victim]!.log.flushed)
            note("crash \(victim) end \(end) flushed \(flushed)")
            if chance(faults.powerCut) {
                brokers[victim]!.truncate(to: Int64(brokers[victim]!.log.flushed))
                note("power cut \(victim)")
            }
            pending.removeAll { $0.broker == victim }
        } else if chance(faults.pause) {
            faultCount += 1
            brokers[victim]!.pausedUntil = now + pick(100...2000)
            note("pause \(victim)")
        } else if chance(faults.cut) {
            faultCount += 1
            cutBroker = victim
            cutUntil = now + pick(100...2000)
            note("cut \(victim)")
        }
    }

    private mutating func wakeAndRestart() {
        if cutBroker != nil, now >= cutUntil { cutBroker = nil }
        for id in brokers.keys.sorted() {
            if let until = brokers[id]!.pausedUntil, now >= until { brokers[id]!.pausedUntil = nil }
            if let at = brokers[id]!.restartAt, now >= at { restart(id) }
        }
    }

    /// A new process on the same disk: the log as the disk kept it, the high watermark from its
    /// checkpoint, no metadata until the controller's log is read again, a new registration.
    private mutating func restart(_ id: Int32) {
        var broker = brokers[id]!
        broker.running = true
        broker.restartAt = nil
        broker.incarnation += 1
        broker.state = ReplicaState(localId: id, highWatermark: min(broker.checkpointedHighWatermark, broker.log.end))
        broker.image = MetadataImage(clusterId: "sim", controllerId: 0, brokers: [])
        broker.applied = 0
        broker.registered = false
        broker.fetchInFlight = false
        brokers[id] = broker
    }

    // MARK: Controller

    private mutating func commit(_ records: [MetadataRecord]) {
        for record in records {
            controllerImage.apply(record)
            metadataLog.append(record)
            note("controller: \(record)")
        }
    }

    private mutating func register(_ id: Int32) {
        nextBrokerEpoch += 1
        let moved = PartitionLeadership.movedAway(from: id, in: controllerImage)
        commit(moved + [.registerBroker(RegisterBrokerRecord(
            brokerId: id, incarnationId: Self.incarnationId(brokers[id]!.incarnation), brokerEpoch: nextBrokerEpoch,
            endPoints: [.init(name: "PLAINTEXT", host: "10.0.0.\(id)", port: 9092, securityProtocol: 0)], fenced: true))])
        brokers[id]!.registered = true
    }

    /// Heartbeats, registrations, unfencing of caught-up brokers, fencing of silent ones.
    private mutating func controllerStep() {
        for id in brokers.keys.sorted() {
            let broker = brokers[id]!
            if broker.isServing, reachable(0, id) {
                lastContact[id] = now
                if !broker.registered { register(id) }
                if let registration = controllerImage.registrations[id], registration.fenced,
                    brokers[id]!.applied >= metadataLog.count
                {
                    commit([.unfenceBroker(UnfenceBrokerRecord(id: id, epoch: registration.epoch))]
                           + PartitionLeadership.elected(on: id, in: controllerImage))
                }
            }
            if let registration = controllerImage.registrations[id], !registration.fenced,
                now - (lastContact[id] ?? 0) > Self.sessionTimeoutMs
            {
                let moved = PartitionLeadership.movedAway(from: id, in: controllerImage)
                commit(moved + [.fenceBroker(FenceBrokerRecord(id: id, epoch: registration.epoch))])
            }
        }
    }

    /// Brokers the controller reaches apply some of the records they have not yet applied.
    private mutating func deliverMetadata() {
        for id in brokers.keys.sorted() where brokers[id]!.isServing && reachable(0, id) {
            guard brokers[id]!.applied < metadataLog.count, chance(0.5) else { continue }
            let upTo = min(metadataLog.count, brokers[id]!.applied + 1 + Int(random.next() % 3))
            for record in metadataLog[brokers[id]!.applied..<upTo] { brokers[id]!.image.apply(record) }
            brokers[id]!.applied = upTo
            applyPartitionState(id)
        }
    }

    /// What ``Partition/apply(_:now:)`` does with the partition's latest metadata; a broker
    /// whose metadata does not hold this process's registration yet reads it as led by nobody
    /// (``PartitionManager/servedState(of:in:as:incarnation:)``).
    private mutating func applyPartitionState(_ id: Int32) {
        guard var metadata = brokers[id]!.image.topics[Self.topic]?.partitions.first else { return }
        var broker = brokers[id]!
        if faults.registrationGate {
            metadata = MetadataImage.Partition.served(metadata, in: broker.image, by: id, incarnation: Self.incarnationId(broker.incarnation))
        }
        let end = broker.log.end
        let change = broker.state.apply(
            leader: metadata.leader, leaderEpoch: metadata.leaderEpoch, partitionEpoch: metadata.partitionEpoch,
            replicas: metadata.replicas, isr: metadata.isr, logEndOffset: end, now: now)
        if change != .none { note("broker \(id) applies \(change): leader \(metadata.leader)@\(metadata.leaderEpoch) isr \(metadata.isr) end \(end) hw \(broker.highWatermark)") }
        if change == .becameLeader { broker.log.cache.assign(epoch: metadata.leaderEpoch, startOffset: broker.log.end) }
        if change != .none { _ = broker.state.advanceHighWatermark(leaderEndOffset: broker.log.end) }
        if case .becameFollower = change { broker.fetchInFlight = false }
        brokers[id] = broker
    }

    // MARK: Network

    private mutating func send(_ message: Message, from: Int32, to: Int32) {
        guard reachable(from, to), !chance(faults.loss) else { return }
        sequence += 1
        inFlight.append(Envelope(deliverAt: now + pick(1...faults.maxDelay), sequence: sequence, from: from, to: to, message: message))
    }

    private mutating func deliverMessages() {
        var kept: [Envelope] = []
        var due: [Envelope] = []
        for envelope in inFlight {
            if envelope.deliverAt <= now { due.append(envelope) } else { kept.append(envelope) }
        }
        inFlight = kept
        for envelope in due.sorted(by: { ($0.deliverAt, $0.sequence) < ($1.deliverAt, $1.sequence) }) {
            guard reachable(envelope.from, envelope.to) else { continue }
            if envelope.to == 0 {
                controllerReceives(envelope.message)
            } else if brokers[envelope.to]!.running {
                if brokers[envelope.to]!.pausedUntil != nil {
                    // A paused process reads its socket once it wakes.
                    var later = envelope
                    later.deliverAt = brokers[envelope.to]!.pausedUntil!
                    inFlight.append(later)
                } else {
                    brokerReceives(envelope.message, at: envelope.to, from: envelope.from)
                }
            }
        }
    }

    private mutating func controllerReceives(_ message: Message) {
        guard case .alterPartition(let leader, let request, let leaderEpoch, let partitionEpoch, let isr) = message,
            let topic = controllerImage.topics[Self.topic]
        else { return }
        switch PartitionLeadership.alter(
            topic: topic, partitionIndex: 0, by: leader, leaderEpoch: leaderEpoch, partitionEpoch: partitionEpoch,
            newIsr: isr, in: controllerImage)
        {
        case .changed(let record):
            commit([.partition(record)])
            send(.alterAnswered(request: request, accepted: true), from: 0, to: leader)
        case .refused:
            send(.alterAnswered(request: request, accepted: false), from: 0, to: leader)
        }
    }

    // MARK: Brokers

    private mutating func brokerStep(_ id: Int32) {
        var broker = brokers[id]!
        if let deadline = broker.isrChangeDeadline, now > deadline {
            broker.isrChangeDeadline = nil
            broker.state.isrChangeFailed()
        }
        if broker.state.isLeader {
            // The leader's periodic ISR check.
            if now % 50 == 0, let proposed = broker.state.proposeIsrChange(now: now, maxLagMs: Self.lagTimeMaxMs, canJoin: { canJoin($0, broker.image) }) {
                brokers[id] = broker
                sendIsrChange(id, proposed)
                broker = brokers[id]!
            }
        } else if broker.state.leaderId > 0, !broker.fetchInFlight, now >= broker.fetchBackoffUntil, broker.registered {
            broker.fetchInFlight = true
            brokers[id] = broker
            send(.fetch(follower: id, incarnation: broker.incarnation, fetchOffset: broker.log.end,
                        lastFetchedEpoch: faults.skipDivergenceCheck ? -1 : broker.log.latestEpoch,
                        leaderEpoch: broker.state.leaderEpoch),
                 from: id, to: broker.state.leaderId)
            // A lost fetch is given up after a while, as the socket timeout does.
            broker = brokers[id]!
        }
        if chance(0.02) { broker.log.flushed = broker.log.records.count }
        if chance(0.05) { broker.checkpointedHighWatermark = broker.highWatermark }
        brokers[id] = broker
        if brokers[id]!.fetchInFlight, chance(0.01) { brokers[id]!.fetchInFlight = false }
    }

    private func canJoin(_ replica: Int32, _ image: MetadataImage) -> Bool {
        guard let registration = image.registrations[replica] else { return false }
        return !registration.fenced && !registration.inControlledShutdown
    }

    private mutating func sendIsrChange(_ id: Int32, _ proposed: [Int32]) {
        let broker = brokers[id]!
        let members = proposed.map { (id: $0, epoch: broker.image.registrations[$0]?.epoch ?? -1) }
        sequence += 1
        brokers[id]!.isrChangeRequest = Int(sequence)
        brokers[id]!.isrChangeDeadline = now + 1000
        send(.alterPartition(leader: id, request: Int(sequence), leaderEpoch: broker.state.leaderEpoch,
                             partitionEpoch: broker.state.partitionEpoch, isr: members), from: id, to: 0)
    }

    private mutating func brokerReceives(_ message: Message, at id: Int32, from: Int32) {
        switch message {
        case .fetch(let follower, let incarnation, let fetchOffset, let lastFetchedEpoch, let leaderEpoch):
            let answer = leaderAnswers(id, follower: follower, fetchOffset: fetchOffset, lastFetchedEpoch: lastFetchedEpoch,
                                       leaderEpoch: leaderEpoch)
            send(.fetchAnswer(incarnation: incarnation, leaderEpoch: leaderEpoch, fetchOffset: fetchOffset, answer), from: id, to: follower)
        case .fetchAnswer(let incarnation, let leaderEpoch, let fetchOffset, let answer):
            followerApplies(id, answer, incarnation: incarnation, leaderEpoch: leaderEpoch, fetchOffset: fetchOffset)
        case .alterAnswered(let request, let accepted):
            // Only the answer to the request in flight counts (each has its own timeout).
            guard request == brokers[id]!.isrChangeRequest, brokers[id]!.isrChangeDeadline != nil else { break }
            brokers[id]!.isrChangeDeadline = nil
            if !accepted { brokers[id]!.state.isrChangeFailed() }
        case .alterPartition:
            break
        }
    }

    /// The leader's side of a replica fetch, in the order ``FetchHandler`` checks it.
    private mutating func leaderAnswers(
        _ id: Int32, follower: Int32, fetchOffset: Int64, lastFetchedEpoch: Int32, leaderEpoch: Int32
    ) -> FetchAnswer {
        var broker = brokers[id]!
        defer { brokers[id] = broker }
        guard broker.state.isLeader, broker.state.replicas.contains(follower), leaderEpoch == broker.state.leaderEpoch else {
            return .refused
        }
        if let diverging = ReplicaFetchResult.divergingEpoch(
            lastFetchedEpoch: lastFetchedEpoch, fetchOffset: fetchOffset, leaderEnd: broker.log.endOffset(forEpoch: lastFetchedEpoch))
        {
            return .diverging(diverging)
        }
        guard fetchOffset <= broker.log.end else { return .outOfRange(highWatermark: broker.highWatermark) }
        _ = broker.state.recordFetch(replica: follower, fetchOffset: fetchOffset, logStartOffset: 0, leaderEndOffset: broker.log.end, now: now)
        let image = broker.image
        if let proposed = broker.state.proposeIsrChange(now: now, maxLagMs: Self.lagTimeMaxMs, canJoin: { canJoin($0, image) }) {
            brokers[id] = broker
            sendIsrChange(id, proposed)
            broker = brokers[id]!
        }
        let upTo = min(broker.log.end, fetchOffset + Int64(Self.maxFetchRecords))
        return .records(Array(broker.log.records[Int(fetchOffset)..<Int(upTo)]), highWatermark: broker.highWatermark)
    }

    /// The follower's side, as ``ReplicaFetchResult/apply(_:to:fetchOffset:)`` does it.
    private mutating func followerApplies(_ id: Int32, _ answer: FetchAnswer, incarnation: Int, leaderEpoch: Int32, fetchOffset: Int64) {
        var broker = brokers[id]!
        defer { brokers[id] = broker }
        guard broker.incarnation == incarnation, broker.fetchInFlight, !broker.state.isLeader,
            broker.state.leaderEpoch == leaderEpoch, fetchOffset == broker.log.end
        else { return }
        broker.fetchInFlight = false
        switch answer {
        case .refused:
            broker.fetchBackoffUntil = now + Self.fetchBackoffMs
        case .diverging(let diverging):
            let offset = ReplicaFetchResult.truncationOffset(
                diverging: diverging, local: broker.log.endOffset(forEpoch: diverging.epoch.rawValue), logEndOffset: broker.log.end)
            note("broker \(id) diverged at \(diverging): truncates \(broker.log.end) to \(offset)")
            broker.truncate(to: offset)
            broker.state.capHighWatermark(broker.log.end)
        case .outOfRange(let highWatermark):
            if highWatermark < fetchOffset {
                note("broker \(id) ahead of the leader: truncates \(broker.log.end) to \(highWatermark)")
                broker.truncate(to: highWatermark)
                broker.state.capHighWatermark(broker.log.end)
            } else {
                broker.fetchBackoffUntil = now + Self.fetchBackoffMs
            }
        case .records(let records, let highWatermark):
            broker.log.append(records)
            broker.state.followHighWatermark(highWatermark, logEndOffset: broker.log.end)
        }
    }

    // MARK: Producer

    /// An idempotence-free acks=all producer: a few records to the broker some broker's
    /// metadata names as leader, refused unless it leads with enough in-sync replicas.
    private mutating func produce() {
        let viewer = Int32(1 + random.next() % 3)
        let target = brokers[viewer]!.image.topics[Self.topic]?.partitions.first?.leader ?? -1
        guard target > 0, reachable(-1, target), brokers[target]!.isServing else { return }
        var broker = brokers[target]!
        guard broker.state.isLeader, broker.state.isr.count >= Self.minInSync else { return }
        let count = 1 + Int(random.next() % 3)
        var written: [(offset: Int64, value: UInt64)] = []
        for _ in 0..<count {
            written.append((broker.log.end, nextValue))
            broker.log.append([Record(epoch: broker.state.leaderEpoch, value: nextValue)])
            nextValue += 1
        }
        brokers[target] = broker
        note("broker \(target) appends \(written.first!.offset)..<\(broker.log.end) in epoch \(broker.state.leaderEpoch)")
        pending.append(PendingProduce(broker: target, incarnation: broker.incarnation, epoch: broker.state.leaderEpoch,
                                      records: written, deadline: now + 3000))
    }

    /// Answers the produces whose outcome is known, as ``Partition/replicationOutcome(below:epoch:)`` decides.
    private mutating func settleProduces() {
        var waiting: [PendingProduce] = []
        for produce in pending {
            let broker = brokers[produce.broker]!
            guard broker.running, broker.incarnation == produce.incarnation else { continue }
            guard broker.pausedUntil == nil else { waiting.append(produce); continue }
            guard broker.state.isLeader, broker.state.leaderEpoch == produce.epoch else { continue }
            let end = produce.records.last!.offset + 1
            guard broker.highWatermark >= end else {
                if now <= produce.deadline { waiting.append(produce) }
                continue
            }
            if broker.state.isr.count >= Self.minInSync {
                acknowledged += produce.records
                newlyAcknowledged += produce.records
                note("broker \(produce.broker) acknowledges ..<\(end) at hw \(broker.highWatermark) isr \(broker.state.isr)")
            }
        }
        pending = waiting
    }

    // MARK: Checks

    /// What each replica holds below its high watermark is a prefix of one committed history,
    /// and every acknowledged record is in it. Stops at the first breach.
    private mutating func check() {
        guard failures.isEmpty else { return }
        for id in brokers.keys.sorted() where brokers[id]!.running {
            let broker = brokers[id]!
            let below = Int(min(broker.highWatermark, broker.log.end))
            guard below > broker.checkedUpTo else { continue }
            let shared = min(below, committed.count)
            if let at = (broker.checkedUpTo..<shared).first(where: { broker.log.records[$0] != committed[$0] }) {
                failures.append("seed \(seed) at \(now) ms: broker \(id) holds \(broker.log.records[at]) at \(at) below its high watermark \(below), the committed history \(committed[at])")
                return
            }
            if below > committed.count { committed += broker.log.records[committed.count..<below] }
            brokers[id]!.checkedUpTo = below
        }
        for (offset, value) in newlyAcknowledged where Int(offset) >= committed.count || committed[Int(offset)].value != value {
            failures.append("seed \(seed) at \(now) ms: \(value) acknowledged at \(offset) is not in the committed history")
            return
        }
        newlyAcknowledged.removeAll()
    }

    private mutating func note(_ event: String) {
        if tracing { trace.append("\(now) ms: \(event)") }
    }

    var summary: String {
        let state = brokers.values.sorted { $0.id < $1.id }.map {
            "broker \($0.id): running \($0.running) paused \($0.pausedUntil != nil) leader \($0.state.leaderId)@\($0.state.leaderEpoch) end \($0.log.end) hw \($0.highWatermark) applied \($0.applied)/\(metadataLog.count)"
        }
        return "partition \(String(describing: partition)); " + state.joined(separator: "; ")
    }

    var report: String {
        "seed \(seed): \(failures.prefix(5).joined(separator: "\n")) — \(summary)"
    }
}
