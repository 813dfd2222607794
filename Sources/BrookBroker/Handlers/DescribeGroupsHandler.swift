import BrookCoordinator
import BrookProtocol

/// DescribeGroups: state, protocol and members (with metadata and assignment once Stable);
/// an unknown group is described as Dead, as Kafka does.
struct DescribeGroupsHandler: RequestHandler {
    typealias Request = DescribeGroupsRequest
    let versions: ClosedRange<Int16> = 0...5
    let groups: GroupCoordinatorHost

    /// READ, DELETE and DESCRIBE, as bits numbered by Kafka's `AclOperation` codes.

    func handle(_ request: DescribeGroupsRequest, context: RequestContext) async throws -> DescribeGroupsResponse? {
        let askedOperations = request.includeAuthorizedOperations
        let version = context.apiVersion
        return DescribeGroupsResponse(throttleTimeMs: 0, groups: await request.groups.asyncMap { groupId in
            var described = DescribeGroupsResponse.DescribedGroup(groupId: groupId, authorizedOperations: askedOperations
                ? context.authorizedOperations(.group, groupId, among: AclOperation.groupOperations) : Int32.min)
            guard !groupId.isEmpty else {
                described.errorCode = ErrorCode.invalidGroupId.rawValue
                return described
            }
            guard context.authorized(.describe, .group, groupId) else {
                described.errorCode = ErrorCode.groupAuthorizationFailed.rawValue
                return described
            }
            let shard: GroupShard
            switch groups.shard(for: groupId) {
            case .success(let found): shard = found
            case .failure(let error):
                described.errorCode = error.code.rawValue
                return described
            }
            let group = await shard.describe(groupId: groupId)
            described.groupState = group.state
            described.protocolType = group.protocolType
            described.protocolData = group.protocolName
            described.members = group.members.map {
                DescribeGroupsResponse.DescribedGroupMember(
                    memberId: $0.memberId, groupInstanceId: version >= 4 ? $0.groupInstanceId : nil, clientId: $0.clientId,
                    clientHost: $0.clientHost, memberMetadata: $0.metadata, memberAssignment: $0.assignment
                )
            }
            return described
        })
    }
}
