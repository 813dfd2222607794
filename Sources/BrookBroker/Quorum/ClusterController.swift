import BrookModel
import BrookProtocol
import Foundation
import Logging
import Synchronization

/// The active controller's view of broker membership (KIP-631): BrokerRegistration writes a
/// RegisterBrokerRecord (the broker starts fenced), a heartbeat from a broker that has caught
/// up with the metadata log unfences it, a broker that asks to shut down is fenced at once
/// (controlled shutdown), and one silent for `broker.session.timeout.ms` is fenced. Only the
/// quorum's leader acts; other nodes answer NOT_CONTROLLER. Heartbeat times live in memory: a
/// new leader gives every broker a fresh session.
///
/// Its methods block on the quorum's commit: call them from the admin threads.
final class ClusterController: Sendable {
    let quorum: QuorumDriver
    let metadata: MetadataStore
    let sessionTimeoutMs: Int64
    /// The broker's `unclean.leader.election.enable`, for topics that do not set their own.
    let uncleanByDefault: @Sendable () -> Bool
    /// `auto.leader.rebalance.enable`'s checks: every `leader.imbalance.check.interval.seconds`,
    /// brokers leading fewer than `leader.imbalance.per.broker.percentage` of their preferred
    /// partitions take them back; nil when disabled.
    let leaderRebalance: (intervalMs: Int64, imbalancePercent: Int)?
    private let lastRebalanceCheck = Mutex<Int64?>(nil)
    let logger: Logger?

    private struct Sessions {
        /// The leader epoch these times were taken in.
        var epoch = LeaderEpoch(-1)
        var lastHeartbeat: [Int32: Int64] = [:]
    }

    private let sessions = Mutex(Sessions())

    init(
        quorum: QuorumDriver, metadata: MetadataStore, sessionTimeoutMs: Int64,
        uncleanByDefault: @escaping @Sendable () -> Bool = { false },
        leaderRebalance: (intervalMs: Int64, imbalancePercent: Int)? = nil, logger: Logger? = nil
    ) {
        self.logger = logger
        self.quorum = quorum
        self.metadata = metadata
        self.sessionTimeoutMs = sessionTimeoutMs
        self.uncleanByDefault = uncleanByDefault
        self.leaderRebalance = leaderRebalance
    }

    /// The automatic leader rebalance, when due (``PartitionLeadership/rebalance(in:imbalancePercent:)``);
    /// nothing on a node that does not lead the quorum.
    func rebalanceLeadersIfDue() {
        guard let leaderRebalance, (try? leading()) != nil else { return }
        let now = QuorumDriver.now()
        let due = lastRebalanceCheck.withLock { last -> Bool in
            guard let previous = last else {
                last = now  // a new controller waits a whole interval, as brokers come back
                return false
            }
            guard now - previous >= leaderRebalance.intervalMs else { return false }
            last = now
            return true
        }
        guard due else { return }
        _ = try? metadata.commitComputed { image throws(MetadataError) in
            PartitionLeadership.rebalance(in: image, imbalancePercent: leaderRebalance.imbalancePercent)
        }
    }

    /// Says so in the log when `records` give a partition a leader that was not in its ISR in
    /// `image` (an unclean election: what only the old ISR held is lost), as Kafka warns.
    func warnOfUncleanElections(_ records: [MetadataRecord], in image: MetadataImage) {
        for case .partition(let change) in records where change.leader >= 0 {
            guard let topic = image.topic(id: change.topicId),
                let old = topic.partitions.first(where: { $0.index == change.partitionId }),
                old.leader != change.leader, !old.isr.contains(change.leader)
            else { continue }
            logger?.warning(
                "unclean leader election for \(topic.name)-\(change.partitionId): broker \(change.leader) was not in the ISR \(old.isr); records only they held are lost")
        }
    }

    /// Whether `topic` may get an out-of-sync leader (its config, else the broker's).
    func allowsUncleanElection(_ topic: MetadataImage.Topic) -> Bool {
        guard let value = topic.configs["unclean.leader.election.enable"] else { return uncleanByDefault() }
        return value.lowercased() == "true"
    }

    /// The leader epoch when this node leads, else NOT_CONTROLLER.
    private func leading() throws(MetadataError) -> LeaderEpoch {
        let status = quorum.status
        guard status.isLeader else {
            throw MetadataError(.notController, "node \(quorum.configuration.localID) is not the active controller")
        }
        return status.epoch
    }

    private func touch(_ broker: Int32, epoch: LeaderEpoch, now: Int64) {
        sessions.withLock { sessions in
            if sessions.epoch != epoch { sessions = Sessions(epoch: epoch) }
            sessions.lastHeartbeat[broker] = now
        }
    }

