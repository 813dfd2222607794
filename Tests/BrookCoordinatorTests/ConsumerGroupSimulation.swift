@testable import BrookCoordinator
import BrookModel
import BrookProtocol

/// A KIP-848 group driven by simulated consumers in a seeded random order: heartbeats, polls,
/// subscription changes, joins, leaves (-1 and a static member's -2), kills followed by session
/// expiry, long pauses, restarts of static members and second members with a live member's
/// instance id, partitions added to topics, and time passing with the coordinator's expiry tick.
///
/// After every step it checks that no partition is owned twice, neither in the coordinator's
/// books (assigned or pending revocation) nor by two consumers the coordinator counts as
/// members, that every consumer owns only what the coordinator attributes to it, and that the
/// group's records rebuild the group as it is.
/// `settle()` then lets the consumers heartbeat and poll in turn and checks that the group
/// converges to the target assignment within a few heartbeats.
struct ConsumerGroupSimulation {
    static let sessionTimeoutMs: Int32 = 3_000
    static let topicNames = (0..<8).map { "t\($0)" }

    let seed: UInt64
    var random: SplitMix64
    var group = ConsumerGroup(groupId: "sim")
    var consumers: [SimulatedConsumer] = []
    var catalog: TopicCatalog
    let configuration: GroupConfiguration
    var now: Int64 = 0
    var trace: [String] = []
    var failures: [String] = []
    /// The group's records so far, as a coordinator would load them.
    var stored = ConsumerGroupLoader()
    private var nextClient = 0
    private var nextInstance = 0

    init(seed: UInt64) {
        self.seed = seed
        random = SplitMix64(seed: seed)
        var topics: [String: TopicCatalog.Topic] = [:]
        for (index, name) in Self.topicNames.enumerated() {
            topics[name] = .init(id: Uuid(mostSignificantBits: 7, leastSignificantBits: UInt64(index + 1)), partitionCount: Int32(index % 3 + 1))
        }
        catalog = TopicCatalog(topics: topics)
        var configuration = GroupConfiguration()
        configuration.consumerSessionTimeoutMs = Self.sessionTimeoutMs
        self.configuration = configuration
    }

    // MARK: Steps

    /// Runs `steps` random steps, checking the invariants after each.
    mutating func run(steps: Int) {
        let empty = group
        for _ in 0..<3 { addConsumer() }
        checkStored(since: empty)
        for count in 0..<steps where failures.isEmpty {
            let before = group
            step()
            checkInvariants()
            // Rebuilding from the records is the slow part: every few steps, and at the end.
            checkStored(since: before, rebuild: count % 5 == 4 || count == steps - 1)
        }
    }

    mutating func step() {
        let roll = Int.random(in: 0..<100, using: &random)
        switch roll {
        case 0..<30: heartbeat(pickActive())
        case 30..<48: poll(pickActive())
        case 48..<60: changeSubscription(pickActive())
        case 60..<63: unsubscribe(pickActive())
        case 63..<66: resubscribe()
        case 66..<69: addConsumer()
        case 69..<71: close(pickActive())
        case 71..<73: kill(pickActive())
        case 73..<75: restartStatic()
        case 75..<77: duplicateInstance()
        case 77..<79: stall(pickActive())
        case 79..<80: growTopic()
        default: advance(by: Int64.random(in: 1...400, using: &random))
        }
    }

    /// Lets every consumer poll and heartbeat in turn until the group is settled: first until
    /// the members that are gone have expired, then at most `rounds` more rounds.
    mutating func settle(rounds: Int) {
        guard failures.isEmpty else { return }
        for index in consumers.indices { consumers[index].stalledUntil = 0 }
        trace.append("settle")
        var round = 0
        var expiryRounds = 0
        while failures.isEmpty {
            let before = group
            for index in consumers.indices where consumers[index].isActive(at: now) {
                poll(index)
                heartbeat(index)
            }
            advance(by: 200)
            checkInvariants()
            checkStored(since: before)
            if settledProblems().isEmpty { return }
            let waitingForExpiry = group.members.keys.contains { id in !consumers.contains { $0.memberId == id && $0.isActive(at: now) } }
            if waitingForExpiry && expiryRounds < 100 {
                expiryRounds += 1
                continue
            }
            round += 1
            if round > rounds {
                fail("the group did not converge within \(rounds) heartbeats: \(settledProblems().joined(separator: "; "))")
            }
        }
    }

