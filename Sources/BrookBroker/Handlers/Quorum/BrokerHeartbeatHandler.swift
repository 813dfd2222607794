import BrookProtocol

/// BrokerHeartbeat (KIP-631): keeps a broker's session with the active controller, unfences it
/// once caught up, and carries its controlled shutdown.
struct BrokerHeartbeatHandler: RequestHandler {
    let controller: ClusterController
    var versions: ClosedRange<Int16> { BrokerHeartbeatRequest.validVersions }

    func handle(_ request: BrokerHeartbeatRequest, context: RequestContext) async throws -> BrokerHeartbeatResponse? {
        controller.answer(request)
    }
}