    /// Registers a broker; returns its new broker epoch.
    func register(_ request: BrokerRegistrationRequest) throws(MetadataError) -> Int64 {
        let epoch = try leading()
        guard request.clusterId == metadata.image.clusterId else {
            throw MetadataError(.inconsistentClusterId, "broker \(request.brokerId) belongs to cluster \(request.clusterId), not \(metadata.image.clusterId)")
        }
        let now = QuorumDriver.now()
        if let existing = metadata.image.registrations[request.brokerId], existing.incarnation != request.incarnationId,
            !existing.fenced, let last = sessions.withLock({ $0.epoch == epoch ? $0.lastHeartbeat[request.brokerId] : nil }),
            now - last < sessionTimeoutMs
        {
            throw MetadataError(.duplicateBrokerRegistration, "another broker with id \(request.brokerId) is registered and alive")
        }
        let brokerEpoch = quorum.status.logEndOffset.rawValue
        // A new incarnation starts fenced: what the old one led goes offline until it is unfenced.
        let moved = PartitionLeadership.movedAway(from: request.brokerId, in: metadata.image, unclean: allowsUncleanElection)
        warnOfUncleanElections(moved, in: metadata.image)
        try metadata.commitBrokerRecords(moved + [.registerBroker(RegisterBrokerRecord(
            brokerId: request.brokerId, incarnationId: request.incarnationId, brokerEpoch: brokerEpoch,
            endPoints: request.listeners.map {
                .init(name: $0.name, host: $0.host, port: $0.port, securityProtocol: $0.securityProtocol)
            },
            rack: request.rack, fenced: true
        ))])
        touch(request.brokerId, epoch: epoch, now: now)
        return brokerEpoch
    }

    /// A broker's heartbeat: keeps its session, unfences it once caught up, fences it when it
    /// asks to shut down.
    func heartbeat(_ request: BrokerHeartbeatRequest) throws(MetadataError) -> BrokerHeartbeatResponse {
        let epoch = try leading()
        guard let registration = metadata.image.registrations[request.brokerId] else {
            throw MetadataError(.brokerIdNotRegistered, "broker \(request.brokerId) is not registered")
        }
        guard registration.epoch == request.brokerEpoch else {
            throw MetadataError(.staleBrokerEpoch, "broker \(request.brokerId)'s epoch is \(registration.epoch), not \(request.brokerEpoch)")
        }
        touch(request.brokerId, epoch: epoch, now: QuorumDriver.now())
        let caughtUp = request.currentMetadataOffset >= registration.epoch
        var fenced = registration.fenced
        if request.wantShutDown {
            if !fenced {
                // Kafka's controlled shutdown: fenced, and marked as shutting down.
                let moved = PartitionLeadership.movedAway(from: request.brokerId, in: metadata.image, unclean: allowsUncleanElection)
                warnOfUncleanElections(moved, in: metadata.image)
                try metadata.commitBrokerRecords(
                    [.brokerRegistrationChange(BrokerRegistrationChangeRecord(
                        brokerId: request.brokerId, brokerEpoch: registration.epoch, fenced: 1, inControlledShutdown: 1))]
                        + moved)
                fenced = true
            }
            return BrokerHeartbeatResponse(isCaughtUp: caughtUp, isFenced: true, shouldShutDown: true)
        }
        if fenced, caughtUp, !request.wantFence {
            let elected = PartitionLeadership.elected(on: request.brokerId, in: metadata.image, unclean: allowsUncleanElection)
            warnOfUncleanElections(elected, in: metadata.image)
            try metadata.commitBrokerRecords(
                [.unfenceBroker(UnfenceBrokerRecord(id: request.brokerId, epoch: registration.epoch))] + elected)
            fenced = false
        }
        return BrokerHeartbeatResponse(isCaughtUp: caughtUp, isFenced: fenced, shouldShutDown: false)
    }

    /// BrokerRegistration's answer: the new broker epoch, or the error.
    func answer(_ request: BrokerRegistrationRequest) -> BrokerRegistrationResponse {
        do {
            return BrokerRegistrationResponse(brokerEpoch: try register(request))
        } catch {
            return BrokerRegistrationResponse(errorCode: error.code.rawValue)
        }
    }

    /// BrokerHeartbeat's answer, or the error.
    func answer(_ request: BrokerHeartbeatRequest) -> BrokerHeartbeatResponse {
        do {
            return try heartbeat(request)
        } catch {
            return BrokerHeartbeatResponse(errorCode: error.code.rawValue)
        }
    }

