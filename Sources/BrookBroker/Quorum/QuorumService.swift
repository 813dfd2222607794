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
    /// The voters of the metadata quorum when `controller.quorum.voters` names them; nil for
    /// the single node that keeps its metadata log to itself. A node with the controller role
    /// must be one of them; a broker-only node (`process.roles=broker`) must not, and follows
    /// the log as an observer; a controller-only node (`process.roles=controller`) votes and
    /// controls but never registers as a broker, so it hosts no partitions.
    static func quorumVoters(_ config: BrokerConfig) throws -> [QuorumDriver.Voter]? {
        guard let text = config.string("controller.quorum.voters"), !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            return nil
        }
        let voters = try QuorumDriver.Voter.parse(text)
        let roles = processRoles(config)
        guard !roles.isEmpty, roles.isSubset(of: ["broker", "controller"]) else {
            throw QuorumError("process.roles must be broker, controller or broker,controller, not \(config.string("process.roles") ?? "")")
        }
        let isVoter = voters.contains { $0.id == BrokerID(config.nodeId) }
        if roles.contains("controller"), !isVoter {
            throw QuorumError("node.id \(config.nodeId) is not among controller.quorum.voters (\(text))")
        }
        if !roles.contains("controller"), isVoter {
            throw QuorumError("node.id \(config.nodeId) is a voter in controller.quorum.voters but process.roles has no controller")
        }
        return voters
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
                case .topic(let topic): touched.insert(topic.name)
                case .partition(let partition): if let name = image.topic(id: partition.topicId)?.name { touched.insert(name) }
                case .removeTopic(let removal): remove(topicId: removal.topicId)
                default: break
                }
            }
            for name in touched.sorted() {
                guard let topic = image.topics[name] else { continue }
                do {
                    try openHosted(topic, as: nodeId)
                } catch {
                    logger.error("could not open the logs of \(name): \(error)")
                }
            }
        }
    }

    /// Opens the logs of the partitions of `topic` that `nodeId` is a replica of.
    func openHosted(_ topic: MetadataImage.Topic, as nodeId: Int32) throws {
        let hosted = topic.partitions.filter { $0.replicas.contains(nodeId) }
        if !hosted.isEmpty { try open(topic, partitions: hosted) }
    }
}
