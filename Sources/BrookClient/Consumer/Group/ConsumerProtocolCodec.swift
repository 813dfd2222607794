import BrookModel
import BrookProtocol
import NIOCore

/// The embedded "consumer" protocol of classic groups: the subscription a member puts in its
/// JoinGroup metadata and the assignment the leader hands out through SyncGroup, each an Int16
/// version followed by a ConsumerProtocolSubscription / ConsumerProtocolAssignment.
enum ConsumerProtocolCodec {
    /// The subscription version written: 3 carries owned partitions (v1), the generation (v2)
    /// and the rack (v3), as the Java client and librdkafka write it.
    static let subscriptionVersion: Int16 = 3
    static let assignmentVersion: Int16 = 3

    static func encodeSubscription(
        topics: [String], userData: ByteBuffer?, ownedPartitions: [TopicPartition], generation: Int32
    ) -> ByteBuffer {
        let byTopic = Dictionary(grouping: ownedPartitions, by: \.topic)
        let subscription = ConsumerProtocolSubscription(
            topics: topics.sorted(), userData: userData,
            ownedPartitions: byTopic.keys.sorted().map { topic in
                .init(topic: topic, partitions: byTopic[topic]!.map(\.partition).sorted())
            },
            generationId: generation, rackId: nil)
        var buffer = ByteBuffer()
        buffer.writeInteger(subscriptionVersion)
        // Every field is valid in the version written, so encoding cannot fail.
        try! subscription.write(to: &buffer, version: subscriptionVersion)
        return buffer
    }

    /// A member's subscription as the assignor needs it; nil when the metadata does not decode.
    /// The generation is the v2 field, or else the Java cooperative-sticky user data (an Int32).
    static func decodeSubscription(_ bytes: ByteBuffer, memberId: String, instanceId: String?) -> AssignorMember? {
        var buffer = bytes
        guard let version = buffer.readInteger(as: Int16.self), version >= 0,
              let subscription = try? ConsumerProtocolSubscription(
                from: &buffer, version: min(version, ConsumerProtocolSubscription.validVersions.upperBound)) else { return nil }
        var generation = version >= 2 ? subscription.generationId : -1
        if generation < 0, let userData = subscription.userData, userData.readableBytes == 4 {
            generation = userData.getInteger(at: userData.readerIndex, as: Int32.self) ?? -1
        }
        return AssignorMember(
            memberId: memberId, instanceId: instanceId, topics: Set(subscription.topics),
            ownedPartitions: subscription.ownedPartitions.flatMap { topic in
                topic.partitions.map { TopicPartition(topic: topic.topic, partition: $0) }
            },
            generation: generation)
    }

    static func encodeAssignment(_ partitions: [TopicPartition]) -> ByteBuffer {
        let byTopic = Dictionary(grouping: partitions, by: \.topic)
        let assignment = ConsumerProtocolAssignment(assignedPartitions: byTopic.keys.sorted().map { topic in
            .init(topic: topic, partitions: byTopic[topic]!.map(\.partition).sorted())
        })
        var buffer = ByteBuffer()
        buffer.writeInteger(assignmentVersion)
        try! assignment.write(to: &buffer, version: assignmentVersion)
        return buffer
    }

    /// The assigned partitions; empty for an empty buffer (a member the leader left out), nil
    /// when the bytes do not decode.
    static func decodeAssignment(_ bytes: ByteBuffer) -> [TopicPartition]? {
        var buffer = bytes
        guard buffer.readableBytes > 0 else { return [] }
        guard let version = buffer.readInteger(as: Int16.self), version >= 0,
              let assignment = try? ConsumerProtocolAssignment(
                from: &buffer, version: min(version, ConsumerProtocolAssignment.validVersions.upperBound)) else { return nil }
        return assignment.assignedPartitions.flatMap { topic in topic.partitions.map { TopicPartition(topic: topic.topic, partition: $0) } }
    }
}
