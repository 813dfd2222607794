import BrookModel

/// The identity stamped on a log directory: `<log.dir>/meta.properties`, in KRaft form (version 1).
///
/// Layout: Java `.properties` text, UTF-8 (see ``JavaPropertiesText`` for the exact grammar):
///
///     #
///     # Written by Brook; do not edit.
///     cluster.id=MkU3OEVBNTcwNTJENDM2Qg      22-character base64url id (``KafkaUUID``)
///     directory.id=qYgiAVWDQlq5o7dwAhHV9A    this directory's id; optional on read
///     node.id=1                              the broker's node.id, >= 0
///     version=1                              only 1 (KRaft) is accepted
///
/// Comment lines (`#`, `!`) and blank lines are allowed anywhere; properties may come in any
/// order; unknown properties are kept in ``additionalProperties`` and written back. The
/// ZooKeeper-era version 0 (with `broker.id`) is rejected as
/// ``MetaPropertiesError/unsupportedVersion(file:value:)``.
///
/// Crash behaviour: ``write(toLogDirectory:)`` goes through ``AtomicFileWriter``, so after a crash
/// the file is the old or the new one, never a mix. Malformed content throws a
/// ``MetaPropertiesError``, never traps.
///
/// Thread safety: a `Sendable` value; serialise writes to one directory.
public struct MetaProperties: Sendable, Equatable {
    /// The file's name inside a log directory.
    public static let fileName = "meta.properties"
    /// The only supported version (KRaft).
    public static let currentVersion = 1

    /// The property keys Brook interprets.
    public enum Key {
        public static let version = "version"
        public static let clusterID = "cluster.id"
        public static let nodeID = "node.id"
        public static let directoryID = "directory.id"
    }

    /// The cluster the directory belongs to; every log directory of a node must agree.
    public var clusterID: KafkaUUID
    /// The node owning the directory; every log directory of a node must agree.
    public var nodeID: BrokerID
    /// This directory's own id (unique per directory); nil in files written before Kafka 3.7.
    public var directoryID: KafkaUUID?
    /// Properties Brook does not interpret, preserved on rewrite.
    public var additionalProperties: [String: String]

    public init(
        clusterID: KafkaUUID,
        nodeID: BrokerID,
        directoryID: KafkaUUID?,
        additionalProperties: [String: String] = [:]
    ) {
        self.clusterID = clusterID
        self.nodeID = nodeID
        self.directoryID = directoryID
        self.additionalProperties = additionalProperties
    }

    /// A new random cluster id, for formatting a new cluster's storage.
    public static func generateClusterID() -> KafkaUUID {
        KafkaUUID.random()
    }

    /// Parses a file's text; `file` names the file in errors.
    public static func parse(_ text: String, file: String = fileName) throws(MetaPropertiesError) -> MetaProperties {
        var properties: [String: String]
        do {
            properties = try JavaPropertiesText.parse(text)
        } catch {
            throw .malformedLine(file: file, line: error.line, text: error.text)
        }

        guard let version = properties.removeValue(forKey: Key.version) else {
            throw .missingProperty(file: file, key: Key.version)
        }
        guard Int(version) == currentVersion else {
            throw .unsupportedVersion(file: file, value: version)
        }
        guard let clusterText = properties.removeValue(forKey: Key.clusterID) else {
            throw .missingProperty(file: file, key: Key.clusterID)
        }
        guard let clusterID = KafkaUUID(clusterText), clusterID != .zero else {
            throw .invalidValue(file: file, key: Key.clusterID, value: clusterText)
        }
        guard let nodeText = properties.removeValue(forKey: Key.nodeID) else {
            throw .missingProperty(file: file, key: Key.nodeID)
        }
        guard let node = Int32(nodeText), node >= 0 else {
            throw .invalidValue(file: file, key: Key.nodeID, value: nodeText)
        }
        var directoryID: KafkaUUID?
        if let directoryText = properties.removeValue(forKey: Key.directoryID) {
            guard let parsed = KafkaUUID(directoryText) else {
                throw .invalidValue(file: file, key: Key.directoryID, value: directoryText)
            }
            directoryID = parsed
        }
        return MetaProperties(
            clusterID: clusterID, nodeID: BrokerID(node), directoryID: directoryID,
            additionalProperties: properties)
    }

