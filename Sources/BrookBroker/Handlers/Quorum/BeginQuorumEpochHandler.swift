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
        if let endpoint = request.leaderEndpoints.first, endpoint.port > 0, !endpoint.host.isEmpty {
            quorum.leaderListens(begin.leader, host: endpoint.host, port: Int(endpoint.port))
        }
        guard case .beginEpochResult(let result) = await quorum.handle(.beginEpoch(begin), from: begin.leader) else {
            return BeginQuorumEpochResponse(errorCode: ErrorCode.brokerNotAvailable.rawValue)
        }
        return RaftWire.response(result)
    }
}
