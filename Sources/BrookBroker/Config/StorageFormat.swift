import BrookModel
import BrookStorage
import Foundation

/// The identity of a node's storage: `meta.properties` in every log directory (and the metadata
/// directory), naming the cluster and the node, as `kafka-storage format` writes it.
///
/// `brook storage format` writes it ahead of a cluster's first start. A broker checks it at
/// start: every directory must name the same cluster and this node.id, and match `cluster.id`
/// when that is set. Unformatted directories are formatted then with the storage's cluster id,
/// so a single node with no configuration formats itself (with a new random id); a node of a
/// quorum must be formatted first, or be given `cluster.id`, since its voters must agree.
public enum StorageFormat {
    /// Why storage cannot be formatted or used.
    public struct Problem: Error, CustomStringConvertible, Equatable {
        public var description: String
        init(_ description: String) { self.description = description }
        init(explaining error: MetaPropertiesError) { self.description = StorageFormat.explaining(error) }
    }

    /// The directories a node keeps data in: `log.dirs`, and `metadata.log.dir` when it is apart.
    public static func directories(of config: BrokerConfig) -> [String] {
        var directories = config.logDirs
        if let metadata = config.string("metadata.log.dir"), !directories.contains(metadata) { directories.append(metadata) }
        return directories
    }

    /// Parses a cluster id as `brook storage random-uuid` prints it.
    public static func clusterId(parsing text: String) throws(Problem) -> KafkaUUID {
        guard let id = KafkaUUID(text), id != .zero else {
            throw Problem("Cluster ID string \(text) does not appear to be a valid UUID: make one with `brook storage random-uuid`")
        }
        return id
    }

    /// Formats the node's directories for `clusterId`; returns the directories formatted. A
    /// directory already formatted is an error unless `ignoreFormatted` (then it is left as it is).
    @discardableResult
    public static func format(_ config: BrokerConfig, clusterId: KafkaUUID, ignoreFormatted: Bool) throws -> [String] {
        let directories = directories(of: config)
        let ensemble = try MetaPropertiesEnsemble.load(logDirectories: directories.filter { FileManager.default.fileExists(atPath: $0) })
        if !ignoreFormatted, let formatted = ensemble.properties.keys.sorted().first {
            throw Problem("Log directory \(formatted) is already formatted. Use --ignore-formatted to ignore this directory and format the others.")
        }
        var written: [String] = []
        for directory in directories where ensemble.properties[directory] == nil {
            try write(directory, clusterId: clusterId, nodeId: config.nodeId)
            written.append(directory)
        }
        if written.isEmpty { throw Problem("All of the log directories are already formatted.") }
        return written
    }

    /// The cluster id of the node's storage, checked against `config`; unformatted directories
    /// are formatted with it. `inQuorum`: the node is one of a metadata quorum's.
    public static func verify(_ config: BrokerConfig, inQuorum: Bool) throws -> KafkaUUID {
        let directories = directories(of: config)
        for directory in directories {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let ensemble = try MetaPropertiesEnsemble.load(logDirectories: directories)
        var configured: KafkaUUID?
        if let text = config.string("cluster.id") { configured = try clusterId(parsing: text) }
        do {
            try ensemble.verify(expectedClusterID: configured, expectedNodeID: BrokerID(config.nodeId))
        } catch {
            throw Problem(explaining: error)
        }
        guard let id = ensemble.clusterID ?? configured ?? (inQuorum ? nil : KafkaUUID.random()) else {
            throw Problem("""
                the storage of node \(config.nodeId) is not formatted (no meta.properties in \(directories.joined(separator: ", "))): \
                format every node of the quorum with one cluster id first: \
                brook storage format --config <file> --cluster-id $(brook storage random-uuid)
                """)
        }
        for directory in ensemble.unformattedDirectories {
            try write(directory, clusterId: id, nodeId: config.nodeId)
        }
        return id
    }

    /// What a disagreement among the directories means for the operator.
    private static func explaining(_ error: MetaPropertiesError) -> String {
        switch error {
        case .clusterIDMismatch(let directory, let expected, let found):
            "\(directory) belongs to cluster \(found), not \(expected); a node never joins another cluster's storage"
        case .nodeIDMismatch(let directory, let expected, let found):
            "\(directory) belongs to node \(found.rawValue), not node.id \(expected.rawValue)"
        default:
            error.description
        }
    }

    private static func write(_ directory: String, clusterId: KafkaUUID, nodeId: Int32) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try MetaProperties(clusterID: clusterId, nodeID: BrokerID(nodeId), directoryID: .random())
            .write(toLogDirectory: directory)
    }
}
