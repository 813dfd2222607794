import BrookProtocol

/// AlterPartition (KIP-497): a partition leader's ISR change, answered by the active
/// controller (others answer NOT_CONTROLLER, and the leader asks again).
struct AlterPartitionHandler: RequestHandler {
    let controller: ClusterController
    var versions: ClosedRange<Int16> { AlterPartitionRequest.validVersions }

    func handle(_ request: AlterPartitionRequest, context: RequestContext) async throws -> AlterPartitionResponse? {
        controller.alterPartition(request, version: context.apiVersion)
    }
}
