import BrookCoordinator
import BrookProtocol
import NIOCore

extension RequestContext {
    /// The client's address as Kafka reports it in group descriptions (`/127.0.0.1`).
    var clientHost: String {
        guard let address = remoteAddress?.ipAddress else { return "" }
        return "/" + address
    }
}

extension GroupCoordinatorHost {
    /// The shard owning `groupId`, or the error to answer with when the coordinator cannot start.
    /// In a cluster, a group whose partition another broker leads is answered NOT_COORDINATOR
    /// (the client looks its coordinator up again).
    func shard(for groupId: String) -> Result<GroupShard, GroupLookupError> {
        guard hosting.coordinates(groupId) else { return .failure(GroupLookupError(code: .notCoordinator)) }
        do throws(CoordinatorUnavailable) {
            return .success(try coordinator().shard(for: groupId))
        } catch .loadInProgress {
            return .failure(GroupLookupError(code: .coordinatorLoadInProgress))
        } catch {
            return .failure(GroupLookupError(code: .coordinatorNotAvailable))
        }
    }
}

/// Why a group request could not reach its shard.
struct GroupLookupError: Error {
    var code: ErrorCode
}
