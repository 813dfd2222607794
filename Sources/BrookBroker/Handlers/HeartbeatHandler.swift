import BrookCoordinator
import BrookProtocol

/// Heartbeat: keeps a classic member alive; REBALANCE_IN_PROGRESS tells it to rejoin.
struct HeartbeatHandler: RequestHandler {
    typealias Request = HeartbeatRequest
    let versions: ClosedRange<Int16> = 0...4
    let groups: GroupCoordinatorHost

    func handle(_ request: HeartbeatRequest, context: RequestContext) async throws -> HeartbeatResponse? {
        guard !request.groupId.isEmpty else { return HeartbeatResponse(throttleTimeMs: 0, errorCode: ErrorCode.invalidGroupId.rawValue) }
        guard context.authorized(.read, .group, request.groupId) else {
            return HeartbeatResponse(throttleTimeMs: 0, errorCode: ErrorCode.groupAuthorizationFailed.rawValue)
        }
        switch groups.shard(for: request.groupId) {
        case .success(let shard):
            let error = await shard.heartbeat(
                groupId: request.groupId, memberId: request.memberId,
                groupInstanceId: request.groupInstanceId, generationId: request.generationId
            )
            return HeartbeatResponse(throttleTimeMs: 0, errorCode: error.rawValue)
        case .failure(let error):
            return HeartbeatResponse(throttleTimeMs: 0, errorCode: error.code.rawValue)
        }
    }
}
