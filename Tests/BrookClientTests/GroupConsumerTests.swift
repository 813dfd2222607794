import BrookClient
import BrookModel
import BrookProtocol
import NIOCore
import Synchronization
import Testing

/// Runs an in-process broker with group settings for quick rebalances (no initial delay,
/// KIP-848 heartbeats every 100 ms) plus `overrides`.
func withGroupBroker(_ overrides: [String] = [], _ body: (String) async throws -> Void) async throws {
    try await withBroker(["group.consumer.heartbeat.interval.ms=100"] + overrides, body)
}

/// Subscribed consumers against an in-process broker: groups split partitions, take over from
/// members that leave, resume from committed offsets, in both group protocols.
@Suite struct GroupConsumerTests {
    /// Records seen by one consumer, with its rebalance callbacks' history.
    final class Seen: Sendable {
        let records = Mutex<[String]>([])
        let assigned = Mutex<[[TopicPartition]]>([])
        let revoked = Mutex<[[TopicPartition]]>([])
        let lost = Mutex<[[TopicPartition]]>([])
    }

    static func member(
        _ bootstrap: String, group: String, seen: Seen = Seen(), _ change: (inout ConsumerConfiguration) -> Void = { _ in }
    ) async throws -> Consumer {
        var configuration = ConsumerConfiguration(bootstrapServers: bootstrap)
        configuration.groupId = group
        configuration.autoOffsetReset = .earliest
        configuration.fetchMaxWaitMs = 50
        configuration.heartbeatIntervalMs = 100
        configuration.sessionTimeoutMs = 6_000
        configuration.autoCommitIntervalMs = 200
        configuration.onPartitionsAssigned = { _, partitions in seen.assigned.withLock { $0.append(partitions) } }
        configuration.onPartitionsRevoked = { _, partitions in seen.revoked.withLock { $0.append(partitions) } }
        configuration.onPartitionsLost = { _, partitions in seen.lost.withLock { $0.append(partitions) } }
        change(&configuration)
        return try await Consumer.connect(configuration)
    }

    static func createTopic(_ name: String, partitions: Int32, bootstrap: String) async throws {
        let cluster = try await Cluster.connect(bootstrapServers: bootstrap)
        let created = try await cluster.connection(to: 1).send(CreateTopicsRequest(
            topics: [.init(name: name, numPartitions: partitions, replicationFactor: 1)], timeoutMs: 5_000))
        #expect(created.topics.map(\.errorCode) == [0])
        await cluster.close()
    }

    static func produce(_ bootstrap: String, topic: String, values: [String], partitions: Int32) async throws {
        var configuration = ProducerConfiguration(bootstrapServers: bootstrap)
        configuration.lingerMs = 1
        let producer = try await Producer.connect(configuration)
        for (index, value) in values.enumerated() {
            try await producer.enqueue(ProducerRecord(topic: topic, partition: Int32(index) % partitions, value: ByteBuffer(string: value)))
        }
        await producer.close()
    }

    /// Polls every consumer in turn (their records go to `seen`) until `done` holds.
    static func poll(_ members: [(Consumer, Seen)], timeout: Duration = .seconds(30), until done: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !done() {
            guard ContinuousClock.now < deadline else { return false }
            for (consumer, seen) in members {
                let records = try await consumer.poll(timeout: .milliseconds(50))
                seen.records.withLock { $0 += records.map { String(buffer: $0.value!) } }
            }
        }
        return true
    }

    static func splitsEvenly(_ consumers: [Consumer], partitions: Int32) -> Bool {
        let assigned = consumers.flatMap { $0.assignment }
        return assigned.count == Int(partitions) && Set(assigned).count == Int(partitions) && consumers.allSatisfy { !$0.assignment.isEmpty }
    }

