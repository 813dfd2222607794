import BrookCoordinator
import BrookProtocol

/// DeleteGroups: removes empty groups and their offsets (NON_EMPTY_GROUP while members remain,
/// GROUP_ID_NOT_FOUND for unknown groups).
struct DeleteGroupsHandler: RequestHandler {
    typealias Request = DeleteGroupsRequest
    let versions: ClosedRange<Int16> = 0...2
    let groups: GroupCoordinatorHost

    func handle(_ request: DeleteGroupsRequest, context: RequestContext) async throws -> DeleteGroupsResponse? {
        DeleteGroupsResponse(throttleTimeMs: 0, results: await request.groupsNames.asyncMap { groupId in
            guard !groupId.isEmpty else {
                return DeleteGroupsResponse.DeletableGroupResult(groupId: groupId, errorCode: ErrorCode.invalidGroupId.rawValue)
            }
            guard context.authorized(.delete, .group, groupId) else {
                return DeleteGroupsResponse.DeletableGroupResult(groupId: groupId, errorCode: ErrorCode.groupAuthorizationFailed.rawValue)
            }
            switch groups.shard(for: groupId) {
            case .success(let shard):
                return DeleteGroupsResponse.DeletableGroupResult(groupId: groupId, errorCode: await shard.deleteGroup(groupId).rawValue)
            case .failure(let error):
                return DeleteGroupsResponse.DeletableGroupResult(groupId: groupId, errorCode: error.code.rawValue)
            }
        })
    }
}
