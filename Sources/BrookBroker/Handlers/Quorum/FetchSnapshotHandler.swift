import BrookModel
import BrookProtocol
import BrookRaft

/// FetchSnapshot (KIP-630): a replica whose fetch fell below this leader's log start fetches the
/// leader's latest metadata snapshot, a piece at a time.
struct FetchSnapshotHandler: RequestHandler {
    let quorum: QuorumDriver
    var versions: ClosedRange<Int16> { FetchSnapshotRequest.validVersions }

    func handle(_ request: FetchSnapshotRequest, context: RequestContext) async throws -> FetchSnapshotResponse? {
        if let refusal = quorum.refusal(clusterId: request.clusterId) { return FetchSnapshotResponse(errorCode: refusal.rawValue) }
        let fetch: RaftMessage.FetchSnapshot
        do {
            fetch = try RaftWire.fetchSnapshot(from: request, correlation: UInt64(UInt32(bitPattern: context.header.correlationId)))
        } catch {
            return FetchSnapshotResponse(errorCode: ErrorCode.invalidRequest.rawValue)
        }
        guard case .fetchSnapshotResult(let result) = await quorum.handle(.fetchSnapshot(fetch), from: fetch.replica) else {
            return FetchSnapshotResponse(errorCode: ErrorCode.brokerNotAvailable.rawValue)
        }
        return RaftWire.response(result, answering: fetch)
    }
}