    @Test(arguments: [
        ("range", ConsumerConfiguration.GroupProtocol.classic), ("roundrobin", .classic), ("cooperative-sticky", .classic),
        ("uniform", .consumer),
    ])
    func twoMembersSplitThePartitionsAndOneTakesOverWhenTheOtherLeaves(strategy: String, groupProtocol: ConsumerConfiguration.GroupProtocol) async throws {
        try await withGroupBroker { bootstrap in
            let topic = "split-\(strategy)"
            try await Self.createTopic(topic, partitions: 4, bootstrap: bootstrap)
            func configure(_ configuration: inout ConsumerConfiguration) {
                configuration.groupProtocol = groupProtocol
                if let strategy = AssignmentStrategy(rawValue: strategy) { configuration.partitionAssignmentStrategy = [strategy.assignor] }
                if groupProtocol == .consumer { configuration.groupRemoteAssignor = strategy }
            }
            let (seenA, seenB) = (Seen(), Seen())
            let a = try await Self.member(bootstrap, group: "g-\(strategy)", seen: seenA, configure)
            let b = try await Self.member(bootstrap, group: "g-\(strategy)", seen: seenB, configure)
            try a.subscribe(topics: [topic])
            try b.subscribe(topics: [topic])
            #expect(try await Self.poll([(a, seenA), (b, seenB)]) { Self.splitsEvenly([a, b], partitions: 4) })
            #expect(a.assignment.count == 2 && b.assignment.count == 2)

            let values = (0..<40).map { "v\($0)" }
            try await Self.produce(bootstrap, topic: topic, values: values, partitions: 4)
            #expect(try await Self.poll([(a, seenA), (b, seenB)]) { seenA.records.withLock(\.count) + seenB.records.withLock(\.count) >= 40 })
            let all = seenA.records.withLock { $0 } + seenB.records.withLock { $0 }
            #expect(all.sorted() == values.sorted(), "every record once")

            // b leaves (committing its positions); a takes over and resumes where b stopped.
            await b.close()
            #expect(try await Self.poll([(a, seenA)]) { a.assignment.count == 4 })
            let revokedFromB = seenB.revoked.withLock { $0 }
            #expect(!revokedFromB.isEmpty)
            seenA.records.withLock { $0 = [] }
            let more = (40..<60).map { "v\($0)" }
            try await Self.produce(bootstrap, topic: topic, values: more, partitions: 4)
            #expect(try await Self.poll([(a, seenA)]) { seenA.records.withLock(\.count) >= 20 })
            _ = try await Self.poll([(a, seenA)], timeout: .milliseconds(300)) { false }
            #expect(seenA.records.withLock { $0 }.sorted() == more.sorted(), "nothing read twice")
            let lostByA = seenA.lost.withLock { $0 }
            #expect(lostByA.isEmpty)
            await a.close()
        }
    }

    @Test(arguments: [ConsumerConfiguration.GroupProtocol.classic, .consumer])
    func committedOffsetsAreWhereTheNextMemberResumes(groupProtocol: ConsumerConfiguration.GroupProtocol) async throws {
        try await withGroupBroker { bootstrap in
            try await Self.createTopic("resume", partitions: 2, bootstrap: bootstrap)
            try await Self.produce(bootstrap, topic: "resume", values: (0..<30).map { "v\($0)" }, partitions: 2)
            let seen = Seen()
            let first = try await Self.member(bootstrap, group: "resumers", seen: seen) {
                $0.enableAutoCommit = false
                $0.groupProtocol = groupProtocol
            }
            try first.subscribe(topics: ["resume"])
            #expect(try await Self.poll([(first, seen)]) { seen.records.withLock(\.count) >= 30 })
            try await first.commit()
            let partitions = [TopicPartition(topic: "resume", partition: 0), TopicPartition(topic: "resume", partition: 1)]
            #expect(try await first.committed(partitions) == [partitions[0]: 15, partitions[1]: 15])
            await first.close()

            try await Self.produce(bootstrap, topic: "resume", values: (30..<34).map { "v\($0)" }, partitions: 2)
            let again = Seen()
            let second = try await Self.member(bootstrap, group: "resumers", seen: again) { $0.groupProtocol = groupProtocol }
            try second.subscribe(topics: ["resume"])
            #expect(try await Self.poll([(second, again)]) { again.records.withLock(\.count) >= 4 })
            #expect(again.records.withLock { $0 }.sorted() == ["v30", "v31", "v32", "v33"])
            await second.close()
            // Auto-commit committed on close.
            let checker = try await Self.member(bootstrap, group: "resumers")
            #expect(try await checker.committed(partitions) == [partitions[0]: 17, partitions[1]: 17])
            await checker.close()
        }
    }

    @Test(arguments: [ConsumerConfiguration.GroupProtocol.classic, .consumer])
    func aPatternSubscriptionFindsNewTopicsAndCallbacksSeek(groupProtocol: ConsumerConfiguration.GroupProtocol) async throws {
        try await withGroupBroker { bootstrap in
            try await Self.createTopic("pat-a", partitions: 1, bootstrap: bootstrap)
            try await Self.createTopic("other", partitions: 1, bootstrap: bootstrap)
            try await Self.produce(bootstrap, topic: "pat-a", values: (0..<10).map { "a\($0)" }, partitions: 1)
            try await Self.produce(bootstrap, topic: "other", values: ["o"], partitions: 1)
            let seen = Seen()
            let consumer = try await Self.member(bootstrap, group: "patterns", seen: seen) { configuration in
                configuration.groupProtocol = groupProtocol
                configuration.metadataMaxAgeMs = 200
                configuration.onPartitionsAssigned = { consumer, partitions in
                    seen.assigned.withLock { $0.append(partitions) }
                    // Start pat-a at offset 5.
                    for partition in partitions where partition.topic == "pat-a" { consumer.seek(partition, to: 5) }
                }
            }
            try consumer.subscribe(pattern: "pat-.*")
            #expect(try await Self.poll([(consumer, seen)]) { seen.records.withLock(\.count) >= 5 })
            #expect(seen.records.withLock { $0 } == (5..<10).map { "a\($0)" })

            try await Self.createTopic("pat-b", partitions: 1, bootstrap: bootstrap)
            try await Self.produce(bootstrap, topic: "pat-b", values: ["b0", "b1"], partitions: 1)
            #expect(try await Self.poll([(consumer, seen)]) { seen.records.withLock(\.count) >= 7 })
            #expect(seen.records.withLock { $0 }.suffix(2) == ["b0", "b1"])
            #expect(consumer.assignment == [TopicPartition(topic: "pat-a", partition: 0), TopicPartition(topic: "pat-b", partition: 0)])
            await consumer.close()
        }
    }

