import BrookProtocol

/// AlterPartitionReassignments (KIP-455): starts, replaces or (with null replicas) cancels the
/// reassignment of each named partition (``PartitionReassignment``), committed together by the
/// controller (other brokers forward the request). Unknown topics and partitions answer
/// UNKNOWN_TOPIC_OR_PARTITION; a replica list naming an unregistered broker, empty or repeating
/// one, INVALID_REPLICA_ASSIGNMENT; a cancellation with nothing under way,
/// NO_REASSIGNMENT_IN_PROGRESS. On a single node there is no broker to move replicas to.
struct AlterPartitionReassignmentsHandler: RequestHandler {
    typealias Request = AlterPartitionReassignmentsRequest
    var versions: ClosedRange<Int16> { AlterPartitionReassignmentsRequest.validVersions }
    let metadata: MetadataStore

    func handle(_ request: AlterPartitionReassignmentsRequest, context: RequestContext) async throws -> AlterPartitionReassignmentsResponse? {
        // With ACLs, ALTER on the cluster.
        guard context.authorizedOnCluster(.alter) else {
            return AlterPartitionReassignmentsResponse(
                throttleTimeMs: 0, errorCode: ErrorCode.clusterAuthorizationFailed.rawValue, errorMessage: "Cluster authorization failed.")
        }
        var answers: [[(ErrorCode, String?)]] = []
        do {
            try metadata.commitComputed { image throws(MetadataError) -> [MetadataRecord] in
                var records: [MetadataRecord] = []
                answers = request.topics.map { requested in
                    requested.partitions.map { partition -> (ErrorCode, String?) in
                        guard image.registrations.isEmpty == false || partition.replicas == nil else {
                            return (.invalidReplicaAssignment, "A single node has no other broker to move replicas to.")
                        }
                        guard let topic = image.topics[requested.name],
                            let current = topic.partitions.first(where: { $0.index == partition.partitionIndex })
                        else {
                            return (.unknownTopicOrPartition, "No such partition as \(requested.name)-\(partition.partitionIndex).")
                        }
                        switch PartitionReassignment.reassign(current, of: topic, to: partition.replicas, in: image) {
                        case .changed(let record):
                            records.append(.partition(record))
                            return (.none, nil)
                        case .unchanged:
                            return (.none, nil)
                        case .refused(let code, let message):
                            return (code, message)
                        }
                    }
                }
                return records
            }
        } catch {
            return AlterPartitionReassignmentsResponse(errorCode: error.code.rawValue, errorMessage: error.message)
        }
        return AlterPartitionReassignmentsResponse(
            errorCode: 0, errorMessage: nil,
            responses: zip(request.topics, answers).map { requested, codes in
                .init(name: requested.name, partitions: zip(requested.partitions, codes).map { partition, answer in
                    .init(partitionIndex: partition.partitionIndex, errorCode: answer.0.rawValue, errorMessage: answer.1)
                })
            })
    }
}

/// ListPartitionReassignments: the reassignments under way (all, or those of the named
/// partitions), each with its replicas, those being added and those being removed.
struct ListPartitionReassignmentsHandler: RequestHandler {
    typealias Request = ListPartitionReassignmentsRequest
    var versions: ClosedRange<Int16> { ListPartitionReassignmentsRequest.validVersions }
    let metadata: MetadataStore

    func handle(_ request: ListPartitionReassignmentsRequest, context: RequestContext) async throws -> ListPartitionReassignmentsResponse? {
        guard context.authorizedOnCluster(.describe) else {
            return ListPartitionReassignmentsResponse(
                throttleTimeMs: 0, errorCode: ErrorCode.clusterAuthorizationFailed.rawValue, errorMessage: "Cluster authorization failed.")
        }
        let image = metadata.image
        let wanted: [(String, [Int32]?)] = request.topics.map { $0.map { ($0.name, $0.partitionIndexes) } }
            ?? image.topics.keys.sorted().map { ($0, nil) }
        var topics: [ListPartitionReassignmentsResponse.OngoingTopicReassignment] = []
        for (name, indexes) in wanted {
            guard let topic = image.topics[name] else { continue }
            let ongoing = topic.partitions.filter { partition in
                partition.isReassigning && (indexes?.contains(partition.index) ?? true)
            }
            guard !ongoing.isEmpty else { continue }
            topics.append(.init(name: name, partitions: ongoing.map {
                .init(partitionIndex: $0.index, replicas: $0.replicas, addingReplicas: $0.addingReplicas, removingReplicas: $0.removingReplicas)
            }))
        }
        return ListPartitionReassignmentsResponse(errorCode: 0, errorMessage: nil, topics: topics)
    }
}
