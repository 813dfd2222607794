import BrookBroker
import BrookClient
import BrookCoordinator
import BrookModel
import BrookProtocol
import BrookRecords
import BrookStorage
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import Testing

/// Makes every fsync of a file whose path contains `marker` take `delay` (sleeping in the
/// calling thread, as a slow disk would), and counts those in progress and those of `.log` files.
private final class SlowSyncs: StorageFaultInjector {
    let marker: String
    let delay: Duration
    let inFlight = Atomic<Int>(0)
    let logSyncs = Atomic<Int>(0)

    init(marker: String, delay: Duration) {
        self.marker = marker
        self.delay = delay
    }

    func fault(for operation: StorageError.FileOperation, path: String) -> StorageFault? {
        guard operation == .sync, path.contains(marker) else { return nil }
        if path.hasSuffix(".log") { logSyncs.add(1, ordering: .relaxed) }
        inFlight.add(1, ordering: .relaxed)
        Thread.sleep(forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
        inFlight.subtract(1, ordering: .relaxed)
        return nil
    }
}

/// One slow disk (here: one topic's fsyncs take seconds) must not stall the rest of the broker:
/// produce requests waiting for those fsyncs park without holding a thread, and other
/// partitions' produce, fetch and metadata requests keep their latency.
@Suite struct SlowDiskTests {
    private func produce(_ connection: BrokerConnection, topic: String, partition: Int32, acks: Int16 = -1) async throws -> Int16 {
        var builder = RecordBatchBuilder(configuration: .init(compression: .none))
        builder.append(timestamp: 1_700_000_000_000, key: nil, value: ByteBuffer(string: "\(topic)-\(partition)"))
        let request = ProduceRequest(acks: acks, timeoutMs: 30_000, topicData: [
            .init(name: topic, partitionData: [.init(index: partition, records: try builder.build())]),
        ])
        return try await connection.send(request).responses[0].partitionResponses[0].errorCode
    }

    private func connect(_ bootstrap: String) async throws -> BrokerConnection {
        try await Cluster.connect(bootstrapServers: bootstrap).connection(to: 1)
    }

    @Test func slowFsyncsOfOneTopicDoNotStallTheOthers() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("brook-slow-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await withBroker(["log.dirs=\(directory)"]) { bootstrap in
            let admin = try await connect(bootstrap)
            let created = try await admin.send(CreateTopicsRequest(topics: [
                .init(name: "slow", numPartitions: 4, replicationFactor: 1),
                .init(name: "fast", numPartitions: 1, replicationFactor: 1),
            ], timeoutMs: 5_000))
            #expect(created.topics.map(\.errorCode) == [0, 0])

            // One append to each partition before the disk turns slow: only the durable produce
            // requests below wait for slow fsyncs.
            for partition in 0..<4 {
                #expect(try await produce(admin, topic: "slow", partition: Int32(partition), acks: 1) == 0)
            }
            #expect(try await produce(admin, topic: "fast", partition: 0, acks: 1) == 0)
            let slow = SlowSyncs(marker: "/slow-", delay: .seconds(3))
            let fault = StorageFaults.install(slow, under: directory)
            defer { StorageFaults.remove(fault) }

            // More slow requests than the machine has cores: were their fsyncs run on the
            // cooperative pool, nothing else could run.
            let slowConnections = try await (0..<4).asyncMap { _ in try await connect(bootstrap) }
            try await withThrowingTaskGroup(of: Int16.self) { group in
                for (index, connection) in slowConnections.enumerated() {
                    group.addTask { try await produce(connection, topic: "slow", partition: Int32(index)) }
                }
                let deadline = ContinuousClock.now + .seconds(10)
                while slow.inFlight.load(ordering: .relaxed) < 4 && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(10))
                }
                // Four fsyncs at once: they run on threads of their own, not on the two of the
                // cooperative pool (where they would hold up every other request).
                #expect(slow.inFlight.load(ordering: .relaxed) >= 4, "the four slow fsyncs run at the same time")

