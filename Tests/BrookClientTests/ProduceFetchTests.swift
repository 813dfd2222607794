import BrookClient
import BrookProtocol
import BrookRecords
import NIOCore
import Testing

/// ProduceSender and FetchLoop against an in-process broker: batches go out pipelined and come
/// back in order, with the offsets the acknowledgements promised.
@Suite struct ProduceFetchTests {
    static let partitions: Int32 = 3
    static let batches = 60
    static let recordsPerBatch = 50

    static func createTopic(_ name: String, on cluster: Cluster) async throws {
        let connection = try await cluster.connection(to: 1)
        let created = try await connection.send(CreateTopicsRequest(
            topics: [.init(name: name, numPartitions: partitions, replicationFactor: 1)], timeoutMs: 5_000
        ))
        #expect(created.topics.map(\.errorCode) == [0])
    }

    /// Batch `index`: records whose values are "index/position".
    static func batch(_ index: Int, codec: CompressionCodec = .none) throws -> ByteBuffer {
        var builder = RecordBatchBuilder(configuration: .init(compression: codec))
        for position in 0..<recordsPerBatch {
            builder.append(timestamp: 1_700_000_000_000, key: nil, value: ByteBuffer(string: "\(index)/\(position)"))
        }
        return try builder.build()
    }

    @Test func batchesSentPipelinedAreFetchedBackInOrder() async throws {
        try await withBroker { bootstrap in
            let cluster = try await Cluster.connect(bootstrapServers: bootstrap)
            try await Self.createTopic("perf", on: cluster)
            let sender = try await ProduceSender<Int>.connect(
                cluster: cluster, topic: "perf", configuration: .init(acks: -1, maxInFlight: 4)
            )
            #expect(sender.layout.partitions == [0, 1, 2])
            var acknowledged: [Int: ProduceSender<Int>.Acknowledgement] = [:]
            for index in 0..<Self.batches {
                let codec: CompressionCodec = index % 4 == 3 ? .lz4 : .none
                try await sender.send(try Self.batch(index, codec: codec), to: Int32(index) % Self.partitions, tag: index) {
                    acknowledged[$0.tag] = $0
                }
                #expect(sender.outstanding <= 4)
            }
            try await sender.flush { acknowledged[$0.tag] = $0 }
            #expect(sender.outstanding == 0)
            #expect(acknowledged.count == Self.batches)
            // Batch i is the (i / partitions)-th batch of its partition.
            for (index, ack) in acknowledged {
                #expect(ack.partition == Int32(index) % Self.partitions)
                #expect(ack.baseOffset == Int64(index / Int(Self.partitions) * Self.recordsPerBatch))
            }

            let loop = try await FetchLoop.open(
                cluster: cluster, topic: "perf", from: .earliest, configuration: .init(maxWaitMs: 100, partitionMaxBytes: 2_048)
            )
            #expect(loop.positions == [0: 0, 1: 0, 2: 0])
            var values: [Int32: [String]] = [:]
            var counted = 0
            var rounds = 0
            while counted < Self.batches * Self.recordsPerBatch, rounds < 1_000 {
                rounds += 1
                for fetched in try await loop.next() {
                    counted += fetched.recordCount
                    var expectedOffset = fetched.fetchOffset
                    for batch in try RecordBatchReader.batches(in: fetched.records) {
                        for record in try batch.records() {
                            #expect(record.offset == expectedOffset)
                            expectedOffset += 1
                            values[fetched.partition, default: []].append(String(buffer: record.value!))
                        }
                    }
                    #expect(expectedOffset == fetched.nextOffset)
                    #expect(fetched.highWatermark == Int64(Self.batches / Int(Self.partitions) * Self.recordsPerBatch))
                }
            }
            #expect(rounds > 1, "a 2 KiB partition limit should take several fetches")
            #expect(counted == Self.batches * Self.recordsPerBatch)
            let perPartition = Int64(Self.batches / Int(Self.partitions) * Self.recordsPerBatch)
            #expect(loop.positions == [0: perPartition, 1: perPartition, 2: perPartition])
            for partition in 0..<Self.partitions {
                let expected = stride(from: Int(partition), to: Self.batches, by: Int(Self.partitions)).flatMap { index in
                    (0..<Self.recordsPerBatch).map { "\(index)/\($0)" }
                }
                #expect(values[partition] == expected)
            }

            let latest = try await FetchLoop.open(cluster: cluster, topic: "perf", from: .latest, configuration: .init(maxWaitMs: 10))
            #expect(latest.positions == [0: perPartition, 1: perPartition, 2: perPartition])
            #expect(try await latest.next().isEmpty)
            await cluster.close()
        }
    }

    @Test func acksZeroGetsNoResponseButTheRecordsLand() async throws {
        try await withBroker { bootstrap in
            let cluster = try await Cluster.connect(bootstrapServers: bootstrap)
            try await Self.createTopic("fire", on: cluster)
            let sender = try await ProduceSender<Int>.connect(cluster: cluster, topic: "fire", configuration: .init(acks: 0, maxInFlight: 2))
            var acknowledged = 0
            for index in 0..<30 {
                try await sender.send(try Self.batch(index), to: 0, tag: index) {
                    #expect($0.baseOffset == nil)
                    acknowledged += 1
                }
            }
            try await sender.flush { _ in acknowledged += 1 }
            #expect(acknowledged == 30)
            // A request that is answered follows the unanswered ones on the same connection.
            let lookup = OffsetLookup(cluster: cluster)
            let partition = try await lookup.partitions(of: ["fire"])[0]
            let end = try await lookup.offsets([partition], .latest)[partition]
            #expect(end == Int64(30 * Self.recordsPerBatch))
            await cluster.close()
        }
    }

    @Test func aRejectedBatchFailsTheSend() async throws {
        try await withBroker { bootstrap in
            let cluster = try await Cluster.connect(bootstrapServers: bootstrap)
            try await Self.createTopic("strict", on: cluster)
            let sender = try await ProduceSender<Int>.connect(cluster: cluster, topic: "strict", configuration: .init(acks: 1))
            var corrupt = try Self.batch(0)
            corrupt.setInteger(UInt8(0xFF), at: corrupt.writerIndex - 1)  // the CRC no longer matches
            try await sender.send(corrupt, to: 1, tag: 0) { _ in }
            let refused = await #expect(throws: ClientError.self) { try await sender.flush { _ in } }
            guard case .broker(let code, let message) = refused else {
                Issue.record("expected a broker error, got \(String(describing: refused))")
                return
            }
            #expect(code == .corruptMessage)
            #expect(message?.hasPrefix("strict-1: ") == true)
            let unknown = await #expect(throws: ClientError.self) { try await sender.send(try Self.batch(1), to: 7, tag: 1) { _ in } }
            guard case .notFound = unknown else {
                Issue.record("expected notFound, got \(String(describing: unknown))")
                return
            }
            await cluster.close()
        }
    }
}
