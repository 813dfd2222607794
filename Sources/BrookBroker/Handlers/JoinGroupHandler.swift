import BrookCoordinator
import BrookProtocol

/// JoinGroup: parks the member until the group's join phase completes. v0 has no rebalance
/// timeout (the session timeout stands in); v4+ members without an id are first given one with
/// MEMBER_ID_REQUIRED (KIP-394); v5+ carry static instance ids (KIP-345).
struct JoinGroupHandler: RequestHandler {
    typealias Request = JoinGroupRequest
    let versions: ClosedRange<Int16> = 0...9
    let groups: GroupCoordinatorHost

    func handle(_ request: JoinGroupRequest, context: RequestContext) async throws -> JoinGroupResponse? {
        guard !request.groupId.isEmpty else { return Self.failure(.invalidGroupId, memberId: request.memberId) }
        guard context.authorized(.read, .group, request.groupId) else {
            return Self.failure(.groupAuthorizationFailed, memberId: request.memberId)
        }
        let shard: GroupShard
        switch groups.shard(for: request.groupId) {
        case .success(let found): shard = found
        case .failure(let error): return Self.failure(error.code, memberId: request.memberId)
        }
        let version = context.apiVersion
        let parameters = JoinGroupParameters(
            memberId: request.memberId, groupInstanceId: request.groupInstanceId,
            clientId: context.clientId ?? "", clientHost: context.clientHost,
            sessionTimeoutMs: request.sessionTimeoutMs,
            rebalanceTimeoutMs: version >= 1 ? request.rebalanceTimeoutMs : request.sessionTimeoutMs,
            protocolType: request.protocolType,
            protocols: request.protocols.map { GroupMember.SupportedProtocol(name: $0.name, metadata: $0.metadata) },
            requiresKnownMemberId: version >= 4
        )
        // Held until the rebalance completes: waiting, not the request's time.
        let result = await context.waiting { await shard.join(groupId: request.groupId, parameters) }
        var response = JoinGroupResponse(throttleTimeMs: 0, errorCode: result.error.rawValue)
        response.generationId = result.generationId
        response.protocolType = result.protocolType
        response.protocolName = version >= 7 ? result.protocolName : (result.protocolName ?? "")
        response.leader = result.leaderId
        response.skipAssignment = result.skipAssignment && version >= 9
        response.memberId = result.memberId
        response.members = result.members.map {
            // Instance ids exist from v5; an older leader sees its static peers as plain members.
            JoinGroupResponse.JoinGroupResponseMember(
                memberId: $0.memberId, groupInstanceId: version >= 5 ? $0.groupInstanceId : nil, metadata: $0.metadata
            )
        }
        return response
    }

    static func failure(_ code: ErrorCode, memberId: String) -> JoinGroupResponse {
        var response = JoinGroupResponse(throttleTimeMs: 0, errorCode: code.rawValue)
        response.memberId = memberId
        return response
    }
}
