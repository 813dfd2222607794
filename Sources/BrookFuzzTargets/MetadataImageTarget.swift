import BrookBroker
import BrookModel
import BrookProtocol
import NIOCore

extension FuzzTarget {
    /// The cluster's metadata image under hostile changes, and its snapshots. An even first byte
    /// makes the rest a snapshot file (a damaged `.checkpoint`): it must be refused or read, and
    /// what it reads must write and read back to the same image. An odd one makes the rest a
    /// sequence of changes (broker registrations, fences, topics, partitions with any replicas
    /// and leaders, configs, deletions, and the controller's leader moves for fenced and
    /// unfenced brokers, clean or unclean) applied to an image, which must never trap; each
    /// change takes a partition's epoch one up, and its leader epoch too when the leader moves,
    /// gives it an in-sync replica or no leader, and never empties its ISR (nor, but in an
    /// unclean election, adds to it); and the image
    /// always writes to a snapshot that reads back to the same image.
    public static let metadataImage = FuzzTarget(
        name: "metadata-image",
        summary: "metadata image changes, the controller's leader moves and .checkpoint snapshots"
    ) { bytes throws(FuzzFailure) in
        var input = FuzzInput(bytes)
        let empty = MetadataImage(clusterId: "fuzz", controllerId: -1, brokers: [])
        if input.byte() % 2 == 0 {
            let bytes = ByteBuffer(bytes: input.rest())
            // A dynamic quorum's voter set, read apart from the image, writes back the same.
            let voters = MetadataSnapshot.voters(in: bytes)
            guard let image = try? MetadataSnapshot.decode(bytes, onto: empty, file: "fuzz") else { return .rejected }
            try checkRoundTrip(image, onto: empty, voters: voters)
            return .accepted
        }
        var image = empty
        var steps = 0
        while input.remaining > 0, steps < 200 {
            steps += 1
            let kind = input.byte() % 13
            switch kind {
            case 10, 11, 12:
                try partitionControl(kind, &input, &image)
            case 8, 9:
                let broker = Int32(input.byte() % 6)
                let before = image
                let unclean = input.byte() % 4 == 0
                let records = kind == 8
                    ? PartitionLeadership.movedAway(from: broker, in: image, unclean: { _ in unclean })
                    : PartitionLeadership.elected(on: broker, in: image, unclean: { _ in unclean })
                for record in records {
                    guard case .partition(let change) = record, let topic = before.topic(id: change.topicId),
                        let old = topic.partitions.first(where: { $0.index == change.partitionId })
                    else { throw FuzzFailure("a leader move names no known partition: \(record)") }
                    let expectedEpoch = change.leader == old.leader ? old.leaderEpoch : old.leaderEpoch + 1
                    try fuzzCheck(change.leaderEpoch == expectedEpoch, "leader \(old.leader) to \(change.leader) took epoch \(old.leaderEpoch) to \(change.leaderEpoch)")
                    try fuzzCheck(change.partitionEpoch == old.partitionEpoch + 1, "a change took partition epoch \(old.partitionEpoch) to \(change.partitionEpoch)")
                    try fuzzCheck(change.leader == old.leader || change.leader == -1 || change.isr.contains(change.leader), "new leader \(change.leader) is not in the ISR \(change.isr)")
                    try fuzzCheck(!change.isr.isEmpty || old.isr.isEmpty, "a change emptied the ISR")
                    try fuzzCheck(unclean || change.isr.allSatisfy(old.isr.contains), "a clean change added \(change.isr) to the ISR \(old.isr)")
                    image.apply(record)
                }
            default:
                image.apply(Self.metadataChange(kind, &input))
            }
        }
        try checkRoundTrip(image, onto: empty)
        return .accepted
    }

    private static func checkRoundTrip(_ image: MetadataImage, onto empty: MetadataImage, voters: [QuorumVoter]? = nil) throws(FuzzFailure) {
        let id = MetadataSnapshot.Id(endOffset: 1, epoch: 1)
        do {
            let bytes = try MetadataSnapshot.encode(image, id: id, lastContainedTimestamp: 0, voters: voters)
            let read = try MetadataSnapshot.decode(bytes, onto: empty, file: "fuzz")
            try fuzzCheck(read == image, "the snapshot read back another image: \(image) VERSUS \(read)")
            if let voters {
                let sorted = voters.sorted { $0.id < $1.id }
                try fuzzCheck(MetadataSnapshot.voters(in: bytes) == sorted, "the voter set read back differently: \(voters)")
            }
        } catch let failure as FuzzFailure {
            throw failure
        } catch {
            throw FuzzFailure("an image's snapshot does not read back: \(error)")
        }
    }

