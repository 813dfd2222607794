import BrookClient
import BrookModel
import BrookProtocol
import BrookRecords
import NIOCore
import Synchronization
import Testing

/// The Consumer against an in-process broker, fed by the Producer.
@Suite struct ConsumerTests {
    static func consumer(_ bootstrap: String, _ change: (inout ConsumerConfiguration) -> Void = { _ in }) async throws -> Consumer {
        var configuration = ConsumerConfiguration(bootstrapServers: bootstrap)
        configuration.autoOffsetReset = .earliest
        configuration.fetchMaxWaitMs = 50
        change(&configuration)
        return try await Consumer.connect(configuration)
    }

    /// Polls until `count` records arrived (or the deadline passes).
    static func poll(_ consumer: Consumer, count: Int, timeout: Duration = .seconds(10)) async throws -> [ConsumerRecord] {
        let deadline = ContinuousClock.now + timeout
        var records: [ConsumerRecord] = []
        while records.count < count, ContinuousClock.now < deadline {
            records += try await consumer.poll(timeout: .milliseconds(200))
        }
        return records
    }

    static func produce(_ bootstrap: String, topic: String, values: [String], partition: Int32? = nil) async throws {
        var configuration = ProducerConfiguration(bootstrapServers: bootstrap)
        configuration.lingerMs = 1
        let producer = try await Producer.connect(configuration)
        for (index, value) in values.enumerated() {
            try await producer.enqueue(ProducerRecord(
                topic: topic, partition: partition ?? Int32(index % 3), key: ByteBuffer(string: "k\(index)"), value: ByteBuffer(string: value),
                headers: [Record.Header(key: "i", value: ByteBuffer(string: "\(index)"))], timestamp: 1_700_000_000_000 + Int64(index)))
        }
        await producer.close()
    }

    @Test func assignedPartitionsAreReadInOrderAndSeekable() async throws {
        try await withBroker { bootstrap in
            let cluster = try await Cluster.connect(bootstrapServers: bootstrap)
            try await ProduceFetchTests.createTopic("read", on: cluster)
            let values = (0..<600).map { "value-\($0)" }
            try await Self.produce(bootstrap, topic: "read", values: values)
            let consumer = try await Self.consumer(bootstrap) { $0.maxPollRecords = 50 }
            let partitions = (0..<3).map { TopicPartition(topic: "read", partition: $0) }
            consumer.assign(partitions)
            let records = try await Self.poll(consumer, count: 600)
            #expect(records.count == 600)
            for partition in partitions {
                let mine = records.filter { $0.partition == partition.partition }
                #expect(mine.map(\.offset) == Array(0..<200))
                #expect(mine.map { String(buffer: $0.value!) } == stride(from: Int(partition.partition), to: 600, by: 3).map { "value-\($0)" })
                #expect(consumer.position(partition) == 200)
            }
            #expect(records.first { $0.offset == 5 && $0.partition == 0 }?.headers.first?.key == "i")

            consumer.seek(partitions[1], to: 190)
            let again = try await Self.poll(consumer, count: 10)
            #expect(again.map(\.offset) == Array(190..<200))
            #expect(again.allSatisfy { $0.partition == 1 })

            try await consumer.seekToBeginning([partitions[2]])
            consumer.pause([partitions[2]])
            #expect(try await consumer.poll(timeout: .milliseconds(300)).isEmpty)
            consumer.resume([partitions[2]])
            #expect(try await Self.poll(consumer, count: 200).count == 200)

            let byTime = try await consumer.offsetsForTimes([partitions[0]: 1_700_000_000_300, partitions[1]: 1_800_000_000_000])
            #expect(byTime[partitions[0]] == .some(100))
            #expect(byTime[partitions[1]] == .some(nil))
            try await consumer.seekToEnd([partitions[0]])
            #expect(consumer.position(partitions[0]) == 200)
            await consumer.close()
            await cluster.close()
        }
    }

    @Test func committedOffsetsAreWhereAGroupResumes() async throws {
        try await withBroker { bootstrap in
            let cluster = try await Cluster.connect(bootstrapServers: bootstrap)
            try await ProduceFetchTests.createTopic("resume", on: cluster)
            try await Self.produce(bootstrap, topic: "resume", values: (0..<30).map { "v\($0)" }, partition: 0)
            let partition = TopicPartition(topic: "resume", partition: 0)
            let first = try await Self.consumer(bootstrap) { $0.groupId = "resumers" }
            first.assign([partition])
            #expect(try await Self.poll(first, count: 30).count == 30)
            try await first.commit([partition: 12])
            #expect(try await first.committed([partition]) == [partition: 12])
            await first.close()

            let second = try await Self.consumer(bootstrap) { $0.groupId = "resumers" }
            second.assign([partition])
            let records = try await Self.poll(second, count: 18)
            #expect(records.first?.offset == 12)
            try await second.commit()
            #expect(try await second.committed([partition]) == [partition: 30])
            await second.close()
            await cluster.close()
        }
    }

