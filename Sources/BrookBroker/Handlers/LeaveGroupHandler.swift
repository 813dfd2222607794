import BrookCoordinator
import BrookProtocol

/// LeaveGroup: v0–v2 name one member; v3+ a batch of members, static ones possibly by
/// instance id alone, each with its own error.
struct LeaveGroupHandler: RequestHandler {
    typealias Request = LeaveGroupRequest
    let versions: ClosedRange<Int16> = 0...5
    let groups: GroupCoordinatorHost

    func handle(_ request: LeaveGroupRequest, context: RequestContext) async throws -> LeaveGroupResponse? {
        guard !request.groupId.isEmpty else { return LeaveGroupResponse(throttleTimeMs: 0, errorCode: ErrorCode.invalidGroupId.rawValue) }
        guard context.authorized(.read, .group, request.groupId) else {
            return LeaveGroupResponse(throttleTimeMs: 0, errorCode: ErrorCode.groupAuthorizationFailed.rawValue)
        }
        let shard: GroupShard
        switch groups.shard(for: request.groupId) {
        case .success(let found): shard = found
        case .failure(let error): return LeaveGroupResponse(throttleTimeMs: 0, errorCode: error.code.rawValue)
        }
        let batched = context.apiVersion >= 3
        let members: [(memberId: String, groupInstanceId: String?)] = batched
            ? request.members.map { ($0.memberId, $0.groupInstanceId) }
            : [(request.memberId, nil)]
        let (groupError, errors) = await shard.leave(groupId: request.groupId, members: members)
        var response = LeaveGroupResponse(throttleTimeMs: 0, errorCode: groupError.rawValue)
        if batched {
            response.members = zip(request.members, errors).map { member, error in
                LeaveGroupResponse.MemberResponse(memberId: member.memberId, groupInstanceId: member.groupInstanceId, errorCode: error.rawValue)
            }
        } else if groupError == .none, let error = errors.first {
            response.errorCode = error.rawValue
        }
        return response
    }
}