    // MARK: Consumer actions

    private mutating func pickActive() -> Int? {
        let active = consumers.indices.filter { consumers[$0].isActive(at: now) }
        return active.isEmpty ? nil : active[Int.random(in: 0..<active.count, using: &random)]
    }

    private mutating func randomSubscription() -> [String] {
        let count = Self.topicNames.count
        if Bool.random(using: &random) {
            // A sliding window, wrapping around.
            let start = Int.random(in: 0..<count, using: &random)
            let size = Int.random(in: 1...3, using: &random)
            return (start..<(start + size)).map { Self.topicNames[$0 % count] }
        }
        return Self.topicNames.filter { _ in Int.random(in: 0..<3, using: &random) == 0 }
    }

    @discardableResult
    mutating func addConsumer(instanceId: String? = nil) -> Int? {
        guard consumers.filter(\.alive).count < 7 else { return nil }
        nextClient += 1
        var instance = instanceId
        if instance == nil && Int.random(in: 0..<3, using: &random) == 0 {
            nextInstance += 1
            instance = "i\(nextInstance)"
        }
        let assignor: String? = Int.random(in: 0..<5, using: &random) == 0 ? "range" : nil
        let consumer = SimulatedConsumer(memberId: "c\(nextClient)", instanceId: instance, subscription: randomSubscription(), serverAssignor: assignor)
        trace.append("add \(consumer.memberId) instance=\(instance ?? "-") subscription=\(consumer.subscription ?? []) assignor=\(assignor ?? "-")")
        consumers.append(consumer)
        heartbeat(consumers.count - 1)
        return consumers.count - 1
    }

    mutating func heartbeat(_ index: Int?) {
        guard let index else { return }
        let request = consumers[index].heartbeat()
        let acknowledging = request.memberEpoch > 0 && request.ownedPartitions != nil
        let result = group.heartbeat(request, catalog: catalog, configuration: configuration, now: now, newMemberId: { "unexpected" })
        trace.append("heartbeat \(request.memberId) epoch=\(request.memberEpoch) owned=\(describe(request.ownedPartitions))"
            + " subscription=\(request.subscribedTopicNames.map { "\($0)" } ?? "-") -> \(result.error) epoch=\(result.memberEpoch)"
            + " assignment=\(describe(result.assignment))")
        if let unexpected = consumers[index].receive(result, acknowledged: acknowledging) {
            fail("\(request.memberId) got \(unexpected) (\(result.errorMessage ?? "")) for \(request)")
        }
    }

    mutating func poll(_ index: Int?) {
        guard let index else { return }
        consumers[index].poll()
        trace.append("poll \(consumers[index].memberId) owns=\(describe(consumers[index].owned))")
    }

    mutating func changeSubscription(_ index: Int?) {
        guard let index else { return }
        let subscription = randomSubscription()
        consumers[index].subscription = subscription
        consumers[index].subscriptionChanged = true
        trace.append("subscribe \(consumers[index].memberId) \(subscription)")
    }

    /// Unsubscribing revokes everything, then sends the leave heartbeat.
    mutating func unsubscribe(_ index: Int?) {
        guard let index, consumers[index].joined else { return }
        leave(index, temporarily: false)
        consumers[index].subscription = nil
    }

    mutating func resubscribe() {
        let out = consumers.indices.filter { consumers[$0].alive && consumers[$0].subscription == nil }
        guard !out.isEmpty else { return }
        let index = out[Int.random(in: 0..<out.count, using: &random)]
        consumers[index].subscription = randomSubscription()
        trace.append("resubscribe \(consumers[index].memberId) \(consumers[index].subscription ?? [])")
        heartbeat(index)
    }

