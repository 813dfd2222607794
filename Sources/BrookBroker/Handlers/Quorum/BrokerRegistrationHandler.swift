import BrookProtocol

/// BrokerRegistration (KIP-631): a broker joins the cluster; the active controller records it
/// (fenced until its heartbeats show it caught up) and answers its broker epoch.
struct BrokerRegistrationHandler: RequestHandler {
    let controller: ClusterController
    var versions: ClosedRange<Int16> { BrokerRegistrationRequest.validVersions }

    func handle(_ request: BrokerRegistrationRequest, context: RequestContext) async throws -> BrokerRegistrationResponse? {
        controller.answer(request)
    }
}
