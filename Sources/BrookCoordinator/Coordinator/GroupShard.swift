import BrookModel
import BrookProtocol
import Logging
import NIOCore
import Synchronization

/// Owns the groups that hash to one partition of `__consumer_offsets`: their state machines,
/// their committed offsets and the requests parked in JoinGroup and SyncGroup.
///
/// A ``ShardGate`` serialises the shard's work, so that requests waiting for a shard busy with
/// its log suspend instead of blocking a thread; inside it, a mutex guards the state. Every
/// change that must survive a restart is appended to the shard's log before the request is
/// answered. Parked requests are resumed outside the lock.
public final class GroupShard: Sendable {
    public let partition: Int32
    let log: any CoordinatorLog
    let configuration: GroupConfiguration
    let clock: @Sendable () -> Int64
    let logger: Logger
    let state = Mutex(ShardState())
    let gate = ShardGate()

    struct WaiterKey: Hashable {
        var group: String
        var member: String
    }

    struct ShardState {
        var groups: [String: ClassicGroup] = [:]
        /// KIP-848 groups. A group id names either a classic or a consumer group, never both.
        var consumerGroups: [String: ConsumerGroup] = [:]
        var offsets = OffsetStore()
        var joinWaiters: [WaiterKey: CheckedContinuation<JoinGroupResult, Never>] = [:]
        var syncWaiters: [WaiterKey: CheckedContinuation<SyncGroupResult, Never>] = [:]
        var isShutDown = false
    }

    /// A parked request to answer once the lock is released.
    enum Resumption {
        case join(CheckedContinuation<JoinGroupResult, Never>, JoinGroupResult)
        case sync(CheckedContinuation<SyncGroupResult, Never>, SyncGroupResult)

        func resume() {
            switch self {
            case .join(let continuation, let result): continuation.resume(returning: result)
            case .sync(let continuation, let result): continuation.resume(returning: result)
            }
        }
    }

    init(partition: Int32, log: any CoordinatorLog, configuration: GroupConfiguration, clock: @escaping @Sendable () -> Int64, logger: Logger) {
        self.partition = partition
        self.log = log
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
    }

    /// Runs `body` on the state once the shard's earlier work is done.
    func exclusively<T: Sendable>(_ body: (inout ShardState) -> T) async -> T {
        await gate.run { state.withLock { body(&$0) } }
    }

    // MARK: Classic protocol

    /// JoinGroup; returns when the member's join completes (possibly after a rebalance).
    public func join(groupId: String, _ parameters: JoinGroupParameters) async -> JoinGroupResult {
        await gate.enter()
        return await withCheckedContinuation { (continuation: CheckedContinuation<JoinGroupResult, Never>) in
            defer { gate.leave() }
            let resumptions = state.withLock { state -> [Resumption] in
                guard !state.isShutDown else { return [.join(continuation, JoinGroupResult(error: .notCoordinator))] }
                let now = clock()
                if let consumer = state.consumerGroups[groupId] {
                    guard consumer.members.isEmpty else {
                        return [.join(continuation, JoinGroupResult(error: .inconsistentGroupProtocol, memberId: parameters.memberId))]
                    }
                    do {
                        try log.write(consumer.tombstones(), now: now)
                    } catch {
                        logger.error("could not store the removal of consumer group \(groupId) before it becomes classic: \(error)")
                        return [.join(continuation, JoinGroupResult(error: CoordinatorLogError.responseCode(for: error), memberId: parameters.memberId))]
                    }
                    state.consumerGroups[groupId] = nil
                }
                if state.groups[groupId] == nil {
                    guard parameters.memberId.isEmpty else {
                        return [.join(continuation, JoinGroupResult(error: .unknownMemberId, memberId: parameters.memberId))]
                    }
                    state.groups[groupId] = ClassicGroup(groupId: groupId, now: now)
                }
                var group = state.groups[groupId]!
                let before = group
                var (decision, actions) = group.join(
                    parameters, configuration: configuration, now: now,
                    newMemberId: { MemberIdentifier.make(clientId: parameters.clientId) }
                )
                if case .respond(let result) = decision, result.error == .none, let index = actions.firstIndex(of: .persist) {
                    // A static member that replaced its old incarnation in a Stable group (KIP-345)
                    // is answered once that is stored; if it cannot be, the group is put back as it
                    // was (Kafka reverts to the old member id) and the member gets the error.
                    do {
                        try log.write([.groupMetadata(group: groupId, group.snapshot())], now: now)
                        actions.remove(at: index)
                    } catch {
                        logger.error("could not store the new member id of a static member of group \(groupId); it keeps its old one: \(error)")
                        state.groups[groupId] = before
                        return [.join(continuation, JoinGroupResult(error: CoordinatorLogError.responseCode(for: error)))]
                    }
                }
                state.groups[groupId] = group
                var resumptions: [Resumption] = []
                switch decision {
                case .respond(let result):
                    resumptions.append(.join(continuation, result))
                case .wait(let memberId):
                    if let previous = state.joinWaiters.updateValue(continuation, forKey: WaiterKey(group: groupId, member: memberId)) {
                        resumptions.append(.join(previous, JoinGroupResult(error: .rebalanceInProgress, memberId: memberId)))
                    }
                }
                resumptions += perform(actions, groupId: groupId, now: now, state: &state).resumptions
                return resumptions
            }
            resumptions.forEach { $0.resume() }
        }
    }

