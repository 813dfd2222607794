import BrookCoordinator
import BrookProtocol
import NIOCore

/// SyncGroup: the leader hands in the assignment; every member gets its own share.
struct SyncGroupHandler: RequestHandler {
    typealias Request = SyncGroupRequest
    let versions: ClosedRange<Int16> = 0...5
    let groups: GroupCoordinatorHost

    func handle(_ request: SyncGroupRequest, context: RequestContext) async throws -> SyncGroupResponse? {
        guard !request.groupId.isEmpty else { return SyncGroupResponse(throttleTimeMs: 0, errorCode: ErrorCode.invalidGroupId.rawValue) }
        guard context.authorized(.read, .group, request.groupId) else {
            return SyncGroupResponse(throttleTimeMs: 0, errorCode: ErrorCode.groupAuthorizationFailed.rawValue)
        }
        let shard: GroupShard
        switch groups.shard(for: request.groupId) {
        case .success(let found): shard = found
        case .failure(let error): return SyncGroupResponse(throttleTimeMs: 0, errorCode: error.code.rawValue)
        }
        var assignments: [String: ByteBuffer] = [:]
        for assignment in request.assignments { assignments[assignment.memberId] = assignment.assignment }
        // A follower is held until the leader's assignment arrives: waiting, not the request's time.
        let result = await context.waiting {
            await shard.sync(
                groupId: request.groupId, memberId: request.memberId, groupInstanceId: request.groupInstanceId,
                generationId: request.generationId, protocolType: request.protocolType,
                protocolName: request.protocolName, assignments: assignments
            )
        }
        var response = SyncGroupResponse(throttleTimeMs: 0, errorCode: result.error.rawValue)
        response.protocolType = result.protocolType
        response.protocolName = result.protocolName
        response.assignment = result.assignment
        return response
    }
}