    /// The controller's other partition changes on a partition the input picks: a reassignment
    /// (or its cancellation) and its completion, a leader's ISR change, an election and the
    /// automatic rebalance; each checked, then applied.
    private static func partitionControl(_ kind: UInt8, _ input: inout FuzzInput, _ image: inout MetadataImage) throws(FuzzFailure) {
        let topics = image.topics.values.sorted { $0.name < $1.name }
        guard !topics.isEmpty else { return }
        let topic = topics[Int(input.byte()) % topics.count]
        guard !topic.partitions.isEmpty else { return }
        let old = topic.partitions[Int(input.byte()) % topic.partitions.count]
        let brokers = (0..<Int(input.byte() % 4)).map { _ in Int32(input.byte() % 6) }
        switch kind {
        case 10:
            let outcome = PartitionReassignment.reassign(old, of: topic, to: input.byte() % 5 == 0 ? nil : brokers, in: image)
            guard case .changed(let record) = outcome else { return }
            try fuzzCheck(!record.replicas.isEmpty && Set(record.replicas).count == record.replicas.count, "replicas \(record.replicas)")
            try fuzzCheck(record.addingReplicas.allSatisfy(record.replicas.contains) && record.removingReplicas.allSatisfy(record.replicas.contains),
                          "adding \(record.addingReplicas) removing \(record.removingReplicas) outside \(record.replicas)")
            try fuzzCheck(Set(record.addingReplicas).isDisjoint(with: record.removingReplicas), "a replica both added and removed")
            try fuzzCheck(record.partitionEpoch > old.partitionEpoch, "a reassignment kept partition epoch \(old.partitionEpoch)")
            try fuzzCheck(record.leader == -1 || record.isr.contains(record.leader) || record.leader == old.leader, "leader \(record.leader) not in \(record.isr)")
            image.apply(.partition(record))
        case 11:
            let newIsr = ([old.leader] + brokers).map { (id: $0, epoch: Int64(-1)) }
            guard case .changed(let record) = PartitionLeadership.alter(
                topic: topic, partitionIndex: old.index, by: old.leader, leaderEpoch: old.leaderEpoch, partitionEpoch: old.partitionEpoch,
                newIsr: newIsr, in: image)
            else { return }
            try fuzzCheck(record.leader == old.leader && record.leaderEpoch == old.leaderEpoch, "an ISR change moved the leader")
            try fuzzCheck(record.partitionEpoch == old.partitionEpoch + 1 && record.isr == newIsr.map(\.id), "ISR change \(record)")
            image.apply(.partition(record))
            if let changed = image.topic(id: topic.id), let updated = changed.partitions.first(where: { $0.index == old.index }),
                let done = PartitionReassignment.completion(of: updated, topic: changed, in: image)
            {
                try fuzzCheck(done.addingReplicas.isEmpty && done.removingReplicas.isEmpty && !done.replicas.isEmpty, "completion \(done)")
                image.apply(.partition(done))
            }
        default:
            if input.byte() % 2 == 0 {
                for record in PartitionLeadership.rebalance(in: image, imbalancePercent: Int(input.byte() % 101)) {
                    guard case .partition(let change) = record else { throw FuzzFailure("a rebalance wrote \(record)") }
                    try fuzzCheck(change.leader == change.replicas.first, "a rebalance elected \(change.leader), not the preferred leader")
                    image.apply(record)
                }
                return
            }
            guard case .elected(let record) = PartitionLeadership.elect(old, of: topic, preferred: input.byte() % 2 == 0, in: image) else { return }
            try fuzzCheck(record.leaderEpoch == old.leaderEpoch + 1 && record.isr.contains(record.leader), "election \(record)")
            image.apply(.partition(record))
        }
    }

    /// One metadata record made from the input: small id ranges, so changes meet each other.
    private static func metadataChange(_ kind: UInt8, _ input: inout FuzzInput) -> MetadataRecord {
        let topicId = Uuid(mostSignificantBits: 1, leastSignificantBits: UInt64(input.byte() % 4))
        switch kind {
        case 0:
            let broker = Int32(input.byte() % 6)
            let endpoints = (0..<Int(input.byte() % 3)).map { index in
                RegisterBrokerRecord.BrokerEndpoint(
                    name: "L\(index)", host: "h\(input.byte())", port: UInt16(input.uint16()), securityProtocol: Int16(input.byte() % 4))
            }
            let flags = input.byte()
            return .registerBroker(RegisterBrokerRecord(
                brokerId: broker, incarnationId: Uuid(mostSignificantBits: 0, leastSignificantBits: UInt64(input.byte())),
                brokerEpoch: Int64(input.byte()), endPoints: endpoints,
                rack: flags & 4 == 0 ? nil : (flags & 8 == 0 ? "" : "r\(flags % 3)"),
                fenced: flags & 1 == 1, inControlledShutdown: flags & 2 == 2))
        case 1:
            return .fenceBroker(FenceBrokerRecord(id: Int32(input.byte() % 6), epoch: Int64(input.byte())))
        case 2:
            return .unfenceBroker(UnfenceBrokerRecord(id: Int32(input.byte() % 6), epoch: Int64(input.byte())))
        case 3:
            return .topic(TopicRecord(name: "t\(input.byte() % 4)", topicId: topicId))
        case 4:
            let partition = Int32(Int8(bitPattern: input.byte()))
            let replicas = (0..<Int(input.byte() % 4)).map { _ in Int32(input.byte() % 6) }
            let isr = replicas.filter { _ in input.byte() % 2 == 0 }
            let leader = Int32(Int8(bitPattern: input.byte())) % 7
            return .partition(PartitionRecord(
                partitionId: partition, topicId: topicId, replicas: replicas, isr: isr, leader: leader,
                leaderEpoch: Int32(input.byte()), partitionEpoch: 0))
        case 5:
            let value = input.byte()
            return .config(ConfigRecord(
                resourceType: value % 3 == 0 ? 4 : 2, resourceName: "t\(input.byte() % 4)", name: "k\(value % 3)",
                value: value % 5 == 0 ? nil : "v\(value)"))
        case 6:
            return .removeTopic(RemoveTopicRecord(topicId: topicId))
        default:
            let value = input.byte()
            if value % 2 == 0 {
                return .producerIds(ProducerIdsRecord(brokerId: 0, brokerEpoch: 0, nextProducerId: Int64(input.uint16()) - 100))
            }
            return .brokerRegistrationChange(BrokerRegistrationChangeRecord(
                brokerId: Int32(value % 6), brokerEpoch: Int64(input.byte()), fenced: Int8(Int(value / 2 % 3) - 1),
                inControlledShutdown: Int8(value / 8 % 2)))
        }
    }
}