    /// The file's text.
    public func render() -> String {
        var properties = additionalProperties
        properties[Key.version] = String(Self.currentVersion)
        properties[Key.clusterID] = clusterID.description
        properties[Key.nodeID] = String(nodeID.rawValue)
        if let directoryID {
            properties[Key.directoryID] = directoryID.description
        }
        return JavaPropertiesText.render(properties, comments: ["", "Written by Brook; do not edit."])
    }

    /// The `meta.properties` of `directory`, or nil when the directory has none (unformatted).
    public static func read(
        logDirectory directory: String,
        configuration: AtomicFileWriter.Configuration = AtomicFileWriter.Configuration()
    ) throws(MetaPropertiesError) -> MetaProperties? {
        let path = directory + "/" + fileName
        let text: String?
        do {
            text = try AtomicFileWriter(path: path, configuration: configuration).readText()
        } catch {
            throw .io(error)
        }
        guard let text else { return nil }
        return try parse(text, file: path)
    }

    /// Writes `directory/meta.properties` atomically.
    public func write(
        toLogDirectory directory: String,
        configuration: AtomicFileWriter.Configuration = AtomicFileWriter.Configuration()
    ) throws(MetaPropertiesError) {
        do {
            try AtomicFileWriter(path: directory + "/" + Self.fileName, configuration: configuration).write(render())
        } catch {
            throw .io(error)
        }
    }
}

/// Why a `meta.properties` file, or the set of them, was rejected.
public enum MetaPropertiesError: Error, Equatable, Sendable, CustomStringConvertible {
    case io(AtomicFileError)
    /// A line that the properties grammar cannot read (a bad `\u` escape).
    case malformedLine(file: String, line: Int, text: String)
    case missingProperty(file: String, key: String)
    case invalidValue(file: String, key: String, value: String)
    /// `version` is not 1.
    case unsupportedVersion(file: String, value: String)
    /// Two log directories (or the configuration) name different clusters.
    case clusterIDMismatch(directory: String, expected: KafkaUUID, found: KafkaUUID)
    /// Two log directories (or the configuration) name different nodes.
    case nodeIDMismatch(directory: String, expected: BrokerID, found: BrokerID)
    /// Two log directories claim the same directory.id.
    case duplicateDirectoryID(KafkaUUID, directories: [String])
    /// A directory.id is one of Kafka's reserved values.
    case reservedDirectoryID(directory: String, id: KafkaUUID)

    public var description: String {
        switch self {
        case .io(let error):
            error.description
        case .malformedLine(let file, let line, let text):
            "\(file), line \(line): cannot read '\(text)'"
        case .missingProperty(let file, let key):
            "\(file) has no \(key)"
        case .invalidValue(let file, let key, let value):
            "\(file): invalid \(key) '\(value)'"
        case .unsupportedVersion(let file, let value):
            "\(file): unsupported version '\(value)' (only version 1, KRaft, is supported)"
        case .clusterIDMismatch(let directory, let expected, let found):
            "\(directory) belongs to cluster \(found), expected \(expected)"
        case .nodeIDMismatch(let directory, let expected, let found):
            "\(directory) belongs to node \(found), expected \(expected); if the data moved, configure the matching node.id"
        case .duplicateDirectoryID(let id, let directories):
            "directory.id \(id) is used by several log directories: \(directories.joined(separator: ", "))"
        case .reservedDirectoryID(let directory, let id):
            "\(directory) has the reserved directory.id \(id)"
        }
    }
}
