import BrookProtocol

/// A response that can say, in its top-level error code, that the request was refused.
protocol RefusableResponse {
    init(refusal: ErrorCode)
}

/// A handler whose request needs `operation` on the cluster (the APIs brokers and controllers
/// call on each other need CLUSTER_ACTION, as in Kafka); without it the answer is
/// CLUSTER_AUTHORIZATION_FAILED and `inner` never sees the request.
struct RequiresClusterOperation<Inner: RequestHandler>: RequestHandler where Inner.Request.Response: RefusableResponse {
    typealias Request = Inner.Request
    let inner: Inner
    let operation: AclOperation

    var versions: ClosedRange<Int16> { inner.versions }

    func handle(_ request: Request, context: RequestContext) async throws -> Request.Response? {
        guard context.authorizedOnCluster(operation) else { return Request.Response(refusal: .clusterAuthorizationFailed) }
        return try await inner.handle(request, context: context)
    }
}

extension RequestHandler where Request.Response: RefusableResponse {
    /// This handler, serving only clients allowed `operation` on the cluster.
    func requiring(_ operation: AclOperation) -> RequiresClusterOperation<Self> {
        RequiresClusterOperation(inner: self, operation: operation)
    }
}

extension VoteResponse: RefusableResponse {
    init(refusal: ErrorCode) { self.init(errorCode: refusal.rawValue) }
}

extension BeginQuorumEpochResponse: RefusableResponse {
    init(refusal: ErrorCode) { self.init(errorCode: refusal.rawValue) }
}

extension EndQuorumEpochResponse: RefusableResponse {
    init(refusal: ErrorCode) { self.init(errorCode: refusal.rawValue) }
}

extension FetchSnapshotResponse: RefusableResponse {
    init(refusal: ErrorCode) { self.init(errorCode: refusal.rawValue) }
}

extension BrokerRegistrationResponse: RefusableResponse {
    init(refusal: ErrorCode) { self.init(errorCode: refusal.rawValue) }
}

extension BrokerHeartbeatResponse: RefusableResponse {
    init(refusal: ErrorCode) { self.init(errorCode: refusal.rawValue) }
}

extension AlterPartitionResponse: RefusableResponse {
    init(refusal: ErrorCode) { self.init(errorCode: refusal.rawValue) }
}

extension AllocateProducerIdsResponse: RefusableResponse {
    init(refusal: ErrorCode) { self.init(errorCode: refusal.rawValue) }
}

extension DescribeQuorumResponse: RefusableResponse {
    init(refusal: ErrorCode) { self.init(errorCode: refusal.rawValue, errorMessage: "Cluster authorization failed.") }
}

extension AddRaftVoterResponse: RefusableResponse {
    init(refusal: ErrorCode) { self.init(errorCode: refusal.rawValue, errorMessage: "Cluster authorization failed.") }
}

extension RemoveRaftVoterResponse: RefusableResponse {
    init(refusal: ErrorCode) { self.init(errorCode: refusal.rawValue, errorMessage: "Cluster authorization failed.") }
}

extension UpdateRaftVoterResponse: RefusableResponse {
    init(refusal: ErrorCode) { self.init(errorCode: refusal.rawValue) }
}