    /// A clean close: revoke, leave (a static member with -2), and the process ends.
    mutating func close(_ index: Int?) {
        guard let index else { return }
        if consumers[index].joined { leave(index, temporarily: consumers[index].instanceId != nil) }
        consumers[index].alive = false
    }

    private mutating func leave(_ index: Int, temporarily: Bool) {
        consumers[index].revokeAll()
        let request = consumers[index].leaveHeartbeat(temporarily: temporarily)
        let result = group.heartbeat(request, catalog: catalog, configuration: configuration, now: now, newMemberId: { "unexpected" })
        trace.append("leave \(request.memberId) epoch=\(request.memberEpoch) -> \(result.error)")
        consumers[index].lose()
    }

    /// kill -9: no leave heartbeat; the coordinator finds out when the session expires.
    mutating func kill(_ index: Int?) {
        guard let index else { return }
        consumers[index].alive = false
        consumers[index].revokeAll()
        trace.append("kill \(consumers[index].memberId)")
    }

    /// A static member's process stops (closed or killed) and a new one with the same instance
    /// id starts at once.
    mutating func restartStatic() {
        let statics = consumers.indices.filter { consumers[$0].isActive(at: now) && consumers[$0].instanceId != nil }
        guard !statics.isEmpty else { return }
        let index = statics[Int.random(in: 0..<statics.count, using: &random)]
        if Bool.random(using: &random) { close(index) } else { kill(index) }
        trace.append("restart \(consumers[index].instanceId!)")
        addConsumer(instanceId: consumers[index].instanceId)
    }

    /// A second consumer configured with a live member's instance id.
    mutating func duplicateInstance() {
        let statics = consumers.indices.filter {
            consumers[$0].isActive(at: now) && consumers[$0].instanceId != nil && (group.members[consumers[$0].memberId]?.epoch ?? -1) >= 0
        }
        guard !statics.isEmpty else { return }
        let index = statics[Int.random(in: 0..<statics.count, using: &random)]
        let existing = group.members[consumers[index].memberId]
        trace.append("duplicate \(consumers[index].instanceId!)")
        guard let duplicate = addConsumer(instanceId: consumers[index].instanceId) else { return }
        // Kafka refuses the newcomer (fatal for it); the member in place keeps its assignment.
        if consumers[duplicate].fatal != .unreleasedInstanceId {
            fail("a second consumer with the live instance id \(consumers[index].instanceId!) was not refused with UNRELEASED_INSTANCE_ID")
        }
        if group.members[consumers[index].memberId] != existing {
            fail("the member in place \(consumers[index].memberId) changed when a second consumer used its instance id")
        }
    }

    /// The application stops polling (and so heartbeating) for a while, possibly past its session.
    mutating func stall(_ index: Int?) {
        guard let index else { return }
        let pause = Int64.random(in: 500...Int64(Self.sessionTimeoutMs) * 2, using: &random)
        consumers[index].stalledUntil = now + pause
        trace.append("stall \(consumers[index].memberId) for \(pause) ms")
    }

    mutating func growTopic() {
        let name = Self.topicNames[Int.random(in: 0..<Self.topicNames.count, using: &random)]
        var topics = catalog.topics
        guard let count = topics[name]?.partitionCount, count < 6 else { return }
        topics[name]?.partitionCount = count + 1
        catalog = TopicCatalog(topics: topics)
        trace.append("grow \(name) to \(count + 1) partitions")
    }

    mutating func advance(by milliseconds: Int64) {
        now += milliseconds
        let before = Set(group.members.keys)
        group.expire(now: now)
        let gone = before.subtracting(group.members.keys).sorted()
        trace.append("time \(now)" + (gone.isEmpty ? "" : " expired \(gone)"))
    }
}
