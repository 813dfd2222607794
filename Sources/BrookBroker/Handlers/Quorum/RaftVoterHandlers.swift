import BrookModel
import BrookProtocol

/// AddRaftVoter (KIP-853): adds a controller, caught up as an observer, to the voters of a
/// dynamic quorum. The leader writes the new voter set and answers once it is committed; any
/// other node hands the request to the leader and returns its answer. A static quorum
/// (`controller.quorum.voters`) answers UNSUPPORTED_VERSION.
struct AddRaftVoterHandler: RequestHandler {
    let quorum: QuorumDriver
    let controller: ControllerClient
    var versions: ClosedRange<Int16> { AddRaftVoterRequest.validVersions }

    func handle(_ request: AddRaftVoterRequest, context: RequestContext) async throws -> AddRaftVoterResponse? {
        if let refusal = quorum.refusal(clusterId: request.clusterId) { return AddRaftVoterResponse(errorCode: refusal.rawValue) }
        guard request.voterId >= 0, let listener = request.listeners.first, listener.port > 0, !listener.host.isEmpty else {
            return AddRaftVoterResponse(errorCode: ErrorCode.invalidRequest.rawValue, errorMessage: "AddRaftVoter needs a voter id and its endpoint")
        }
        guard quorum.status.isLeader || context.isForwarded else { return try await forward(request) }
        let voter = QuorumVoter(
            id: BrokerID(request.voterId), host: listener.host, port: Int(listener.port), directoryId: request.voterDirectoryId)
        // The new voter may still be catching up, or another change committing: try again
        // until the request's timeout, as Kafka's leader waits for the voter to catch up.
        let timeout = Duration.milliseconds(Int64(max(1_000, min(request.timeoutMs, 300_000))))
        let deadline = ContinuousClock.now + timeout
        while true {
            do {
                try quorum.changeVoters(.add(voter), timeout: timeout)
                return AddRaftVoterResponse()
            } catch where error.code == .requestTimedOut && ContinuousClock.now < deadline && quorum.status.isLeader {
                try await Task.sleep(for: .milliseconds(50))
            } catch {
                return AddRaftVoterResponse(errorCode: error.code.rawValue, errorMessage: error.description)
            }
        }
    }

    private func forward(_ request: AddRaftVoterRequest) async throws -> AddRaftVoterResponse {
        do { return try await controller.send(request) } catch {
            return AddRaftVoterResponse(errorCode: ErrorCode.notLeaderOrFollower.rawValue, errorMessage: "the quorum's leader cannot be reached: \(error)")
        }
    }
}

/// RemoveRaftVoter (KIP-853): removes a voter from a dynamic quorum (the leader itself too: it
/// resigns once its removal is committed). Sent to another node, it goes to the leader.
struct RemoveRaftVoterHandler: RequestHandler {
    let quorum: QuorumDriver
    let controller: ControllerClient
    var versions: ClosedRange<Int16> { RemoveRaftVoterRequest.validVersions }

    func handle(_ request: RemoveRaftVoterRequest, context: RequestContext) async throws -> RemoveRaftVoterResponse? {
        if let refusal = quorum.refusal(clusterId: request.clusterId) { return RemoveRaftVoterResponse(errorCode: refusal.rawValue) }
        guard request.voterId >= 0 else {
            return RemoveRaftVoterResponse(errorCode: ErrorCode.invalidRequest.rawValue, errorMessage: "RemoveRaftVoter needs a voter id")
        }
        guard quorum.status.isLeader || context.isForwarded else {
            do { return try await controller.send(request) } catch {
                return RemoveRaftVoterResponse(errorCode: ErrorCode.notLeaderOrFollower.rawValue, errorMessage: "the quorum's leader cannot be reached: \(error)")
            }
        }
        do {
            try quorum.changeVoters(.remove(BrokerID(request.voterId), directoryId: request.voterDirectoryId), timeout: .seconds(30))
            return RemoveRaftVoterResponse()
        } catch {
            return RemoveRaftVoterResponse(errorCode: error.code.rawValue, errorMessage: error.description)
        }
    }
}

/// UpdateRaftVoter (KIP-853): a voter that listens elsewhere than its voter record says asks
/// the leader to record its new endpoint. Only the leader answers; another node says
/// NOT_LEADER_OR_FOLLOWER and names the leader it knows.
struct UpdateRaftVoterHandler: RequestHandler {
    let quorum: QuorumDriver
    var versions: ClosedRange<Int16> { UpdateRaftVoterRequest.validVersions }

    func handle(_ request: UpdateRaftVoterRequest, context: RequestContext) async throws -> UpdateRaftVoterResponse? {
        if let refusal = quorum.refusal(clusterId: request.clusterId) { return UpdateRaftVoterResponse(errorCode: refusal.rawValue) }
        let status = quorum.status
        var leader = UpdateRaftVoterResponse.CurrentLeader(leaderId: status.leader?.rawValue ?? -1, leaderEpoch: status.epoch.rawValue)
        if let id = status.leader, let endpoint = quorum.endpoint(of: id) {
            leader.host = endpoint.host
            leader.port = Int32(endpoint.port)
        }
        guard request.voterId >= 0, let listener = request.listeners.first, listener.port > 0, !listener.host.isEmpty else {
            return UpdateRaftVoterResponse(errorCode: ErrorCode.invalidRequest.rawValue, currentLeader: leader)
        }
        guard status.isLeader else { return UpdateRaftVoterResponse(errorCode: ErrorCode.notLeaderOrFollower.rawValue, currentLeader: leader) }
        let voter = QuorumVoter(
            id: BrokerID(request.voterId), host: listener.host, port: Int(listener.port), directoryId: request.voterDirectoryId)
        do {
            try quorum.changeVoters(.update(voter), timeout: .seconds(10))
            return UpdateRaftVoterResponse(currentLeader: leader)
        } catch {
            return UpdateRaftVoterResponse(errorCode: error.code.rawValue, currentLeader: leader)
        }
    }
}