    @Test func closingEndsAWaitingPollAndLaterPollsThrow() async throws {
        try await withBroker { bootstrap in
            let cluster = try await Cluster.connect(bootstrapServers: bootstrap)
            try await ProduceFetchTests.createTopic("closing", on: cluster)
            let consumer = try await Self.consumer(bootstrap) { $0.fetchMaxWaitMs = 500 }
            consumer.assign([TopicPartition(topic: "closing", partition: 0)])
            // Nothing to read: this poll waits out its 30 s unless the close ends it. (If the close
            // comes first, the poll throws at once instead.)
            let started = ContinuousClock.now
            let waiting = Task { () -> String in
                do {
                    return "returned \(try await consumer.poll(timeout: .seconds(30)).count)"
                } catch {
                    return "threw \(error)"
                }
            }
            await consumer.close()
            #expect(["returned 0", "threw the consumer is closed"].contains(await waiting.value))
            #expect(ContinuousClock.now - started < .seconds(20), "the waiting poll returned when the consumer closed")
            await #expect {
                try await consumer.poll(timeout: .seconds(30))
            } throws: { error in
                guard case .closed("consumer") = error as? ClientError else { return false }
                return true
            }
            #expect(ContinuousClock.now - started < .seconds(20), "a poll after close throws at once")
            var records = consumer.records.makeAsyncIterator()
            #expect(try await records.next() == nil)
            await cluster.close()
        }
    }

    @Test func asynchronousCommitsCompleteInOrderAndCloseWaitsForThem() async throws {
        try await withBroker { bootstrap in
            let cluster = try await Cluster.connect(bootstrapServers: bootstrap)
            try await ProduceFetchTests.createTopic("async-commits", on: cluster)
            try await Self.produce(bootstrap, topic: "async-commits", values: (0..<20).map { "v\($0)" }, partition: 0)
            let partition = TopicPartition(topic: "async-commits", partition: 0)
            let consumer = try await Self.consumer(bootstrap) { $0.groupId = "async-committers" }
            consumer.assign([partition])
            #expect(try await Self.poll(consumer, count: 20).count == 20)
            let outcomes = Mutex<[(Int64, String?)]>([])
            for offset in [5, 9, 14] as [Int64] {
                consumer.commitAsync([partition: offset]) { offsets, error in
                    outcomes.withLock { $0.append((offsets[partition] ?? -1, error.map { "\($0)" })) }
                }
            }
            consumer.commitAsync { offsets, error in
                outcomes.withLock { $0.append((offsets[partition] ?? -1, error.map { "\($0)" })) }
            }
            await consumer.close()
            let seen = outcomes.withLock { $0 }
            #expect(seen.map(\.0) == [5, 9, 14, 20], "each commit's outcome, in the order asked, before close returns")
            #expect(seen.allSatisfy { $0.1 == nil })

            let reader = try await Self.consumer(bootstrap) { $0.groupId = "async-committers" }
            #expect(try await reader.committed([partition]) == [partition: 20])
            await reader.close()

            let groupless = try await Self.consumer(bootstrap)
            let failure = Mutex<String?>(nil)
            groupless.commitAsync([partition: 1]) { _, error in failure.withLock { $0 = error.map { "\($0)" } } }
            await groupless.close()
            #expect(failure.withLock { $0 }?.contains("group.id") == true)
            await cluster.close()
        }
    }

    @Test func readCommittedSkipsAbortedTransactions() async throws {
        try await withBroker { bootstrap in
            let cluster = try await Cluster.connect(bootstrapServers: bootstrap)
            try await ProduceFetchTests.createTopic("isolated", on: cluster)
            var configuration = ProducerConfiguration(bootstrapServers: bootstrap)
            configuration.transactionalId = "isolating"
            let producer = try await Producer.connect(configuration)
            try await producer.initTransactions()
            for (round, commit) in [true, false, true, false].enumerated() {
                try producer.beginTransaction()
                for index in 0..<5 {
                    try await producer.enqueue(ProducerRecord(topic: "isolated", partition: 0, value: ByteBuffer(string: "\(round)-\(index)")))
                }
                await producer.flush()
                if commit { try await producer.commitTransaction() } else { try await producer.abortTransaction() }
            }
            await producer.close()
            let partition = TopicPartition(topic: "isolated", partition: 0)

            let committed = try await Self.consumer(bootstrap) { $0.readCommitted = true }
            committed.assign([partition])
            let seen = try await Self.poll(committed, count: 10)
            #expect(seen.map { String(buffer: $0.value!) } == (0..<5).map { "0-\($0)" } + (0..<5).map { "2-\($0)" })
            #expect(try await committed.poll(timeout: .milliseconds(300)).isEmpty)
            #expect(committed.position(partition) == 24, "20 records and 4 markers consumed")
            await committed.close()

            let everything = try await Self.consumer(bootstrap)
            everything.assign([partition])
            #expect(try await Self.poll(everything, count: 20).count == 20)
            await everything.close()
            await cluster.close()
        }
    }
}
