import BrookClient
import BrookModel
import NIOCore
import Synchronization
import Testing

/// A partition's leader moving to another broker: the producer and the consumer get
/// NOT_LEADER_OR_FOLLOWER from the old leader, look the leader up again and carry on with the
/// new one, losing and repeating nothing.
@Suite struct LeaderChangeTests {
    @Test func producerAndConsumerFollowTheLeaderToAnotherBroker() async throws {
        let cluster = try await FakeCluster.start(topic: "moving", nodes: [1, 2], leader: 1)
        var producerConfiguration = ProducerConfiguration(bootstrapServers: cluster.bootstrap)
        producerConfiguration.enableIdempotence = false
        producerConfiguration.lingerMs = 0
        producerConfiguration.retryBackoffMs = 10
        producerConfiguration.deliveryTimeoutMs = 10_000  // a client stuck on the old leader fails here, not in minutes
        let producer = try await Producer.connect(producerConfiguration)
        var consumerConfiguration = ConsumerConfiguration(bootstrapServers: cluster.bootstrap)
        consumerConfiguration.fetchMaxWaitMs = 10
        consumerConfiguration.retryBackoffMs = 10
        let consumer = try await Consumer.connect(consumerConfiguration)
        let partition = TopicPartition(topic: "moving", partition: 0)
        consumer.assign([partition])
        consumer.seek(partition, to: 0)

        let first = try await producer.send(ProducerRecord(topic: "moving", partition: 0, value: ByteBuffer(string: "before")))
        #expect(first.offset == 0)
        #expect(try await ConsumerTests.poll(consumer, count: 1).map { String(buffer: $0.value!) } == ["before"])

        cluster.moveLeader(to: 2)
        let second = try await producer.send(ProducerRecord(topic: "moving", partition: 0, value: ByteBuffer(string: "after")))
        #expect(second.offset == 1)
        let moved = try await ConsumerTests.poll(consumer, count: 1)
        #expect(moved.map(\.offset) == [1])
        #expect(moved.map { String(buffer: $0.value!) } == ["after"])

        let (appended, refused) = cluster.state.withLock { ($0.appended, $0.refused) }
        #expect(appended == [1: 1, 2: 1], "each record written once, by the leader of its time")
        #expect((refused[1] ?? 0) >= 2, "the old leader turned the producer and the consumer away")
        #expect(refused[2] == nil)

        await consumer.close()
        await producer.close()
        await cluster.shutdown()
    }
}
