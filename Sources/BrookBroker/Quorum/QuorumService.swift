import BrookModel
import BrookProtocol
import Foundation
import Logging
import ServiceLifecycle

/// Keeps the metadata quorum's thread for the broker's lifetime: the broker starts it once its
/// handlers exist, and this service stops it at shutdown, after the network and before storage
/// closes the metadata log.
struct QuorumService: Service {
    let quorum: QuorumDriver

    func run() async throws {
        try? await gracefulShutdown()
        await quorum.stop()
    }
}

extension Broker {
    /// How this node finds the metadata quorum: the static voters of `controller.quorum.voters`,
    /// or the `controller.quorum.bootstrap.servers` of a dynamic quorum (KIP-853, whose voters
    /// come from the log); nil for the single node that keeps its metadata log to itself. A
    /// node with the controller role must be a static voter; a broker-only node
    /// (`process.roles=broker`) must not, and follows the log as an observer; a controller-only
    /// node (`process.roles=controller`) votes and controls but never registers as a broker, so
    /// it hosts no partitions. In a dynamic quorum a controller votes once the voter set in the
    /// log names it (`storage format --standalone`, `--initial-controllers`, or
    /// `metadata-quorum add-controller`).
    static func quorumMembership(_ config: BrokerConfig) throws -> (voters: [QuorumDriver.Voter], bootstrap: [QuorumDriver.Voter])? {
        let votersText = config.string("controller.quorum.voters")?.trimmingCharacters(in: .whitespaces) ?? ""
        let bootstrapText = config.string("controller.quorum.bootstrap.servers")?.trimmingCharacters(in: .whitespaces) ?? ""
        guard !votersText.isEmpty || !bootstrapText.isEmpty else { return nil }
        let roles = processRoles(config)
        guard !roles.isEmpty, roles.isSubset(of: ["broker", "controller"]) else {
            throw QuorumError("process.roles must be broker, controller or broker,controller, not \(config.string("process.roles") ?? "")")
        }
        guard votersText.isEmpty || bootstrapText.isEmpty else {
            throw QuorumError("set controller.quorum.voters (a static quorum) or controller.quorum.bootstrap.servers (a dynamic one), not both")
        }
        if !bootstrapText.isEmpty {
            return ([], try bootstrapServers(bootstrapText))
        }
        let voters = try QuorumDriver.Voter.parse(votersText)
        let isVoter = voters.contains { $0.id == BrokerID(config.nodeId) }
        if roles.contains("controller"), !isVoter {
            throw QuorumError("node.id \(config.nodeId) is not among controller.quorum.voters (\(votersText))")
        }
        if !roles.contains("controller"), isVoter {
            throw QuorumError("node.id \(config.nodeId) is a voter in controller.quorum.voters but process.roles has no controller")
        }
        return (voters, [])
    }

    /// `controller.quorum.bootstrap.servers`: comma-separated `host:port`, given the ids -1, -2, ...
    static func bootstrapServers(_ text: String) throws -> [QuorumDriver.Voter] {
        var servers: [QuorumDriver.Voter] = []
        for (index, entry) in text.split(separator: ",").enumerated() {
            let entry = entry.trimmingCharacters(in: .whitespaces)
            guard let colon = entry.lastIndex(of: ":"), let port = Int(entry[entry.index(after: colon)...]), (1...65_535).contains(port),
                colon > entry.startIndex
            else { throw QuorumError("controller.quorum.bootstrap.servers entry '\(entry)' is not host:port") }
            var host = String(entry[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            servers.append(QuorumDriver.Voter(id: BrokerID(-1 - Int32(index)), host: host, port: port))
        }
        guard !servers.isEmpty else { throw QuorumError("controller.quorum.bootstrap.servers lists no server") }
        return servers
    }

    /// `process.roles` as a set (`broker,controller` when unset).
    static func processRoles(_ config: BrokerConfig) -> Set<String> {
        Set((config.string("process.roles") ?? "broker,controller").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        })
    }
}

extension PartitionManager {
    /// Opens the logs of the partitions this node hosts as the quorum commits them (at start
    /// the image is empty and fills from the replicated log), and drops those of deleted topics.
    func openHostedPartitions(as nodeId: Int32, following metadata: MetadataStore) {
        metadata.addListener { [self] records, image in
            var touched: Set<String> = []
            for record in records {
                switch record {
                case .registerBroker(let registration) where registration.brokerId == nodeId:
                    // This process's registration: what the partitions say from now on is current.
                    touched.formUnion(image.topics.keys)
                case .topic(let topic): touched.insert(topic.name)
                case .partition(let partition): if let name = image.topic(id: partition.topicId)?.name { touched.insert(name) }
                case .removeTopic(let removal): remove(topicId: removal.topicId)
                default: break
                }
            }
            for name in touched.sorted() {
                guard let topic = image.topics[name] else { continue }
                do {
                    try openHosted(topic, as: nodeId, in: image)
                } catch {
                    logger.error("could not open the logs of \(name): \(error)")
                }
            }
        }
    }

    /// Opens the logs of the partitions of `topic` that `nodeId` is a replica of, and drops
    /// those of the partitions a reassignment moved off it.
    /// Until `image` holds this process's registration, their leaders are taken as unknown
    /// (``MetadataImage/Partition/served(_:in:by:incarnation:)``).
    func openHosted(_ topic: MetadataImage.Topic, as nodeId: Int32, in image: MetadataImage) throws {
        let hosted = topic.partitions.filter { $0.replicas.contains(nodeId) }
            .map { MetadataImage.Partition.served($0, in: image, by: nodeId, incarnation: incarnation) }
        if !hosted.isEmpty { try open(topic, partitions: hosted) }
        let movedAway = topic.partitions.filter { !$0.replicas.contains(nodeId) }
            .map { TopicPartition(topic: topic.name, partition: $0.index) }
            .filter { table.partition($0)?.topicId == topic.id }
        if !movedAway.isEmpty {
            logger.info("replicas of \(movedAway) moved to other brokers: their logs are deleted here")
            remove(movedAway)
        }
    }
}