    /// SyncGroup; returns when the leader's assignment is known and stored. When it cannot be
    /// stored, every member parked in SyncGroup gets the log's error (as Kafka maps it) and the
    /// group rebalances.
    public func sync(
        groupId: String, memberId: String, groupInstanceId: String?, generationId: Int32,
        protocolType: String?, protocolName: String?, assignments: [String: ByteBuffer]
    ) async -> SyncGroupResult {
        await gate.enter()
        return await withCheckedContinuation { (continuation: CheckedContinuation<SyncGroupResult, Never>) in
            defer { gate.leave() }
            let resumptions = state.withLock { state -> [Resumption] in
                guard !state.isShutDown else { return [.sync(continuation, SyncGroupResult(error: .notCoordinator))] }
                guard var group = state.groups[groupId] else { return [.sync(continuation, SyncGroupResult(error: .unknownMemberId))] }
                let now = clock()
                let (decision, actions) = group.sync(
                    memberId: memberId, groupInstanceId: groupInstanceId, generationId: generationId,
                    protocolType: protocolType, protocolName: protocolName, assignments: assignments, now: now
                )
                state.groups[groupId] = group
                var resumptions: [Resumption] = []
                switch decision {
                case .respond(let result):
                    resumptions.append(.sync(continuation, result))
                case .wait(let memberId):
                    if let previous = state.syncWaiters.updateValue(continuation, forKey: WaiterKey(group: groupId, member: memberId)) {
                        resumptions.append(.sync(previous, SyncGroupResult(error: .rebalanceInProgress)))
                    }
                }
                resumptions += perform(actions, groupId: groupId, now: now, state: &state).resumptions
                return resumptions
            }
            resumptions.forEach { $0.resume() }
        }
    }

    /// Heartbeat.
    public func heartbeat(groupId: String, memberId: String, groupInstanceId: String?, generationId: Int32) async -> ErrorCode {
        await exclusively { state in
            guard !state.isShutDown else { return .notCoordinator }
            guard var group = state.groups[groupId] else { return .unknownMemberId }
            let error = group.heartbeat(memberId: memberId, groupInstanceId: groupInstanceId, generationId: generationId, now: clock())
            state.groups[groupId] = group
            return error
        }
    }

    /// LeaveGroup for a batch of members; one error per member, in order. When the group's
    /// metadata changed by the departures (the last member gone) cannot be stored, the whole
    /// request fails with the log's error, as in Kafka; the members are gone all the same.
    public func leave(groupId: String, members: [(memberId: String, groupInstanceId: String?)]) async -> (ErrorCode, [ErrorCode]) {
        let (outcome, resumptions) = await exclusively { state -> ((ErrorCode, [ErrorCode]), [Resumption]) in
            guard !state.isShutDown else { return ((.notCoordinator, []), []) }
            guard var group = state.groups[groupId] else {
                return ((.none, members.map { _ in ErrorCode.unknownMemberId }), [])
            }
            let now = clock()
            var errors: [ErrorCode] = []
            var resumptions: [Resumption] = []
            var notStored: ErrorCode?
            for member in members {
                let (error, actions) = group.leave(
                    memberId: member.memberId, groupInstanceId: member.groupInstanceId, configuration: configuration, now: now
                )
                errors.append(error)
                state.groups[groupId] = group
                let performed = perform(actions, groupId: groupId, now: now, state: &state)
                resumptions += performed.resumptions
                notStored = notStored ?? performed.notStored
                group = state.groups[groupId] ?? group
            }
            if let notStored { return ((notStored, []), resumptions) }
            return ((.none, errors), resumptions)
        }
        resumptions.forEach { $0.resume() }
        return outcome
    }

    /// Times out sessions and rebalance phases whose deadline has passed.
    public func expireSessions() async {
        await gate.enter()
        expireSessionsEntered()
    }

