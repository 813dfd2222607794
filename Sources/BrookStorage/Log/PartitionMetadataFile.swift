/// The partition's `partition.metadata` file: the id of the topic incarnation whose data the
/// directory holds, in Kafka's format.
///
/// Text, UTF-8, two lines, each ended by "\n":
///
///     version: 0
///     topic_id: MkU3OEVBNTcwNTJENDM2Qg     the 22-character base64url id (``KafkaUUID``)
///
/// Reading follows Kafka: each line is split at `:` followed by white space; the version must be
/// 0, and the id must parse and not be all zeros. Anything else is
/// ``StorageError/corruptFile(path:reason:)`` (Kafka fails the log directory likewise): such a
/// directory is not opened, since nothing says which topic it belongs to.
///
/// Written by ``PartitionLog/open(directory:config:recoveryPoint:logStartOffset:hadCleanShutdown:topicId:clock:syncsRolledSegmentsInline:)``
/// through ``AtomicFileWriter`` (temp file, fsync, rename, fsync of the directory) before any
/// segment of a new log is created, and on the first open of a directory that has none (one
/// written by a Brook older than topic ids, or one whose creation crashed before this file was
/// durable). Crash behaviour: the file is either absent, or wholly present with the id; a leftover
/// `partition.metadata.tmp` is ignored and removed on open. An absent file is adopted by the next
/// open with the topic id the metadata names at that time, as Kafka does for logs from before
/// topic ids.
///
/// The id never changes once written: a directory whose file names another id is an older (or
/// newer) incarnation of a topic of the same name, and opening it as this topic's log fails with
/// ``StorageError/inconsistentTopicId(directory:expected:found:)``.
///
/// Thread safety: a value; written only while a log is opened, before the log is shared.
public struct PartitionMetadataFile: Sendable {
    public static let fileName = "partition.metadata"
    static let version = 0

    public let path: String

    public init(directory: String) {
        self.path = directory + "/" + Self.fileName
    }

    /// The topic id on disk, nil when there is no file.
    public func read() throws(StorageError) -> KafkaUUID? {
        guard let text = try LogTextFile(path: path).read() else { return nil }
        return try Self.parse(text, path: path)
    }

    /// Writes the file with `topicId`, atomically and durably.
    public func write(topicId: KafkaUUID) throws(StorageError) {
        try LogTextFile(path: path).write(Self.render(topicId))
    }

    /// Deletes a temporary file left by an interrupted write.
    func removeLeftoverTemporaryFile() throws(StorageError) {
        try LogTextFile(path: path).removeLeftoverTemporaryFile()
    }

    static func render(_ topicId: KafkaUUID) -> String {
        "version: \(version)\ntopic_id: \(topicId)\n"
    }

    static func parse(_ text: String, path: String) throws(StorageError) -> KafkaUUID {
        // Line ends as Java's readLine sees them: "\n", "\r\n" (one Character) or "\r".
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        if lines.last == "" { lines.removeLast() }
        guard lines.count == 2 else {
            throw .corruptFile(path: path, reason: "expected 2 lines, found \(lines.count)")
        }
        guard let versionText = value(of: lines[0], key: "version") else {
            throw .corruptFile(path: path, reason: "malformed line \"\(lines[0])\"")
        }
        guard Int(versionText) == version else {
            throw .corruptFile(path: path, reason: "unrecognized version \"\(versionText)\"")
        }
        guard let idText = value(of: lines[1], key: "topic_id"), let id = KafkaUUID(idText) else {
            throw .corruptFile(path: path, reason: "malformed line \"\(lines[1])\"")
        }
        guard id != .zero else { throw .corruptFile(path: path, reason: "the topic id is all zeros") }
        return id
    }

    /// The text after `<key>:` and at least one blank; nil when the line is not of that form.
    private static func value(of line: Substring, key: String) -> Substring? {
        guard line.hasPrefix(key + ":") else { return nil }
        let rest = line.dropFirst(key.count + 1)
        let value = rest.drop { $0 == " " || $0 == "\t" }
        guard value.count < rest.count, !value.isEmpty else { return nil }
        return value
    }
}
