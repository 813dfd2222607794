import BrookClient
import BrookModel
import BrookProtocol
import BrookRecords
import NIOCore
import Testing

/// ClusterAdmin and RecordAdmin against an in-process broker.
@Suite struct ClusterAdminTests {
    @Test func theClusterDescribesItsIdControllerAndBrokers() async throws {
        try await withBroker { bootstrap in
            let cluster = try await Cluster.connect(bootstrapServers: bootstrap)
            let description = try await ClusterAdmin(cluster: cluster).describe()
            #expect(!description.clusterId.isEmpty)
            #expect(description.controllerId == 1)
            let port = try #require(Int32(bootstrap.split(separator: ":").last ?? ""))
            #expect(description.brokers == [ClusterAdmin.Broker(id: 1, host: "127.0.0.1", port: port, rack: nil)])
            await cluster.close()
        }
    }

    @Test func recordsAreDeletedBeforeAnOffsetPartitionByPartition() async throws {
        try await withBroker { bootstrap in
            let cluster = try await Cluster.connect(bootstrapServers: bootstrap)
            try await TopicAdmin(cluster: cluster).create(.init(name: "trimmed", partitions: 2))
            try await Self.produce(10, to: TopicPartition(topic: "trimmed", partition: 0), on: cluster)
            try await Self.produce(3, to: TopicPartition(topic: "trimmed", partition: 1), on: cluster)

            let admin = RecordAdmin(cluster: cluster)
            let first = TopicPartition(topic: "trimmed", partition: 0)
            let second = TopicPartition(topic: "trimmed", partition: 1)
            let missing = TopicPartition(topic: "missing", partition: 0)
            let beyond = TopicPartition(topic: "trimmed", partition: 7)
            let results = try await admin.deleteRecords(before: [first: 4, second: 99, missing: 1, beyond: 1])
            #expect(try results[first]?.get() == 4)
            #expect(Self.code(results[second]) == .offsetOutOfRange)
            #expect(Self.code(results[missing]) == .unknownTopicOrPartition)
            #expect(Self.code(results[beyond]) == .unknownTopicOrPartition)
            #expect(try await OffsetLookup(cluster: cluster).offsets([first], .earliest) == [first: 4])

            let all = try await admin.deleteRecords(before: [second: RecordAdmin.highWatermark])
            #expect(try all[second]?.get() == 3)
            #expect(try await TopicAdmin(cluster: cluster).list().map(\.name) == ["trimmed"])
            await cluster.close()
        }
    }

    private static func code(_ result: Result<Int64, ClientError>?) -> ErrorCode? {
        guard case .failure(.broker(let code, _)) = result else { return nil }
        return code
    }

    /// Writes `count` one-record batches to `partition` with acks=1.
    private static func produce(_ count: Int, to partition: TopicPartition, on cluster: Cluster) async throws {
        let leader = try await cluster.connection(to: 1)
        for index in 0..<count {
            var builder = RecordBatchBuilder(configuration: .init())
            builder.append(timestamp: 1_700_000_000_000, key: nil, value: ByteBuffer(string: "value-\(index)"))
            let response = try await leader.send(ProduceRequest(acks: 1, timeoutMs: 5_000, topicData: [
                .init(name: partition.topic, partitionData: [.init(index: partition.partition, records: try builder.build())]),
            ]))
            #expect(response.responses.flatMap(\.partitionResponses).map(\.errorCode) == [0])
        }
    }
}
