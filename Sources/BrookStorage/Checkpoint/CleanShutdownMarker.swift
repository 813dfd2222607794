/// The clean-shutdown marker of a log directory: `<log.dir>/.kafka_cleanshutdown`.
///
/// Protocol: the broker removes the marker when it opens the directory (before the first write),
/// and creates it after a clean shutdown has flushed every log. Finding it at startup means the
/// previous run stopped cleanly, so log recovery can be skipped.
///
/// Layout: a one-line JSON object, UTF-8, as Kafka writes it:
///
///     {"version":0,"brokerEpoch":<int64>}
///
/// where brokerEpoch is the broker's registration epoch, -1 when unknown. Only the file's
/// existence matters for recovery; ``readBrokerEpoch()`` is lenient and returns nil for content it
/// does not understand.
///
/// Crash behaviour: creation goes through ``AtomicFileWriter``, removal is an unlink followed by a
/// directory fsync, so a crash leaves the marker either present (complete) or absent. A crash
/// between the removal at startup and the next clean shutdown leaves it absent: the next start
/// recovers, which is always safe.
///
/// Thread safety: a `Sendable` value; the log manager calls it from its startup and shutdown path only.
public struct CleanShutdownMarker: Sendable {
    /// The marker's file name inside a log directory.
    public static let fileName = ".kafka_cleanshutdown"

    public let directory: String
    private let file: AtomicFileWriter

    public init(logDirectory directory: String, configuration: AtomicFileWriter.Configuration = AtomicFileWriter.Configuration()) {
        self.directory = directory
        self.file = AtomicFileWriter(path: directory + "/" + Self.fileName, configuration: configuration)
    }

    /// The marker's path.
    public var path: String { file.path }

    /// Whether the marker is present (the previous run shut down cleanly).
    public func exists() -> Bool {
        CheckpointPOSIX.exists(path)
    }

    /// Writes the marker atomically.
    public func create(brokerEpoch: Int64 = -1) throws(AtomicFileError) {
        try file.write("{\"version\":0,\"brokerEpoch\":\(brokerEpoch)}")
    }

    /// Deletes the marker (and a `.tmp` left by an interrupted creation) and syncs the directory.
    /// Returns whether the marker existed.
    @discardableResult
    public func remove() throws(AtomicFileError) -> Bool {
        _ = try file.removeLeftoverTemporaryFile()
        guard try CheckpointPOSIX.remove(path) else { return false }
        if file.configuration.syncsDirectory {
            try CheckpointPOSIX.syncDirectory(directory)
        }
        return true
    }

    /// The broker epoch recorded in the marker; nil when absent, -1 or unreadable.
    public func readBrokerEpoch() throws(AtomicFileError) -> Int64? {
        guard let text = try file.readText() else { return nil }
        guard let keyRange = text.firstRange(of: "\"brokerEpoch\"") else { return nil }
        let rest = text[keyRange.upperBound...].drop(while: { $0 == " " || $0 == ":" })
        let digits = rest.prefix(while: { $0 == "-" || $0.isNumber })
        guard let epoch = Int64(digits), epoch >= 0 else { return nil }
        return epoch
    }
}