    /// KIP-429: the member already there gives up only what moves, and only once.
    @Test func aCooperativeMemberKeepsItsPartitionsWhenAnotherJoins() async throws {
        try await withGroupBroker { bootstrap in
            try await Self.createTopic("incremental", partitions: 4, bootstrap: bootstrap)
            func cooperative(_ configuration: inout ConsumerConfiguration) {
                configuration.partitionAssignmentStrategy = [CooperativeStickyAssignor()]
            }
            let (seenA, seenB) = (Seen(), Seen())
            let a = try await Self.member(bootstrap, group: "incremental", seen: seenA, cooperative)
            try a.subscribe(topics: ["incremental"])
            #expect(try await Self.poll([(a, seenA)]) { a.assignment.count == 4 })
            let b = try await Self.member(bootstrap, group: "incremental", seen: seenB, cooperative)
            try b.subscribe(topics: ["incremental"])
            #expect(try await Self.poll([(a, seenA), (b, seenB)]) { Self.splitsEvenly([a, b], partitions: 4) && a.assignment.count == 2 })
            let revoked = seenA.revoked.withLock { $0 }
            #expect(revoked.count == 1 && Set(revoked.joined()) == b.assignment, "a revoked exactly what b got")
            let assignedToB = seenB.assigned.withLock { $0 }.joined()
            #expect(Set(assignedToB) == b.assignment)
            await b.close()
            await a.close()
        }
    }

    /// KIP-345: a static member that comes back within its session takes its partitions again
    /// without the other member noticing.
    @Test func aStaticMemberComesBackToItsPartitions() async throws {
        try await withGroupBroker { bootstrap in
            try await Self.createTopic("static", partitions: 4, bootstrap: bootstrap)
            let (seenA, seenB) = (Seen(), Seen())
            let a = try await Self.member(bootstrap, group: "statics", seen: seenA) { $0.groupInstanceId = "a" }
            let b = try await Self.member(bootstrap, group: "statics", seen: seenB) { $0.groupInstanceId = "b" }
            try a.subscribe(topics: ["static"])
            try b.subscribe(topics: ["static"])
            #expect(try await Self.poll([(a, seenA), (b, seenB)]) { Self.splitsEvenly([a, b], partitions: 4) })
            let held = a.assignment
            let bAssignments = seenB.assigned.withLock(\.count)
            // Under load the two may have joined in two rebalances: only what happens from the
            // restart on counts.
            let bRevocations = seenB.revoked.withLock(\.count)
            await a.close()
            let again = try await Self.member(bootstrap, group: "statics", seen: seenA) { $0.groupInstanceId = "a" }
            try again.subscribe(topics: ["static"])
            #expect(try await Self.poll([(again, seenA), (b, seenB)]) { again.assignment == held })
            _ = try await Self.poll([(again, seenA), (b, seenB)], timeout: .milliseconds(500)) { false }
            #expect(seenB.assigned.withLock(\.count) == bAssignments && seenB.revoked.withLock(\.count) == bRevocations, "b saw no rebalance")
            await again.close()
            await b.close()
        }
    }

    @Test func recordsAreAnAsyncSequence() async throws {
        try await withGroupBroker { bootstrap in
            try await Self.createTopic("sequence", partitions: 2, bootstrap: bootstrap)
            try await Self.produce(bootstrap, topic: "sequence", values: (0..<10).map { "s\($0)" }, partitions: 2)
            let consumer = try await Self.member(bootstrap, group: "sequencers")
            try consumer.subscribe(topics: ["sequence"])
            var values: [String] = []
            for try await record in consumer.records {
                values.append(String(buffer: record.value!))
                if values.count == 10 { break }
            }
            #expect(values.sorted() == (0..<10).map { "s\($0)" }.sorted())
            await consumer.close()
        }
    }

    @Test func subscribingNeedsAGroupAndAValidPattern() async throws {
        try await withGroupBroker { bootstrap in
            var configuration = ConsumerConfiguration(bootstrapServers: bootstrap)
            let loner = try await Consumer.connect(configuration)
            #expect(throws: ClientError.self) { try loner.subscribe(topics: ["t"]) }
            await loner.close()
            configuration.groupId = "g"
            let member = try await Consumer.connect(configuration)
            #expect(throws: ClientError.self) { try member.subscribe(pattern: "(unclosed") }
            await member.close()
        }
    }
}
