import BrookProtocol
import Synchronization

/// The time one request's handler spends on it, for the client's `request_percentage` quota:
/// from the start of the handler until its response is made, less the time it waits for other
/// clients or for data (a long-poll Fetch, a JoinGroup held for the rebalance), which Kafka holds
/// in purgatory, off its request threads. Recorded once. Waits on the quorum or on other
/// brokers (a forwarded request, a commit) still count.
final class RequestTimer: Sendable {
    private struct State {
        var excluded: Duration = .zero
        var throttle: Int32?
    }

    /// The requests nodes send each other, exempt from request quotas as in Kafka (a
    /// follower's Fetch is too, by its replica id).
    static let exemptApis: Set<ApiKey> = [
        .writeTxnMarkers, .envelope, .vote, .beginQuorumEpoch, .endQuorumEpoch, .fetchSnapshot, .alterPartition,
        .brokerRegistration, .brokerHeartbeat, .controllerRegistration, .allocateProducerIds, .updateRaftVoter,
        .controlledShutdown, .unregisterBroker, .assignReplicasToDirs,
    ]

    private let started = ContinuousClock.now
    private let state = Mutex(State())

    /// Records nothing for this request (traffic between nodes, which Kafka exempts).
    func exempt() {
        state.withLock { state in
            if state.throttle == nil { state.throttle = 0 }
        }
    }

    /// Leaves `duration` of waiting out of the request's time.
    func exclude(_ duration: Duration) {
        state.withLock { $0.excluded += duration }
    }

    /// Records the request's time against `context`'s quota on the first call; the throttle
    /// time to answer with (the same on later calls).
    func finish(_ context: RequestContext) -> Int32 {
        state.withLock { state in
            if let throttle = state.throttle { return throttle }
            let spent = max(.zero, ContinuousClock.now - started - state.excluded)
            let seconds = Double(spent.components.seconds) + Double(spent.components.attoseconds) / 1e18
            // Kafka's unit: percentage-seconds, 100 being one thread's whole second.
            let throttle = context.recordQuota(.request, seconds * 100)
            state.throttle = throttle
            return throttle
        }
    }
}

extension RequestContext {
    /// The throttle time for this request's `request_percentage`, recorded once it is known.
    func requestThrottle() -> Int32 {
        requestTimer?.finish(self) ?? 0
    }

    /// Runs `wait`, a wait for other clients or for data, without counting it as the request's time.
    func waiting<T>(_ wait: () async throws -> T) async rethrows -> T {
        guard let requestTimer else { return try await wait() }
        let started = ContinuousClock.now
        defer { requestTimer.exclude(ContinuousClock.now - started) }
        return try await wait()
    }
}