    /// Fences the brokers whose session expired; does nothing on a node that does not lead.
    func fenceExpiredSessions() {
        guard let epoch = try? leading() else { return }
        let now = QuorumDriver.now()
        let expired: [MetadataImage.Registration] = sessions.withLock { sessions in
            if sessions.epoch != epoch { sessions = Sessions(epoch: epoch) }
            return metadata.image.registrations.values.filter { registration in
                guard !registration.fenced else { return false }
                guard let last = sessions.lastHeartbeat[registration.nodeId] else {
                    sessions.lastHeartbeat[registration.nodeId] = now  // a new leader's grace
                    return false
                }
                return now - last >= sessionTimeoutMs
            }.sorted { $0.nodeId < $1.nodeId }
        }
        guard !expired.isEmpty else { return }
        var records: [MetadataRecord] = expired.map { .fenceBroker(FenceBrokerRecord(id: $0.nodeId, epoch: $0.epoch)) }
        var image = metadata.image
        for record in records { image.apply(record) }
        for registration in expired {
            let moved = PartitionLeadership.movedAway(from: registration.nodeId, in: image, unclean: allowsUncleanElection)
            warnOfUncleanElections(moved, in: image)
            for record in moved { image.apply(record) }
            records += moved
        }
        _ = try? metadata.commitBrokerRecords(records)
    }
}

extension ClusterController {
    /// AlterPartition: a leader's ISR changes, each checked against the image as every earlier
    /// change left it (``PartitionLeadership/alter(topic:partitionIndex:by:leaderEpoch:partitionEpoch:newIsr:in:)``)
    /// and committed together; each partition is answered with its state after the change, or
    /// its error.
    func alterPartition(_ request: AlterPartitionRequest, version: Int16) -> AlterPartitionResponse {
        do {
            _ = try leading()
        } catch {
            return AlterPartitionResponse(errorCode: error.code.rawValue)
        }
        guard let registration = metadata.image.registrations[request.brokerId] else {
            return AlterPartitionResponse(errorCode: ErrorCode.staleBrokerEpoch.rawValue)
        }
        if request.brokerEpoch >= 0, registration.epoch != request.brokerEpoch {
            return AlterPartitionResponse(errorCode: ErrorCode.staleBrokerEpoch.rawValue)
        }
        var errors: [Int: [Int32: ErrorCode]] = [:]
        let committed: MetadataImage
        do {
            committed = try metadata.commitComputed { image throws(MetadataError) -> [MetadataRecord] in
                errors = [:]
                var records: [MetadataRecord] = []
                for (position, topicData) in request.topics.enumerated() {
                    let topic = version >= 2 ? image.topic(id: topicData.topicId) : image.topics[topicData.topicName]
                    for partition in topicData.partitions {
                        guard let topic else {
                            errors[position, default: [:]][partition.partitionIndex] =
                                version >= 2 ? .unknownTopicId : .unknownTopicOrPartition
                            continue
                        }
                        let members: [(id: Int32, epoch: Int64)] = version >= 3
                            ? partition.newIsrWithEpochs.map { ($0.brokerId, $0.brokerEpoch) }
                            : partition.newIsr.map { ($0, -1) }
                        switch PartitionLeadership.alter(
                            topic: topic, partitionIndex: partition.partitionIndex, by: request.brokerId,
                            leaderEpoch: partition.leaderEpoch, partitionEpoch: partition.partitionEpoch, newIsr: members, in: image)
                        {
                        case .changed(let record):
                            records.append(.partition(record))
                            // The ISR change may complete a reassignment: its added replicas are in sync.
                            var scratch = image
                            scratch.apply(.partition(record))
                            if let changed = scratch.topic(id: topic.id), let updated = changed.partitions.first(where: { $0.index == record.partitionId }),
                                let done = PartitionReassignment.completion(of: updated, topic: changed, in: scratch)
                            {
                                records.append(.partition(done))
                            }
                        case .refused(let code): errors[position, default: [:]][partition.partitionIndex] = code
                        }
                    }
                }
                return records
            }
        } catch {
            return AlterPartitionResponse(errorCode: error.code.rawValue)
        }
        return AlterPartitionResponse(topics: request.topics.enumerated().map { position, topicData in
            let topic = version >= 2 ? committed.topic(id: topicData.topicId) : committed.topics[topicData.topicName]
            return AlterPartitionResponse.TopicData(
                topicName: topicData.topicName, topicId: topicData.topicId,
                partitions: topicData.partitions.map { requested in
                    if let code = errors[position]?[requested.partitionIndex] {
                        return .init(partitionIndex: requested.partitionIndex, errorCode: code.rawValue)
                    }
                    let state = topic?.partitions.first { $0.index == requested.partitionIndex }
                    return .init(
                        partitionIndex: requested.partitionIndex, errorCode: 0, leaderId: state?.leader ?? -1,
                        leaderEpoch: state?.leaderEpoch ?? -1, isr: state?.isr ?? [], leaderRecoveryState: 0,
                        partitionEpoch: state?.partitionEpoch ?? -1)
                })
        })
    }
}
