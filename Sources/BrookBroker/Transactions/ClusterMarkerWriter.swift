import BrookCoordinator
import BrookModel
import BrookProtocol

/// Writes a transaction's markers in a cluster: to the partitions this broker leads directly
/// (``LocalMarkerWriter``), and to the others with a WriteTxnMarkers request to each leader, in
/// parallel, as Kafka's transaction marker channel does. A partition with no leader now answers
/// NOT_LEADER_OR_FOLLOWER, so the transaction stays prepared and its markers are written again.
struct ClusterMarkerWriter: TransactionMarkerWriter {
    let local: LocalMarkerWriter
    let metadata: MetadataStore
    let links: NodeLinks

    func write(_ markers: TransactionMarkers) async -> [TopicPartition: ErrorCode] {
        let image = metadata.image
        var results: [TopicPartition: ErrorCode] = [:]
        var here: [TopicPartition] = []
        var elsewhere: [Int32: [TopicPartition]] = [:]
        for partition in markers.partitions {
            guard let leader = image.topics[partition.topic]?.partitions.first(where: { $0.index == partition.partition })?.leader else {
                results[partition] = .unknownTopicOrPartition
                continue
            }
            if leader == metadata.nodeId {
                here.append(partition)
            } else if leader < 0 {
                results[partition] = .notLeaderOrFollower
            } else {
                elsewhere[leader, default: []].append(partition)
            }
        }
        if !here.isEmpty {
            var mine = markers
            mine.partitions = here
            results.merge(await local.write(mine)) { _, new in new }
        }
        await withTaskGroup(of: [TopicPartition: ErrorCode].self) { group in
            for (leader, partitions) in elsewhere {
                let broker = image.broker(leader, on: links.listener)
                group.addTask { await send(markers, partitions, to: broker) }
            }
            for await answered in group { results.merge(answered) { _, new in new } }
        }
        return results
    }

    /// One WriteTxnMarkers request to the leader `broker` (nil: not a live broker) of `partitions`.
    private func send(
        _ markers: TransactionMarkers, _ partitions: [TopicPartition], to broker: MetadataImage.Broker?
    ) async -> [TopicPartition: ErrorCode] {
        let unsent = Dictionary(uniqueKeysWithValues: partitions.map { ($0, ErrorCode.notLeaderOrFollower) })
        guard let broker else { return unsent }
        let topics = Dictionary(grouping: partitions, by: \.topic).sorted { $0.key < $1.key }.map { name, partitions in
            WriteTxnMarkersRequest.WritableTxnMarkerTopic(name: name, partitionIndexes: partitions.map(\.partition).sorted())
        }
        let request = WriteTxnMarkersRequest(markers: [.init(
            producerId: markers.producerId, producerEpoch: markers.producerEpoch, transactionResult: markers.commit,
            topics: topics, coordinatorEpoch: markers.coordinatorEpoch)])
        guard let answer = try? await links.send(request, host: broker.host, port: Int(broker.port)) else { return unsent }
        var results = unsent
        for marker in answer.markers where marker.producerId == markers.producerId {
            for topic in marker.topics {
                for partition in topic.partitions {
                    let key = TopicPartition(topic: topic.name, partition: partition.partitionIndex)
                    guard results[key] != nil else { continue }
                    results[key] = ErrorCode(rawValue: partition.errorCode) ?? .unknownServerError
                }
            }
        }
        return results
    }
}
