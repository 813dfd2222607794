import BrookModel
import BrookProtocol
import BrookRaft
import NIOCore

extension FetchHandler {
    /// A quorum replica's or observer's fetch of `__cluster_metadata-0`, answered by the quorum
    /// (Fetch v12+: older versions lack LastFetchedEpoch).
    func quorumFetch(_ request: FetchRequest, quorum: QuorumDriver, context: RequestContext) async throws -> RoutedResponse {
        let version = context.apiVersion
        var response: FetchResponse
        if let refusal = quorum.refusal(clusterId: request.clusterId) {
            response = FetchResponse(errorCode: refusal.rawValue)
        } else if version < 12 {
            response = FetchResponse(errorCode: ErrorCode.unsupportedVersion.rawValue)
        } else {
            do {
                let fetch = try RaftWire.fetch(from: request, correlation: UInt64(UInt32(bitPattern: context.header.correlationId)))
                if case .fetchResult(let result) = await quorum.handle(.fetch(fetch), from: fetch.replica) {
                    response = RaftWire.response(result, answering: fetch, version: version)
                    // Where the leader listens, so a fetcher that does not know it can follow it.
                    if version >= 16, let leader = result.leader, let endpoint = quorum.endpoint(of: leader) {
                        response.nodeEndpoints = [.init(nodeId: leader.rawValue, host: endpoint.host, port: Int32(endpoint.port))]
                    }
                } else {
                    response = FetchResponse(errorCode: ErrorCode.brokerNotAvailable.rawValue)
                }
            } catch {
                response = FetchResponse(errorCode: ErrorCode.invalidRequest.rawValue)
            }
        }
        var output = ByteBuffer()
        try output.writeResponseFrame(response, version: version, correlationId: context.header.correlationId)
        return .frame(output)
    }
}
