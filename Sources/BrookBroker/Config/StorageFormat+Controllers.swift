import BrookModel
import BrookProtocol
import BrookStorage
import Foundation

extension StorageFormat {
    /// The first voters of a dynamic quorum (KIP-853), as `kafka-storage format` takes them.
    public enum InitialControllers: Sendable, Equatable {
        /// `--standalone`: this controller alone; others join with `metadata-quorum add-controller`.
        case standalone
        /// `--initial-controllers id@host:port:directoryId,...`.
        case listed(String)
    }

    /// This node's controller endpoint, as other nodes reach it: the listener that
    /// `controller.listener.names` names first, else the first one; advertised if it is.
    public static func controllerEndpoint(of config: BrokerConfig) throws -> (host: String, port: Int) {
        guard let listener = controllerListener(in: try config.advertisedListeners + config.listeners, config: config),
            listener.port > 0,
            !listener.host.isEmpty, listener.host != "0.0.0.0", listener.host != "::"
        else {
            throw Problem("a controller's voter record needs its address: set listeners (or advertised.listeners) to a host and a port, not 0")
        }
        return (listener.host, listener.port)
    }

    /// Refuses, before anything is formatted, initial controllers for a node that is not a
    /// controller of a dynamic quorum, or a list that does not parse.
    public static func checkInitialControllers(_ config: BrokerConfig, _ initial: InitialControllers) throws {
        guard (config.string("process.roles") ?? "broker,controller").contains("controller") else {
            throw Problem("--standalone and --initial-controllers are for controllers: process.roles has no controller")
        }
        guard config.string("controller.quorum.voters")?.isEmpty ?? true else {
            throw Problem("--standalone and --initial-controllers make a dynamic quorum: use controller.quorum.bootstrap.servers, not controller.quorum.voters")
        }
        switch initial {
        case .standalone:
            _ = try controllerEndpoint(of: config)
        case .listed(let text):
            do { _ = try QuorumVoter.parse(text, option: "--initial-controllers") } catch { throw Problem("\(error)") }
        }
    }

    /// The listener of `listeners` the controller speaks on (`controller.listener.names`, else
    /// the first).
    public static func controllerListener(in listeners: [BrokerConfig.Listener], config: BrokerConfig) -> BrokerConfig.Listener? {
        let names = (config.string("controller.listener.names") ?? "").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces).uppercased()
        }
        for name in names {
            if let match = listeners.first(where: { $0.name.uppercased() == name }) { return match }
        }
        return listeners.first
    }

    /// Writes the bootstrap snapshot (`00000000000000000000-0000000000.checkpoint` in the
    /// metadata log's directory) holding the first voter set of a dynamic quorum. The node must
    /// be a controller of a quorum configured with `controller.quorum.bootstrap.servers`; with
    /// `--initial-controllers` naming it, its directory id there becomes the metadata
    /// directory's. Call after `format`, which wrote `meta.properties`.
    public static func writeInitialControllers(_ config: BrokerConfig, _ initial: InitialControllers) throws {
        try checkInitialControllers(config, initial)
        let metadataDirectory = config.string("metadata.log.dir") ?? config.logDirs[0]
        guard let properties = try MetaProperties.read(logDirectory: metadataDirectory) else {
            throw Problem("\(metadataDirectory) is not formatted")
        }
        func uuid(_ id: KafkaUUID?) -> Uuid {
            id.map { Uuid(mostSignificantBits: $0.mostSignificantBits, leastSignificantBits: $0.leastSignificantBits) } ?? .zero
        }
        let voters: [QuorumVoter]
        switch initial {
        case .standalone:
            let endpoint = try controllerEndpoint(of: config)
            voters = [QuorumVoter(
                id: BrokerID(config.nodeId), host: endpoint.host, port: endpoint.port, directoryId: uuid(properties.directoryID))]
        case .listed(let text):
            do {
                voters = try QuorumVoter.parse(text, option: "--initial-controllers")
            } catch {
                throw Problem("\(error)")
            }
            if let mine = voters.first(where: { $0.id == BrokerID(config.nodeId) }), mine.directoryId != .zero {
                var updated = properties
                updated.directoryID = KafkaUUID(mostSignificantBits: mine.directoryId.mostSignificantBits, leastSignificantBits: mine.directoryId.leastSignificantBits)
                try updated.write(toLogDirectory: metadataDirectory)
            }
        }
        let directory = metadataDirectory + "/__cluster_metadata-0"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let empty = MetadataImage(clusterId: properties.clusterID.description, controllerId: -1, brokers: [])
        try MetadataSnapshot.write(
            empty, id: MetadataSnapshot.Id(endOffset: 0, epoch: 0), lastContainedTimestamp: Int64(Date().timeIntervalSince1970 * 1000),
            directory: directory, voters: voters)
    }
}
