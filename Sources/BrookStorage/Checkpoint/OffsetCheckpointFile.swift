import BrookModel

/// One of the per-log-directory offset checkpoints: an offset for each partition in the directory.
///
/// Byte layout (``CheckpointText`` with version 0 and three fields per entry), UTF-8 text:
///
///     0\n
///     <N>\n
///     <topic> <partition> <offset>\n        N times, e.g. "orders 3 1042"
///
/// Topic names cannot contain spaces (Kafka allows `[a-zA-Z0-9._-]`), so a single space
/// separates the fields. Entries are written sorted by topic, then partition, so equal maps
/// give equal files. On reading, a later duplicate entry for a partition replaces the earlier
/// one, as in Kafka; a topic field holding whitespace (a tab, a lone `\r`) is malformed, so what
/// reads can always be written back.
///
/// Crash behaviour: writes go through ``AtomicFileWriter`` (temp file, fsync, rename, directory
/// fsync), so after a crash the file holds either the previous or the new map. A missing file
/// reads as an empty map (a fresh directory); malformed content throws
/// ``CheckpointFileError/malformed(_:)`` naming the file and line, never traps.
///
/// Thread safety: an immutable `Sendable` value; serialise writes per file (see
/// ``AtomicFileWriter``).
public struct OffsetCheckpointFile: Sendable {
    /// The checkpoint files Kafka keeps in each log directory.
    public enum Kind: String, Sendable, CaseIterable {
        /// Offset up to which each log is flushed; recovery starts here after an unclean stop.
        case recoveryPoint = "recovery-point-offset-checkpoint"
        /// Each log's start offset (moved by retention and DeleteRecords).
        case logStartOffset = "log-start-offset-checkpoint"
        /// Each partition's high watermark.
        case replication = "replication-offset-checkpoint"
        /// The log cleaner's first dirty offset per compacted log.
        case cleaner = "cleaner-offset-checkpoint"
    }

    /// The only version of the format.
    public static let version = 0

    public let path: String
    private let file: AtomicFileWriter

    public init(path: String, configuration: AtomicFileWriter.Configuration = AtomicFileWriter.Configuration()) {
        self.path = path
        self.file = AtomicFileWriter(path: path, configuration: configuration)
    }

    /// The `kind` checkpoint of the log directory `directory`.
    public init(
        directory: String,
        kind: Kind,
        configuration: AtomicFileWriter.Configuration = AtomicFileWriter.Configuration()
    ) {
        self.init(path: directory + "/" + kind.rawValue, configuration: configuration)
    }

    /// The checkpointed offsets; empty when the file does not exist or is empty.
    public func read() throws(CheckpointFileError) -> [TopicPartition: Int64] {
        let text: String?
        do {
            text = try file.readText()
        } catch {
            throw .io(error)
        }
        guard let text else { return [:] }
        do {
            return try Self.decode(text, file: path)
        } catch {
            throw .malformed(error)
        }
    }

    /// Replaces the checkpoint with `offsets`, atomically.
    public func write(_ offsets: [TopicPartition: Int64]) throws(CheckpointFileError) {
        let text = try Self.encode(offsets)
        do {
            try file.write(text)
        } catch {
            throw .io(error)
        }
    }

    /// Renders `offsets` in the file format.
    public static func encode(_ offsets: [TopicPartition: Int64]) throws(CheckpointFileError) -> String {
        let sorted = offsets.sorted { lhs, rhs in
            lhs.key.topic != rhs.key.topic ? lhs.key.topic < rhs.key.topic : lhs.key.partition < rhs.key.partition
        }
        var entries: [String] = []
        entries.reserveCapacity(sorted.count)
        for (partition, offset) in sorted {
            guard isRepresentable(partition.topic[...]) else {
                throw .unrepresentableTopic(partition.topic)
            }
            entries.append("\(partition.topic) \(partition.partition) \(offset)")
        }
        return CheckpointText.render(version: version, entries: entries)
    }

    /// Parses the file format; `file` names the file in errors.
    public static func decode(_ text: String, file: String) throws(CheckpointFormatError) -> [TopicPartition: Int64] {
        let entries = try CheckpointText.parse(text, file: file, version: version, fieldsPerEntry: 3)
        var offsets: [TopicPartition: Int64] = [:]
        offsets.reserveCapacity(entries.count)
        for (index, fields) in entries.enumerated() {
            guard Self.isRepresentable(fields[0]), let partition = Int32(fields[1]), partition >= 0,
                let offset = Int64(fields[2])
            else {
                throw CheckpointFormatError(
                    file: file, line: index + 3, reason: .malformedEntry(fields.joined(separator: " ")))
            }
            offsets[TopicPartition(topic: String(fields[0]), partition: partition)] = offset
        }
        return offsets
    }
}

extension OffsetCheckpointFile {
    /// Whether a topic name fits the space-separated format: not empty, no whitespace.
    static func isRepresentable(_ topic: Substring) -> Bool {
        !topic.isEmpty && !topic.contains(where: { $0.isWhitespace || $0.isNewline })
    }
}

/// Why reading or writing a checkpoint file failed.
public enum CheckpointFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be read or written (a full disk included).
    case io(AtomicFileError)
    /// The file's content does not follow the format.
    case malformed(CheckpointFormatError)
    /// A topic name that the space-separated format cannot hold (empty or with whitespace).
    case unrepresentableTopic(String)

    public var description: String {
        switch self {
        case .io(let error): error.description
        case .malformed(let error): error.description
        case .unrepresentableTopic(let topic): "topic name '\(topic)' cannot be written to a checkpoint file"
        }
    }
}
