import BrookModel

/// The partition's `leader-epoch-checkpoint` file, Kafka's format.
///
/// Text, UTF-8, one item per line, each line ended by "\n":
///
///     0                  version (always 0)
///     2                  number of entries
///     0 0                "<epoch> <startOffset>", epochs and start offsets increasing
///     3 1500
///
/// Written whole and atomically by ``AtomicFileWriter`` (temp file, fsync, rename, fsync of the
/// directory) each time the cache changes, so after a crash the file holds either the old or
/// the new entries, never a mix; a leftover `leader-epoch-checkpoint.tmp` is ignored and removed
/// on open. A file that does not parse is reported as ``StorageError/corruptFile(path:reason:)``
/// (Kafka fails the log directory likewise) rather than silently dropped.
///
/// Thread safety: a value; the partition writes it under its write lock only.
struct LeaderEpochCheckpoint {
    static let fileName = "leader-epoch-checkpoint"

    let path: String

    init(directory: String) {
        self.path = directory + "/" + Self.fileName
    }

    /// The entries on disk, nil when there is no file.
    func read() throws(StorageError) -> [EpochEntry]? {
        guard let text = try LogTextFile(path: path).read() else { return nil }
        return try Self.parse(text, path: path)
    }

    /// Replaces the file with `entries`.
    func write(_ entries: [EpochEntry]) throws(StorageError) {
        try LogTextFile(path: path).write(Self.render(entries))
    }

    /// Deletes a temporary file left by an interrupted write.
    func removeLeftoverTemporaryFile() throws(StorageError) {
        try LogTextFile(path: path).removeLeftoverTemporaryFile()
    }

    static func render(_ entries: [EpochEntry]) -> String {
        var text = "0\n\(entries.count)\n"
        for entry in entries {
            text += "\(entry.epoch.rawValue) \(entry.startOffset)\n"
        }
        return text
    }

    static func parse(_ text: String, path: String) throws(StorageError) -> [EpochEntry] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: " \t\r") }
        if lines.last == "" { lines.removeLast() }
        guard lines.count >= 2 else { throw .corruptFile(path: path, reason: "missing version or count line") }
        guard lines[0] == "0" else { throw .corruptFile(path: path, reason: "unsupported version \"\(lines[0])\"") }
        guard let count = Int(lines[1]), count >= 0, count == lines.count - 2 else {
            throw .corruptFile(path: path, reason: "entry count \"\(lines[1])\" does not match \(lines.count - 2) entry lines")
        }
        var entries: [EpochEntry] = []
        for line in lines.dropFirst(2) {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count == 2, let epoch = Int32(fields[0]), let offset = Int64(fields[1]), epoch >= 0, offset >= 0 else {
                throw .corruptFile(path: path, reason: "malformed entry \"\(line)\"")
            }
            if let last = entries.last, epoch <= last.epoch.rawValue || offset < last.startOffset {
                throw .corruptFile(path: path, reason: "entries do not increase at \"\(line)\"")
            }
            entries.append(EpochEntry(epoch: LeaderEpoch(epoch), startOffset: offset))
        }
        return entries
    }
}

extension StorageError {
    /// The same failure, from the checkpoint writer's error type.
    init(_ error: AtomicFileError) {
        switch error {
        case .diskFull(let path):
            self = .diskFull(path: path)
        case .ioFailure(let operation, let path, let code):
            self = .io(errno: code, path: path, operation: FileOperation(operation))
        case .fileTooLarge(let path, let size, let limit):
            self = .corruptFile(path: path, reason: "\(size) bytes, more than the \(limit) accepted")
        case .interrupted(let step):
            self = .io(errno: 0, path: "", operation: .write)
            _ = step
        }
    }
}

extension StorageError.FileOperation {
    fileprivate init(_ operation: AtomicFileError.Operation) {
        switch operation {
        case .open: self = .open
        case .write: self = .write
        case .sync: self = .sync
        case .close: self = .close
        case .rename: self = .rename
        case .syncDirectory: self = .syncDirectory
        case .read: self = .read
        case .stat: self = .stat
        case .remove: self = .unlink
        }
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: String) -> String {
        let blanks = Set(set)
        guard let first = firstIndex(where: { !blanks.contains($0) }) else { return "" }
        let last = lastIndex(where: { !blanks.contains($0) })!
        return String(self[first...last])
    }
}
