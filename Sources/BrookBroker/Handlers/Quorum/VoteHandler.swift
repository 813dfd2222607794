import BrookModel
import BrookProtocol
import BrookRaft

/// Vote (KIP-595, with KIP-996's pre-vote): a candidate asks this voter for its vote.
struct VoteHandler: RequestHandler {
    let quorum: QuorumDriver
    var versions: ClosedRange<Int16> { VoteRequest.validVersions }

    func handle(_ request: VoteRequest, context: RequestContext) async throws -> VoteResponse? {
        if let refusal = quorum.refusal(clusterId: request.clusterId) { return VoteResponse(errorCode: refusal.rawValue) }
        let vote: RaftMessage.Vote
        do { vote = try RaftWire.vote(from: request) } catch { return VoteResponse(errorCode: ErrorCode.invalidRequest.rawValue) }
        guard case .voteResult(let result) = await quorum.handle(.vote(vote), from: vote.candidate) else {
            return VoteResponse(errorCode: ErrorCode.brokerNotAvailable.rawValue)
        }
        return RaftWire.response(result)
    }
}
