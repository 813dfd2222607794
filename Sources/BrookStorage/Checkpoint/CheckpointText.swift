/// Kafka's plain-text checkpoint layout, shared by the offset checkpoints and
/// `leader-epoch-checkpoint`:
///
///     line 1      version            decimal integer (0 for every file that uses this layout)
///     line 2      entry count N      decimal integer >= 0
///     lines 3...  N entries          fields separated by single spaces, one entry per line
///
/// Lines end in `\n` (a `\r` before it is tolerated). An empty file means "no entries", as in
/// Kafka. Blank lines after the last entry are ignored; anything else that does not fit the
/// layout throws a ``CheckpointFormatError`` naming the file and the 1-based line.
///
/// Pure functions; safe from any thread.
public enum CheckpointText {
    /// Renders `entries` (each already joined with spaces) under the version and count lines.
    public static func render(version: Int, entries: [String]) -> String {
        var text = "\(version)\n\(entries.count)\n"
        for entry in entries {
            text += entry
            text += "\n"
        }
        return text
    }

    /// Parses the layout and returns the fields of each entry line.
    ///
    /// - Parameters:
    ///   - file: the file name used in errors.
    ///   - version: the only version accepted.
    ///   - fieldsPerEntry: how many space-separated fields every entry line must have.
    public static func parse(
        _ text: String,
        file: String,
        version: Int,
        fieldsPerEntry: Int
    ) throws(CheckpointFormatError) -> [[Substring]] {
        // "\r\n" is a single Character in Swift, so it is matched as a separator of its own.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        // A final newline, and blank lines after the last entry, are not entries.
        while let last = lines.last, last.allSatisfy({ $0 == " " || $0 == "\t" }) {
            lines.removeLast()
        }
        guard !lines.isEmpty else { return [] }

        guard let found = Int(lines[0]) else {
            throw CheckpointFormatError(file: file, line: 1, reason: .malformedVersion(String(lines[0])))
        }
        guard found == version else {
            throw CheckpointFormatError(file: file, line: 1, reason: .unsupportedVersion(found, expected: version))
        }
        guard lines.count >= 2 else {
            throw CheckpointFormatError(file: file, line: 2, reason: .missingEntryCount)
        }
        guard let count = Int(lines[1]), count >= 0 else {
            throw CheckpointFormatError(file: file, line: 2, reason: .malformedEntryCount(String(lines[1])))
        }
        let entryLines = lines.dropFirst(2)
        guard entryLines.count == count else {
            throw CheckpointFormatError(
                file: file, line: 2, reason: .entryCountMismatch(declared: count, found: entryLines.count))
        }

        var entries: [[Substring]] = []
        entries.reserveCapacity(count)
        for (index, line) in entryLines.enumerated() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == fieldsPerEntry, fields.allSatisfy({ !$0.isEmpty }) else {
                throw CheckpointFormatError(file: file, line: index + 3, reason: .malformedEntry(String(line)))
            }
            entries.append(fields)
        }
        return entries
    }
}

/// A checkpoint file whose content does not follow ``CheckpointText``'s layout.
public struct CheckpointFormatError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        /// Line 1 is not an integer.
        case malformedVersion(String)
        /// Line 1 is an integer other than the supported version.
        case unsupportedVersion(Int, expected: Int)
        /// The file ends after the version line.
        case missingEntryCount
        /// Line 2 is not a non-negative integer.
        case malformedEntryCount(String)
        /// Line 2 declares a different number of entries than the file holds.
        case entryCountMismatch(declared: Int, found: Int)
        /// An entry line has the wrong number of fields or a field that does not parse.
        case malformedEntry(String)
    }

    /// The file's name or path.
    public var file: String
    /// The 1-based line at fault.
    public var line: Int
    public var reason: Reason

    public init(file: String, line: Int, reason: Reason) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    public var description: String {
        let detail: String
        switch reason {
        case .malformedVersion(let text): detail = "version '\(text)' is not a number"
        case .unsupportedVersion(let found, let expected): detail = "unsupported version \(found) (expected \(expected))"
        case .missingEntryCount: detail = "the entry count line is missing"
        case .malformedEntryCount(let text): detail = "entry count '\(text)' is not a non-negative number"
        case .entryCountMismatch(let declared, let found): detail = "declares \(declared) entries but holds \(found)"
        case .malformedEntry(let text): detail = "malformed entry '\(text)'"
        }
        return "malformed checkpoint \(file), line \(line): \(detail)"
    }
}
