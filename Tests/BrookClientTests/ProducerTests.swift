import BrookClient
import BrookModel
import BrookProtocol
import BrookRecords
import NIOCore
import Synchronization
import Testing

/// The Producer against an in-process broker: offsets, partitioning, batching, back-pressure,
/// idempotence and transactions.
@Suite struct ProducerTests {
    /// Every record of `topic`'s partition, read back with a FetchLoop.
    static func readBack(_ cluster: Cluster, topic: String, partitions: Int32, count: Int, isolation: Int8 = 0)
        async throws -> [Int32: [(batch: RecordBatch, record: Record)]]
    {
        var configuration = FetchLoop.Configuration(maxWaitMs: 100)
        configuration.isolationLevel = isolation
        let loop = try await FetchLoop.open(cluster: cluster, topic: topic, from: .earliest, configuration: configuration)
        var records: [Int32: [(RecordBatch, Record)]] = [:]
        var seen = 0
        var rounds = 0
        while seen < count, rounds < 200 {
            rounds += 1
            for fetched in try await loop.next() {
                for batch in try RecordBatchReader.batches(in: fetched.records) where !batch.isControlBatch {
                    for record in try batch.records() {
                        records[fetched.partition, default: []].append((batch, record))
                        seen += 1
                    }
                }
            }
        }
        return records
    }

    static func configuration(_ bootstrap: String, _ change: (inout ProducerConfiguration) -> Void = { _ in }) -> ProducerConfiguration {
        var configuration = ProducerConfiguration(bootstrapServers: bootstrap)
        configuration.lingerMs = 2
        change(&configuration)
        return configuration
    }

    @Test func sendReturnsOffsetsAndKeysLandOnTheirMurmur2Partition() async throws {
        try await withBroker { bootstrap in
            let cluster = try await Cluster.connect(bootstrapServers: bootstrap)
            try await ProduceFetchTests.createTopic("keyed", on: cluster)
            let producer = try await Producer.connect(Self.configuration(bootstrap))
            var offsets: [Int32: [Int64]] = [:]
            for index in 0..<30 {
                let key = "key-\(index % 7)"
                let metadata = try await producer.send(ProducerRecord(
                    topic: "keyed", key: ByteBuffer(string: key), value: ByteBuffer(string: "v\(index)"),
                    headers: [Record.Header(key: "n", value: ByteBuffer(string: "\(index)"))], timestamp: 1_700_000_000_000 + Int64(index)))
                #expect(metadata.partition == Murmur2.partition(forKey: Array(key.utf8), partitions: 3))
                #expect(metadata.timestamp == 1_700_000_000_000 + Int64(index))
                offsets[metadata.partition, default: []].append(metadata.offset)
            }
            for (_, list) in offsets { #expect(list == Array(0..<Int64(list.count))) }
            await producer.close()

            let stored = try await Self.readBack(cluster, topic: "keyed", partitions: 3, count: 30)
            #expect(stored.values.reduce(0) { $0 + $1.count } == 30)
            for (partition, records) in stored {
                for (batch, record) in records {
                    #expect(batch.producerId >= 0, "idempotent by default")
                    let key = String(buffer: record.key!)
                    #expect(Murmur2.partition(forKey: Array(key.utf8), partitions: 3) == partition)
                    #expect(record.headers.first?.key == "n")
                }
            }
            await cluster.close()
        }
    }

    @Test(arguments: [CompressionCodec.none, .gzip, .snappy, .lz4, .zstd])
    func enqueuedRecordsAreBatchedCompressedAndAllDelivered(codec: CompressionCodec) async throws {
        try await withBroker { bootstrap in
            let cluster = try await Cluster.connect(bootstrapServers: bootstrap)
            try await ProduceFetchTests.createTopic("bulk", on: cluster)
            // A small buffer makes senders wait for room: back-pressure must not deadlock.
            let producer = try await Producer.connect(Self.configuration(bootstrap) {
                $0.compression = codec
                $0.batchSize = 4_096
                $0.bufferMemory = 16_384
            })
            let delivered = Mutex<[Int32: [Int64]]>([:])
            let count = 3_000
            for index in 0..<count {
                try await producer.enqueue(ProducerRecord(topic: "bulk", value: ByteBuffer(string: "value-\(index)"))) { result in
                    guard case .success(let metadata) = result else { Issue.record("not delivered: \(result)"); return }
                    delivered.withLock { $0[metadata.partition, default: []].append(metadata.offset) }
                }
            }
            await producer.flush()
            let offsets = delivered.withLock { $0 }
            #expect(offsets.values.reduce(0) { $0 + $1.count } == count)
            for (_, list) in offsets { #expect(list.sorted() == Array(0..<Int64(list.count))) }
            #expect(offsets.count > 1, "keyless records move on to another partition as batches fill")
            await producer.close()

            let stored = try await Self.readBack(cluster, topic: "bulk", partitions: 3, count: count)
            let batches = stored.values.flatMap { $0.map(\.batch) }
            #expect(batches.allSatisfy { $0.compression == codec })
            #expect(Set(batches.map(\.baseOffset)).count < count / 10, "records travel in batches")
            // batch.size bounds the whole batch, header included, as in Kafka: a 1 MiB batch.size
            // must fit the broker's default max.message.bytes (1 MiB + 12).
            #expect(batches.allSatisfy { $0.sizeInBytes <= 4_096 || codec != .none }, "\(batches.map(\.sizeInBytes).max() ?? 0)")
            await cluster.close()
        }
    }

    @Test func aRecordForAMissingPartitionFailsAndTheProducerCarriesOn() async throws {
        try await withBroker { bootstrap in
            let cluster = try await Cluster.connect(bootstrapServers: bootstrap)
            try await ProduceFetchTests.createTopic("small", on: cluster)
            let producer = try await Producer.connect(Self.configuration(bootstrap))
            await #expect(throws: ProducerError.self) {
                try await producer.send(ProducerRecord(topic: "small", partition: 9, value: ByteBuffer(string: "x")))
            }
            let metadata = try await producer.send(ProducerRecord(topic: "small", partition: 1, value: ByteBuffer(string: "y")))
            #expect(metadata.offset == 0)
            // A partition added since the producer learned the topic is found by a second look.
            try await TopicAdmin(cluster: cluster).createPartitions("small", totalCount: 5)
            let added = try await producer.send(ProducerRecord(topic: "small", partition: 4, value: ByteBuffer(string: "w")))
            #expect(added.partition == 4 && added.offset == 0)
            await producer.close()
            await #expect(throws: ProducerError.closed) {
                try await producer.send(ProducerRecord(topic: "small", partition: 1, value: ByteBuffer(string: "z")))
            }
            await cluster.close()
        }
    }

