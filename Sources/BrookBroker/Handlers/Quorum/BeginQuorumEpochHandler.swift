import BrookModel
import BrookProtocol
import BrookRaft

/// BeginQuorumEpoch (KIP-595): a newly elected leader announces its epoch to this voter.
struct BeginQuorumEpochHandler: RequestHandler {
    let quorum: QuorumDriver
    var versions: ClosedRange<Int16> { BeginQuorumEpochRequest.validVersions }

    func handle(_ request: BeginQuorumEpochRequest, context: RequestContext) async throws -> BeginQuorumEpochResponse? {
        if let refusal = quorum.refusal(clusterId: request.clusterId) { return BeginQuorumEpochResponse(errorCode: refusal.rawValue) }
        let begin: RaftMessage.BeginEpoch
        do { begin = try RaftWire.beginEpoch(from: request) } catch {
            return BeginQuorumEpochResponse(errorCode: ErrorCode.invalidRequest.rawValue)
        }
        guard case .beginEpochResult(let result) = await quorum.handle(.beginEpoch(begin), from: begin.leader) else {
            return BeginQuorumEpochResponse(errorCode: ErrorCode.brokerNotAvailable.rawValue)
        }
        return RaftWire.response(result)
    }
}
