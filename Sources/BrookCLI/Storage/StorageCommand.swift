import ArgumentParser
import BrookBroker
import BrookModel
import BrookStorage
import Foundation

/// `brook storage`: a node's storage identity, as kafka-storage.sh: `random-uuid` makes a
/// cluster id, `format` writes it (with the node's id) to each of the node's log directories
/// before a cluster's first start, `info` prints what they hold.
struct StorageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage",
        abstract: "Format a node's log directories for a cluster, or make a cluster id.",
        subcommands: [RandomUuid.self, Format.self, Info.self]
    )
}

extension StorageCommand {
    /// `brook storage random-uuid`: a new cluster id.
    struct RandomUuid: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "random-uuid", abstract: "Print a new random cluster id.")

        func run() throws {
            print(KafkaUUID.random())
        }
    }

    /// `brook storage format --config F --cluster-id ID`.
    struct Format: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "format", abstract: "Write meta.properties (cluster id, node id) to each of the node's log directories.")

        @OptionGroup var node: BrokerConfigOptions

        @Option(name: [.customShort("t"), .customLong("cluster-id")], help: "The cluster id (brook storage random-uuid).")
        var clusterId: String

        @Flag(name: [.customShort("g"), .customLong("ignore-formatted")], help: "Leave directories already formatted as they are.")
        var ignoreFormatted = false

        @Flag(name: [.customShort("s"), .customLong("standalone")],
              help: "Start a dynamic quorum (controller.quorum.bootstrap.servers) with this controller as its only voter.")
        var standalone = false

        @Option(name: [.customShort("I"), .customLong("initial-controllers")],
                help: "The first voters of a dynamic quorum: id@host:port:directoryId,...")
        var initialControllers: String?

        @Flag(name: [.customShort("N"), .customLong("no-initial-controllers")],
              help: "A controller that joins a dynamic quorum later (metadata-quorum add-controller).")
        var noInitialControllers = false

        func validate() throws {
            guard [standalone, initialControllers != nil, noInitialControllers].filter({ $0 }).count <= 1 else {
                throw ValidationError("give at most one of --standalone, --initial-controllers and --no-initial-controllers")
            }
        }

        func run() throws {
            let config = try node.load()
            let id = try StorageFormat.clusterId(parsing: clusterId)
            let initial: StorageFormat.InitialControllers? = standalone ? .standalone : initialControllers.map { .listed($0) }
            if let initial { try StorageFormat.checkInitialControllers(config, initial) }
            let written = try StorageFormat.format(config, clusterId: id, ignoreFormatted: ignoreFormatted)
            for directory in written {
                print("Formatted \(directory) for cluster \(id), node \(config.nodeId)")
            }
            if let initial {
                try StorageFormat.writeInitialControllers(config, initial)
                print(standalone ? "Node \(config.nodeId) is the first voter of the quorum" : "The quorum's first voters: \(initialControllers ?? "")")
            }
        }
    }

    /// `brook storage info --config F`: what each log directory's meta.properties holds.
    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "info", abstract: "Print each log directory's meta.properties.")

        @OptionGroup var node: BrokerConfigOptions

        func run() throws {
            let config = try node.load()
            let directories = StorageFormat.directories(of: config)
            let ensemble = try MetaPropertiesEnsemble.load(
                logDirectories: directories.filter { FileManager.default.fileExists(atPath: $0) })
            for directory in directories {
                guard let properties = ensemble.properties[directory] else {
                    print("\(directory): not formatted")
                    continue
                }
                print("\(directory): cluster.id=\(properties.clusterID) node.id=\(properties.nodeID.rawValue) "
                    + "directory.id=\(properties.directoryID.map(\.description) ?? "-")")
            }
        }
    }
}