extension FuzzSeeds {
    /// Snapshots of images and change sequences that register brokers,
    /// create a topic, fence a broker and move its leaderships.
    static func metadataImage() throws -> [Seed] {
        var image = MetadataImage(clusterId: "fuzz", controllerId: -1, brokers: [])
        let topicId = Uuid(mostSignificantBits: 1, leastSignificantBits: 1)
        for broker: Int32 in 1...3 {
            image.apply(.registerBroker(RegisterBrokerRecord(
                brokerId: broker, brokerEpoch: 1,
                endPoints: [.init(name: "PLAINTEXT", host: "10.0.0.\(broker)", port: 9092, securityProtocol: 0)], fenced: false)))
        }
        image.apply(.topic(TopicRecord(name: "t1", topicId: topicId)))
        for partition: Int32 in 0..<3 {
            image.apply(.partition(PartitionRecord(
                partitionId: partition, topicId: topicId, replicas: [partition + 1, (partition + 1) % 3 + 1],
                isr: [partition + 1, (partition + 1) % 3 + 1], leader: partition + 1, leaderEpoch: 2)))
        }
        image.apply(.config(ConfigRecord(resourceType: 2, resourceName: "t1", name: "k1", value: "v")))
        let id = MetadataSnapshot.Id(endOffset: 10, epoch: 2)
        let whole = Array(try MetadataSnapshot.encode(image, id: id, lastContainedTimestamp: 5).readableBytesView)
        let empty = Array(try MetadataSnapshot.encode(
            MetadataImage(clusterId: "fuzz", controllerId: -1, brokers: []), id: id, lastContainedTimestamp: 0).readableBytesView)
        image.apply(.config(ConfigRecord(resourceType: 4, resourceName: "2", name: "message.max.bytes", value: "2000000")))
        let withVoters = Array(try MetadataSnapshot.encode(
            image, id: id, lastContainedTimestamp: 5,
            voters: [QuorumVoter(id: BrokerID(1), host: "10.0.0.1", port: 9093), QuorumVoter(id: BrokerID(2), host: "10.0.0.2", port: 9093)]
        ).readableBytesView)
        // kind 0: register broker (id, endpoint count, host, port, protocol, incarnation, epoch, flags)
        let register: (UInt8) -> [UInt8] = { broker in [0, 1, broker, 1, broker, 0x23, 0x84, 0, 9, 1, 0] }
        // kind 3: topic; kind 4: partition (topic, index, replica count, replicas, ISR picks, leader, epoch)
        let changes: [UInt8] = [1] + register(1) + register(2) + register(3) + [3, 1, 1]
            + [4, 1, 0, 2, 1, 2, 0, 0, 1, 2] + [4, 1, 1, 2, 2, 3, 0, 0, 2, 2] + [4, 1, 2, 1, 3, 0, 3, 4]
            + [1, 0, 2, 1] + [8, 2] + [2, 0, 2, 1] + [9, 2] + [5, 1, 1, 7] + [6, 3]
        return [
            ("snapshot-empty", [0] + empty),
            ("snapshot-three-brokers", [0] + whole),
            ("snapshot-voters-and-broker-configs", [0] + withVoters),
            ("changes-topics-and-configs", [3, 3, 0, 3, 2, 5, 0, 1, 5, 10, 2, 6, 0, 7, 1, 0, 4, 2, 3, 2, 1, 2, 3, 5, 255, 9]),
            ("changes-fence-and-move", changes),
            ("changes-elect-with-nothing", [1, 9, 1, 8, 1, 7, 0x10, 0x20]),
        ]
    }
}
