import BrookCoordinator
import BrookProtocol

/// ListGroups: every group with its protocol type, and (v4+) state and (v5+) type, filtered by
/// state and type names case-insensitively.
struct ListGroupsHandler: RequestHandler {
    typealias Request = ListGroupsRequest
    let versions: ClosedRange<Int16> = 0...5
    let groups: GroupCoordinatorHost

    func handle(_ request: ListGroupsRequest, context: RequestContext) async throws -> ListGroupsResponse? {
        guard let coordinator = groups.started else { return ListGroupsResponse(throttleTimeMs: 0, errorCode: 0) }
        let states = Set(request.statesFilter.map { $0.lowercased() })
        let types = Set(request.typesFilter.map { $0.lowercased() })
        let listings = await coordinator.shards.asyncMap { await $0.list() }.joined()
            .filter { states.isEmpty || states.contains($0.state.lowercased()) }
            .filter { types.isEmpty || types.contains($0.groupType) }
            .sorted { $0.groupId < $1.groupId }
            // With ACLs: every group with DESCRIBE on the cluster, else those the client may describe.
            .filter { !context.checksAcls || context.authorizedOnCluster(.describe) || context.authorized(.describe, .group, $0.groupId) }
        return ListGroupsResponse(throttleTimeMs: 0, errorCode: 0, groups: listings.map {
            ListGroupsResponse.ListedGroup(groupId: $0.groupId, protocolType: $0.protocolType, groupState: $0.state, groupType: $0.groupType)
        })
    }
}
