import BrookModel

/// The `meta.properties` of every configured log directory, checked for agreement.
///
/// At startup the log manager loads the ensemble, verifies it against the configured node.id
/// (and the cluster id from the metadata quorum when known), then formats the unformatted
/// directories with the common ids. Rules:
///
/// - every formatted directory names the same cluster.id and node.id (and the expected ones,
///   when given);
/// - directory.ids are unique and not reserved.
///
/// Directories are checked in path order so that errors are deterministic.
///
/// Thread safety: a `Sendable` value; ``load(logDirectories:configuration:)`` only reads files.
public struct MetaPropertiesEnsemble: Sendable, Equatable {
    /// The parsed `meta.properties` of each formatted directory, by directory path.
    public var properties: [String: MetaProperties]
    /// Directories without a `meta.properties` yet.
    public var unformattedDirectories: [String]

    public init(properties: [String: MetaProperties], unformattedDirectories: [String] = []) {
        self.properties = properties
        self.unformattedDirectories = unformattedDirectories
    }

    /// Reads every directory's file. A malformed file throws; a missing one is "unformatted".
    public static func load(
        logDirectories: [String],
        configuration: AtomicFileWriter.Configuration = AtomicFileWriter.Configuration()
    ) throws(MetaPropertiesError) -> MetaPropertiesEnsemble {
        var ensemble = MetaPropertiesEnsemble(properties: [:])
        for directory in logDirectories {
            if let properties = try MetaProperties.read(logDirectory: directory, configuration: configuration) {
                ensemble.properties[directory] = properties
            } else {
                ensemble.unformattedDirectories.append(directory)
            }
        }
        return ensemble
    }

    /// The cluster id all formatted directories share (that of the first, in path order).
    public var clusterID: KafkaUUID? {
        properties.keys.sorted().first.map { properties[$0]!.clusterID }
    }

    /// The node id all formatted directories share (that of the first, in path order).
    public var nodeID: BrokerID? {
        properties.keys.sorted().first.map { properties[$0]!.nodeID }
    }

    /// Throws the first disagreement found; see the type's rules.
    public func verify(
        expectedClusterID: KafkaUUID? = nil,
        expectedNodeID: BrokerID? = nil
    ) throws(MetaPropertiesError) {
        var clusterID = expectedClusterID
        var nodeID = expectedNodeID
        var directoryOwners: [KafkaUUID: String] = [:]
        for directory in properties.keys.sorted() {
            let meta = properties[directory]!
            if let expected = clusterID, expected != meta.clusterID {
                throw .clusterIDMismatch(directory: directory, expected: expected, found: meta.clusterID)
            }
            clusterID = meta.clusterID
            if let expected = nodeID, expected != meta.nodeID {
                throw .nodeIDMismatch(directory: directory, expected: expected, found: meta.nodeID)
            }
            nodeID = meta.nodeID
            if let id = meta.directoryID {
                if id.isReserved {
                    throw .reservedDirectoryID(directory: directory, id: id)
                }
                if let owner = directoryOwners[id] {
                    throw .duplicateDirectoryID(id, directories: [owner, directory])
                }
                directoryOwners[id] = directory
            }
        }
    }
}
