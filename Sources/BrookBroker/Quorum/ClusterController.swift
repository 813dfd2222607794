import BrookModel
import BrookProtocol
import Foundation
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

    private struct Sessions {
        /// The leader epoch these times were taken in.
        var epoch = LeaderEpoch(-1)
        var lastHeartbeat: [Int32: Int64] = [:]
    }

    private let sessions = Mutex(Sessions())

    init(quorum: QuorumDriver, metadata: MetadataStore, sessionTimeoutMs: Int64) {
        self.quorum = quorum
        self.metadata = metadata
        self.sessionTimeoutMs = sessionTimeoutMs
    }

    /// The leader epoch when this node leads, else NOT_CONTROLLER.
    private func leading() throws(MetadataError) -> LeaderEpoch {
        let status = quorum.status
        guard status.role == "leader" else {
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
        try metadata.commitBrokerRecords(Self.leadersMoved(awayFrom: request.brokerId, in: metadata.image) + [.registerBroker(RegisterBrokerRecord(
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
                try metadata.commitBrokerRecords(
                    [.fenceBroker(FenceBrokerRecord(id: request.brokerId, epoch: registration.epoch))]
                        + Self.leadersMoved(awayFrom: request.brokerId, in: metadata.image))
                fenced = true
            }
            return BrokerHeartbeatResponse(isCaughtUp: caughtUp, isFenced: true, shouldShutDown: true)
        }
        if fenced, caughtUp, !request.wantFence {
            try metadata.commitBrokerRecords(
                [.unfenceBroker(UnfenceBrokerRecord(id: request.brokerId, epoch: registration.epoch))]
                    + Self.leadersElected(on: request.brokerId, in: metadata.image))
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
        for registration in expired { records += Self.leadersMoved(awayFrom: registration.nodeId, in: image) }
        _ = try? metadata.commitBrokerRecords(records)
    }

    /// The partitions `broker` leads, each given to another in-sync replica that is usable, or
    /// to none (leader -1, offline, as Kafka leaves a partition whose last replica is fenced),
    /// in a new leader epoch: clients stop sending to the fenced broker, and the coordinators
    /// and fetchers of the partition see the change.
    static func leadersMoved(awayFrom broker: Int32, in image: MetadataImage) -> [MetadataRecord] {
        let usable = Set(image.usableBrokers.map(\.nodeId)).subtracting([broker])
        return partitionChanges(in: image) { partition in
            guard partition.leader == broker else { return nil }
            return partition.isr.first { usable.contains($0) } ?? -1
        }
    }

    /// The offline partitions `broker` is an in-sync replica of, led by it again in a new
    /// leader epoch, now that it is unfenced.
    static func leadersElected(on broker: Int32, in image: MetadataImage) -> [MetadataRecord] {
        partitionChanges(in: image) { partition in
            partition.leader < 0 && partition.isr.contains(broker) ? broker : nil
        }
    }

    /// PartitionRecords for the partitions `newLeader` gives a leader for (nil: unchanged).
    private static func partitionChanges(
        in image: MetadataImage, newLeader: (MetadataImage.Partition) -> Int32?
    ) -> [MetadataRecord] {
        var records: [MetadataRecord] = []
        for topic in image.topics.values.sorted(by: { $0.name < $1.name }) {
            for partition in topic.partitions {
                guard let leader = newLeader(partition) else { continue }
                let (epoch, overflow) = partition.leaderEpoch.addingReportingOverflow(1)
                guard !overflow else { continue }
                records.append(.partition(PartitionRecord(
                    partitionId: partition.index, topicId: topic.id, replicas: partition.replicas, isr: partition.isr,
                    leader: leader, leaderEpoch: epoch, partitionEpoch: epoch)))
            }
        }
        return records
    }
}
