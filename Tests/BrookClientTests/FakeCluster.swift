import BrookProtocol
import NIOCore
import NIOPosix
import Synchronization

/// Scripted Kafka brokers for client tests that need what one Brook broker cannot give: several
/// nodes, and a partition's leadership moving between them.
///
/// One topic with one partition and one log that all nodes share (as if replicated). Only the
/// current leader appends Produce batches and answers Fetch; the other nodes answer
/// NOT_LEADER_OR_FOLLOWER, and every node's Metadata names the leader. Serves ApiVersions,
/// Metadata, Produce (v3–9) and Fetch (v4–12).
final class FakeCluster: Sendable {
    struct State {
        var leader: Int32
        var leaderEpoch: Int32 = 0
        /// Every node answers ApiVersions only, as a paused broker whose connection survives.
        var silent = false
        var ports: [Int32: Int] = [:]
        /// The stored batches, base offsets written.
        var log: [(baseOffset: Int64, lastOffset: Int64, bytes: ByteBuffer)] = []
        var nextOffset: Int64 = 0
        /// Batches each node appended, and Produce/Fetch requests it refused as a follower.
        var appended: [Int32: Int] = [:]
        var refused: [Int32: Int] = [:]
    }

    let topic: String
    let state: Mutex<State>
    private let channels: Mutex<[any Channel]> = Mutex([])

    private init(topic: String, leader: Int32) {
        self.topic = topic
        state = Mutex(State(leader: leader))
    }