    @Test func transactionsCommitAndAbort() async throws {
        try await withBroker { bootstrap in
            let cluster = try await Cluster.connect(bootstrapServers: bootstrap)
            try await ProduceFetchTests.createTopic("txn", on: cluster)
            let producer = try await Producer.connect(Self.configuration(bootstrap) { $0.transactionalId = "swift-txn" })
            await #expect(throws: ProducerError.self) {
                try await producer.send(ProducerRecord(topic: "txn", value: ByteBuffer(string: "outside")))
            }
            try await producer.initTransactions()
            for (round, commit) in [true, false, true].enumerated() {
                try producer.beginTransaction()
                for index in 0..<10 {
                    try await producer.enqueue(ProducerRecord(topic: "txn", partition: Int32(index % 3), value: ByteBuffer(string: "\(round)-\(index)")))
                }
                if commit {
                    try await producer.commitTransaction()
                } else {
                    await producer.flush()
                    try await producer.abortTransaction()
                }
            }
            try producer.beginTransaction()
            try await producer.sendOffsetsToTransaction([TopicPartition(topic: "txn", partition: 0): 4], groupId: "swift-group")
            try await producer.commitTransaction()
            await producer.close()

            // 30 data records and a marker per partition and transaction; nothing left open.
            let connection = try await cluster.connection(to: 1)
            let listed = try await connection.send(ListOffsetsRequest(
                replicaId: -1, isolationLevel: 1,
                topics: [.init(name: "txn", partitions: (0..<3).map { .init(partitionIndex: $0, timestamp: -1) })]))
            #expect(listed.topics[0].partitions.map(\.offset).reduce(0, +) == 30 + 9)
            let stored = try await Self.readBack(cluster, topic: "txn", partitions: 3, count: 30, isolation: 1)
            #expect(stored.values.flatMap { $0 }.allSatisfy { $0.batch.isTransactional })
            let coordinator = try await cluster.groupCoordinator("swift-group")
            let committed = try await coordinator.send(OffsetFetchRequest(
                groupId: "swift-group", topics: [.init(name: "txn", partitionIndexes: [0])]), version: 5)
            #expect(committed.topics.first?.partitions.first?.committedOffset == 4)
            await cluster.close()
        }
    }
}