    /// ``expireSessions()`` unless the shard is busy (the timer's next tick tries again), so
    /// that one shard waiting on a slow disk does not hold up the others' timeouts.
    func expireSessionsIfIdle() {
        guard gate.tryEnter() else { return }
        expireSessionsEntered()
    }

    /// Expires what is due; the caller has entered the gate, which this leaves.
    private func expireSessionsEntered() {
        defer { gate.leave() }
        let resumptions = state.withLock { state -> [Resumption] in
            guard !state.isShutDown else { return [] }
            let now = clock()
            var resumptions: [Resumption] = []
            for (groupId, var group) in state.consumerGroups {
                guard let deadline = group.nextDeadline, deadline <= now else { continue }
                let before = group
                group.expire(now: now)
                do {
                    try log.write(group.records(since: before, catalog: TopicCatalog(topics: [:])), now: now)
                    state.consumerGroups[groupId] = group
                } catch {
                    // The members stay until their expiry is stored; the next tick tries again.
                    logger.error("could not store the expiry of members of \(groupId); retrying at the next tick: \(error)")
                }
            }
            for (groupId, var group) in state.groups {
                guard let deadline = group.nextDeadline, deadline <= now else { continue }
                let actions = group.expire(configuration: configuration, now: now)
                state.groups[groupId] = group
                resumptions += perform(actions, groupId: groupId, now: now, state: &state).resumptions
            }
            return resumptions
        }
        resumptions.forEach { $0.resume() }
    }

    /// Answers every parked request with NOT_COORDINATOR and refuses new ones: the broker is
    /// stopping.
    public func shutdown() {
        let resumptions = state.withLock { state -> [Resumption] in
            state.isShutDown = true
            var resumptions: [Resumption] = state.joinWaiters.values.map { .join($0, JoinGroupResult(error: .notCoordinator)) }
            resumptions += state.syncWaiters.values.map { .sync($0, SyncGroupResult(error: .notCoordinator)) }
            state.joinWaiters = [:]
            state.syncWaiters = [:]
            return resumptions
        }
        resumptions.forEach { $0.resume() }
    }

    // MARK: Actions

    /// Carries out a group's actions under the lock; returns the parked requests to answer and,
    /// when a metadata write failed, the error to answer the request that caused it with.
    ///
    /// A leader's assignment that cannot be stored fails the SyncGroup of every parked member
    /// and the group rebalances. Other metadata (a group left empty by its join phase) is only
    /// warned about, as in Kafka: the log keeps the previous generation, whose members are gone
    /// and time out if it is ever loaded.
    func perform(
        _ actions: [GroupAction], groupId: String, now: Int64, state: inout ShardState
    ) -> (resumptions: [Resumption], notStored: ErrorCode?) {
        var resumptions: [Resumption] = []
        var notStored: ErrorCode?
        for action in actions {
            switch action {
            case .completeJoin(let memberId, let result):
                if let waiter = state.joinWaiters.removeValue(forKey: WaiterKey(group: groupId, member: memberId)) {
                    resumptions.append(.join(waiter, result))
                }
            case .completeSync(let memberId, let result):
                if let waiter = state.syncWaiters.removeValue(forKey: WaiterKey(group: groupId, member: memberId)) {
                    resumptions.append(.sync(waiter, result))
                }
            case .persist:
                guard let group = state.groups[groupId] else { continue }
                do {
                    try log.write([.groupMetadata(group: groupId, group.snapshot())], now: now)
                } catch {
                    logger.warning("could not store the metadata of group \(groupId) at generation \(group.generationId): \(error)")
                    notStored = notStored ?? CoordinatorLogError.responseCode(for: error)
                }
            case .storeAssignment(let assignments):
                guard var group = state.groups[groupId] else { continue }
                let next: [GroupAction]
                do {
                    try log.write([.groupMetadata(group: groupId, group.snapshot(assignments: assignments))], now: now)
                    next = group.assignmentStored(assignments, now: now)
                } catch {
                    let code = CoordinatorLogError.responseCode(for: error)
                    logger.error("could not store the assignment of group \(groupId) for generation \(group.generationId); its members get \(code) and it rebalances: \(error)")
                    notStored = notStored ?? code
                    next = group.assignmentNotStored(error: code, configuration: configuration, now: now)
                }
                state.groups[groupId] = group
                let performed = perform(next, groupId: groupId, now: now, state: &state)
                resumptions += performed.resumptions
                notStored = notStored ?? performed.notStored
            }
        }
        return (resumptions, notStored)
    }
}