                let fast = try await connect(bootstrap)
                let clock = ContinuousClock()
                var start = clock.now
                let producedCode = try await produce(fast, topic: "fast", partition: 0)
                let produced = clock.now - start
                #expect(producedCode == 0)
                start = clock.now
                let metadata = try await fast.send(MetadataRequest(topics: [.init(name: "fast")]))
                let described = clock.now - start
                #expect(metadata.topics.first?.errorCode == 0)
                start = clock.now
                let topicId = try #require(metadata.topics.first?.topicId)
                let fetch = try await fast.send(FetchRequest(
                    maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20,
                    topics: [.init(topic: "fast", topicId: topicId, partitions: [.init(partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20)])]))
                let fetched = clock.now - start
                #expect(fetch.responses.first?.partitions.first?.errorCode == 0)
                // Each slow fsync takes 3 s; the others answer well before the first of them ends.
                #expect(produced < .milliseconds(1500), "produce to another topic took \(produced)")
                #expect(described < .seconds(1), "metadata took \(described)")
                #expect(fetched < .seconds(1), "fetch took \(fetched)")
                for try await code in group { #expect(code == 0) }
            }
        }
    }
}

/// Produce requests a client pipelines on one connection are appended while the first one's
/// fsync runs, so that the next fsync covers all of them.
@Suite struct PipelinedDurableProduceTests {
    @Test func pipelinedProduceRequestsShareFsyncs() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("brook-pipe-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await withBroker(["log.dirs=\(directory)"]) { bootstrap in
            let connection = try await Cluster.connect(bootstrapServers: bootstrap).connection(to: 1)
            let created = try await connection.send(CreateTopicsRequest(
                topics: [.init(name: "piped", numPartitions: 1, replicationFactor: 1)], timeoutMs: 5_000))
            #expect(created.topics.map(\.errorCode) == [0])
            func produce(_ value: String, acks: Int16) async throws -> (Int16, Int64) {
                var builder = RecordBatchBuilder(configuration: .init(compression: .none))
                builder.append(timestamp: 1_700_000_000_000, key: nil, value: ByteBuffer(string: value))
                let answer = try await connection.send(ProduceRequest(acks: acks, timeoutMs: 30_000, topicData: [
                    .init(name: "piped", partitionData: [.init(index: 0, records: try builder.build())]),
                ])).responses[0].partitionResponses[0]
                return (answer.errorCode, answer.baseOffset)
            }
            _ = try await produce("first", acks: 1)  // before the disk turns slow
            let syncs = SlowSyncs(marker: "/piped-", delay: .milliseconds(1500))
            let fault = StorageFaults.install(syncs, under: directory)
            defer { StorageFaults.remove(fault) }
            let requests = 6
            let answers = try await withThrowingTaskGroup(of: (Int16, Int64).self) { group in
                for index in 0..<requests {
                    group.addTask { try await produce("v\(index)", acks: -1) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.allSatisfy { $0.0 == 0 })
            #expect(Set(answers.map(\.1)) == Set((1...Int64(requests)).map { $0 }))
            // One request at a time would take one fsync each; pipelined, the requests that
            // arrive during the first fsync share the next.
            #expect(syncs.logSyncs.load(ordering: .relaxed) <= 3, "\(syncs.logSyncs.load(ordering: .relaxed)) fsyncs for \(requests) requests")
        }
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}

/// Makes every write to a file whose path contains one of `markers` take `delay`, and counts
/// those started and finished.
private final class SlowWrites: StorageFaultInjector {
    let markers: [String]
    let delay: Duration
    let started = Atomic<Int>(0)
    let finished = Atomic<Int>(0)

    init(markers: [String], delay: Duration) {
        self.markers = markers
        self.delay = delay
    }

    func fault(for operation: StorageError.FileOperation, path: String) -> StorageFault? {
        guard operation == .write, markers.contains(where: { path.contains($0) }) else { return nil }
        started.add(1, ordering: .relaxed)
        Thread.sleep(forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
        finished.add(1, ordering: .relaxed)
        return nil
    }
}

/// A group coordinator shard appends to its partition of `__consumer_offsets`. When that disk is
/// slow, the shard's requests wait their turn without holding a thread, and the one writing
/// blocks a coordinator thread, not one of the cooperative pool: produce, fetch and metadata
/// requests, and the groups of other shards, keep their latency.
@Suite struct SlowCoordinatorLogTests {
    private func commit(
        _ connection: BrokerConnection, group: String, member: (id: String, epoch: Int32)? = nil, offset: Int64
    ) async throws -> Int16 {
        let response = try await connection.send(OffsetCommitRequest(
            groupId: group, generationIdOrMemberEpoch: member?.epoch ?? -1, memberId: member?.id ?? "", topics: [
            .init(name: "t", partitions: [.init(partitionIndex: 0, committedOffset: offset)]),
        ]))
        return response.topics[0].partitions[0].errorCode
    }

    @Test func slowOffsetsPartitionsStallOnlyTheirOwnGroups() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("brook-slowcoord-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Two groups on two slow partitions (as many as the cooperative pool has threads here),
        // one group on the third.
        let names = (0..<100).map { "group-\($0)" }
        let partition = { (group: String) in GroupCoordinator.partition(for: group, partitions: 3) }
        let slowGroups = try [0, 1].map { target in try #require(names.first { partition($0) == target }) }
        let otherGroup = try #require(names.first { partition($0) == 2 })
        try await withBroker(["log.dirs=\(directory)", "offsets.topic.num.partitions=3", "group.coordinator.threads=4"]) { bootstrap in
            let admin = try await Cluster.connect(bootstrapServers: bootstrap).connection(to: 1)
            let created = try await admin.send(CreateTopicsRequest(topics: [
                .init(name: "t", numPartitions: 1, replicationFactor: 1),
            ], timeoutMs: 5_000))
            #expect(created.topics.map(\.errorCode) == [0])
            // Creates __consumer_offsets and writes each partition's first batch before the disk
            // turns slow; the other group joins (KIP-848).
            for group in slowGroups { #expect(try await commit(admin, group: group, offset: 1) == 0) }
            let joined = try await admin.send(ConsumerGroupHeartbeatRequest(
                groupId: otherGroup, memberId: UUID().uuidString, memberEpoch: 0, rebalanceTimeoutMs: 30_000,
                subscribedTopicNames: ["t"], topicPartitions: []))
            #expect(joined.errorCode == 0)

            let slow = SlowWrites(markers: ["/__consumer_offsets-0/", "/__consumer_offsets-1/"], delay: .seconds(3))
            let fault = StorageFaults.install(slow, under: directory)
            defer { StorageFaults.remove(fault) }
            // Two commits to each slow shard: one writes, one waits for its turn.
            let slowCommits = slowGroups.flatMap { group in [(group, Int64(10)), (group, Int64(11))] }
            let slowConnections = try await slowCommits.asyncMap { _ in try await Cluster.connect(bootstrapServers: bootstrap).connection(to: 1) }
            try await withThrowingTaskGroup(of: Int16.self) { tasks in
                for (connection, (group, offset)) in zip(slowConnections, slowCommits) {
                    tasks.addTask { try await commit(connection, group: group, offset: offset) }
                }
                let deadline = ContinuousClock.now + .seconds(10)
                while slow.started.load(ordering: .relaxed) < 2 && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(10))
                }
                #expect(slow.started.load(ordering: .relaxed) == 2, "each slow shard writes one commit at a time")

                let fast = try await Cluster.connect(bootstrapServers: bootstrap).connection(to: 1)
                let clock = ContinuousClock()
                var start = clock.now
                let metadata = try await fast.send(MetadataRequest(topics: [.init(name: "t")]))
                let described = clock.now - start
                #expect(metadata.topics.first?.errorCode == 0)
                start = clock.now
                let heartbeat = try await fast.send(ConsumerGroupHeartbeatRequest(
                    groupId: otherGroup, memberId: joined.memberId ?? "", memberEpoch: joined.memberEpoch))
                let heartbeatTook = clock.now - start
                #expect(heartbeat.errorCode == 0)
                start = clock.now
                let committed = try await commit(fast, group: otherGroup, member: (joined.memberId ?? "", joined.memberEpoch), offset: 2)
                let committedTook = clock.now - start
                #expect(committed == 0)
                // Each slow shard takes 6 s for its two writes: the requests above were answered
                // while they were under way, not after.
                #expect(slow.finished.load(ordering: .relaxed) < 4, "the slow commits are still under way")
                #expect(described < .seconds(1), "metadata took \(described)")
                #expect(heartbeatTook < .seconds(1), "a heartbeat of a group on another shard took \(heartbeatTook)")
                #expect(committedTook < .seconds(1), "a commit of a group on another shard took \(committedTook)")
                for try await code in tasks { #expect(code == 0) }
            }
            for group in slowGroups {
                let fetched = try await admin.send(OffsetFetchRequest(groups: [
                    .init(groupId: group, topics: [.init(name: "t", partitionIndexes: [0])]),
                ]))
                #expect([10, 11].contains(fetched.groups.first?.topics.first?.partitions.first?.committedOffset ?? -1))
            }
        }
    }
}