    /// Starts one fake broker per node id on 127.0.0.1, ephemeral ports.
    static func start(topic: String, nodes: [Int32], leader: Int32) async throws -> FakeCluster {
        let cluster = FakeCluster(topic: topic, leader: leader)
        for node in nodes {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { child in
                    child.eventLoop.makeCompletedFuture {
                        try child.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder()))
                        try child.pipeline.syncOperations.addHandler(FakeBrokerHandler(node: node, cluster: cluster))
                    }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            cluster.channels.withLock { $0.append(channel) }
            cluster.state.withLock { $0.ports[node] = channel.localAddress!.port! }
        }
        return cluster
    }

    /// Every node, as a bootstrap list.
    var bootstrap: String {
        state.withLock { state in state.ports.keys.sorted().map { "127.0.0.1:\(state.ports[$0]!)" }.joined(separator: ",") }
    }

    /// Makes `node` the partition's leader, with a new leader epoch.
    func moveLeader(to node: Int32) {
        state.withLock { state in
            state.leader = node
            state.leaderEpoch += 1
        }
    }

    func shutdown() async {
        for channel in channels.withLock({ $0 }) { try? await channel.close() }
    }

    /// The answer of `node` to one request, nil for an API it does not serve, empty for none.
    func answer(_ frame: RequestFrame, node: Int32) throws -> ByteBuffer? {
        var out = ByteBuffer()
        let correlationId = frame.header.correlationId
        if frame.apiKey != .apiVersions && state.withLock({ $0.silent }) { return out }
        switch frame.apiKey {
        case .apiVersions:
            let version = min(frame.apiVersion, 3)
            let served: [(ApiKey, ClosedRange<Int16>)] = [(.apiVersions, 0...3), (.metadata, 1...12), (.produce, 3...9), (.fetch, 4...12)]
            try out.writeResponseFrame(ApiVersionsResponse(apiKeys: served.map {
                .init(apiKey: $0.0.rawValue, minVersion: $0.1.lowerBound, maxVersion: $0.1.upperBound)
            }), version: version, correlationId: correlationId)
        case .metadata:
            let request = try frame.decode(MetadataRequest.self)
            let response = state.withLock { state in
                MetadataResponse(
                    brokers: state.ports.keys.sorted().map { .init(nodeId: $0, host: "127.0.0.1", port: Int32(state.ports[$0]!)) },
                    clusterId: "fake", controllerId: state.leader,
                    topics: (request.topics?.compactMap(\.name) ?? [topic]).map { name in
                        guard name == topic else { return .init(errorCode: ErrorCode.unknownTopicOrPartition.rawValue, name: name) }
                        let nodes = state.ports.keys.sorted()
                        return .init(name: name, partitions: [.init(
                            partitionIndex: 0, leaderId: state.leader, leaderEpoch: state.leaderEpoch, replicaNodes: nodes, isrNodes: nodes)])
                    })
            }
            try out.writeResponseFrame(response, version: frame.apiVersion, correlationId: correlationId)
        case .produce:
            let request = try frame.decode(ProduceRequest.self)
            var responses: [ProduceResponse.TopicProduceResponse] = []
            for topicData in request.topicData {
                var partitions: [ProduceResponse.PartitionProduceResponse] = []
                for data in topicData.partitionData {
                    if let base = append(data.records ?? ByteBuffer(), topic: topicData.name, partition: data.index, node: node) {
                        partitions.append(.init(index: data.index, baseOffset: base))
                    } else {
                        partitions.append(.init(index: data.index, errorCode: ErrorCode.notLeaderOrFollower.rawValue, baseOffset: -1))
                    }
                }
                responses.append(.init(name: topicData.name, partitionResponses: partitions))
            }
            try out.writeResponseFrame(ProduceResponse(responses: responses), version: frame.apiVersion, correlationId: correlationId)
        case .fetch:
            let request = try frame.decode(FetchRequest.self)
            let responses = request.topics.map { fetchTopic in
                FetchResponse.FetchableTopicResponse(topic: fetchTopic.topic, partitions: fetchTopic.partitions.map { asked in
                    read(from: asked.fetchOffset, topic: fetchTopic.topic, partition: asked.partition, node: node)
                })
            }
            try out.writeResponseFrame(FetchResponse(responses: responses), version: frame.apiVersion, correlationId: correlationId)
        default:
            return nil
        }
        return out
    }

    /// Appends one batch if `node` leads; nil (NOT_LEADER_OR_FOLLOWER) if not.
    private func append(_ records: ByteBuffer, topic: String, partition: Int32, node: Int32) -> Int64? {
        state.withLock { state in
            guard topic == self.topic, partition == 0, node == state.leader else {
                state.refused[node, default: 0] += 1
                return nil
            }
            var batch = records
            let base = state.nextOffset
            batch.setInteger(base, at: batch.readerIndex)
            let lastDelta = batch.getInteger(at: batch.readerIndex + 23, as: Int32.self) ?? 0
            state.log.append((base, base + Int64(lastDelta), batch))
            state.nextOffset = base + Int64(lastDelta) + 1
            state.appended[node, default: 0] += 1
            return base
        }
    }

    /// The batches from `offset` on if `node` leads; NOT_LEADER_OR_FOLLOWER if not.
    private func read(from offset: Int64, topic: String, partition: Int32, node: Int32) -> FetchResponse.PartitionData {
        state.withLock { state in
            guard topic == self.topic, partition == 0, node == state.leader else {
                state.refused[node, default: 0] += 1
                return .init(partitionIndex: partition, errorCode: ErrorCode.notLeaderOrFollower.rawValue, records: nil)
            }
            var records = ByteBuffer()
            for batch in state.log where batch.lastOffset >= offset {
                var bytes = batch.bytes
                records.writeBuffer(&bytes)
            }
            return .init(partitionIndex: partition, highWatermark: state.nextOffset, lastStableOffset: state.nextOffset,
                         logStartOffset: 0, records: records)
        }
    }
}

/// One fake node's connection: each request frame answered in order.
private final class FakeBrokerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let node: Int32
    let cluster: FakeCluster

    init(node: Int32, cluster: FakeCluster) {
        self.node = node
        self.cluster = cluster
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            let frame = try RequestFrame(frame: unwrapInboundIn(data))
            guard let answer = try cluster.answer(frame, node: node) else {
                context.close(promise: nil)
                return
            }
            guard answer.readableBytes > 0 else { return }
            context.writeAndFlush(wrapOutboundOut(answer), promise: nil)
        } catch {
            context.close(promise: nil)
        }
    }
}
