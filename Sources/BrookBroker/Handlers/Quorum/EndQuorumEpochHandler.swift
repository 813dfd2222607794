import BrookModel
import BrookProtocol
import BrookRaft

/// EndQuorumEpoch (KIP-595): the leader gives up its epoch and names the voters to stand first.
struct EndQuorumEpochHandler: RequestHandler {
    let quorum: QuorumDriver
    var versions: ClosedRange<Int16> { EndQuorumEpochRequest.validVersions }

    func handle(_ request: EndQuorumEpochRequest, context: RequestContext) async throws -> EndQuorumEpochResponse? {
        if let refusal = quorum.refusal(clusterId: request.clusterId) { return EndQuorumEpochResponse(errorCode: refusal.rawValue) }
        let end: RaftMessage.EndEpoch
        do { end = try RaftWire.endEpoch(from: request) } catch {
            return EndQuorumEpochResponse(errorCode: ErrorCode.invalidRequest.rawValue)
        }
        _ = await quorum.handle(.endEpoch(end), from: end.leader)
        let status = quorum.status
        return RaftWire.response(endEpochOf: status.epoch, leader: status.leader)
    }
}
