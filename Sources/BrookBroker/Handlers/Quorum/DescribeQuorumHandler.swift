import BrookModel
import BrookProtocol
import BrookRaft
import BrookStorage

/// DescribeQuorum (KIP-595): the metadata quorum's leader, epoch, high watermark and each
/// voter's and observer's progress. Only the leader knows the progress: another node hands the
/// request to the leader and returns its answer, as Kafka's brokers forward it to the active
/// controller; when the leader cannot be reached it answers NOT_LEADER_OR_FOLLOWER, naming the
/// leader it knows in the partition's LeaderId.
struct DescribeQuorumHandler: RequestHandler {
    let quorum: QuorumDriver
    var controller: ControllerClient?
    var versions: ClosedRange<Int16> { DescribeQuorumRequest.validVersions }

    func handle(_ request: DescribeQuorumRequest, context: RequestContext) async throws -> DescribeQuorumResponse? {
        guard request.topics.count == 1, request.topics[0].topicName == RaftWire.topicName,
            request.topics[0].partitions.map(\.partitionIndex) == [0]
        else {
            return DescribeQuorumResponse(errorCode: ErrorCode.invalidRequest.rawValue, errorMessage: "DescribeQuorum serves \(RaftWire.topicName)-0 only")
        }
        let status = quorum.status
        if !status.isLeader, status.leader != nil, !context.isForwarded, let controller,
            let answer = try? await controller.send(request, version: context.apiVersion, timeout: .seconds(5))
        {
            return answer
        }
        var partition = DescribeQuorumResponse.PartitionData(
            partitionIndex: 0, leaderId: status.leader?.rawValue ?? -1, leaderEpoch: status.epoch.rawValue,
            highWatermark: status.highWatermark.rawValue
        )
        if !status.isLeader {
            partition.errorCode = ErrorCode.notLeaderOrFollower.rawValue
            partition.errorMessage = "node \(quorum.configuration.localID) is not the quorum's leader"
        } else {
            let now = QuorumDriver.now()
            let wallNow = SystemLogClock().nowMilliseconds()
            func state(_ replica: QuorumDriver.Status.Replica) -> DescribeQuorumResponse.ReplicaState {
                // Fetch times are on the monotonic clock; DescribeQuorum reports wall-clock times.
                let lastFetch = replica.lastFetchMilliseconds.map { wallNow - (now - $0) } ?? wallNow
                return DescribeQuorumResponse.ReplicaState(
                    replicaId: replica.id.rawValue, logEndOffset: replica.logEndOffset.rawValue,
                    lastFetchTimestamp: lastFetch,
                    lastCaughtUpTimestamp: replica.logEndOffset >= status.highWatermark ? lastFetch : -1
                )
            }
            partition.currentVoters = status.voters.map(state)
            partition.observers = status.observers.map(state)
        }
        return DescribeQuorumResponse(topics: [DescribeQuorumResponse.TopicData(topicName: RaftWire.topicName, partitions: [partition])])
    }
}
