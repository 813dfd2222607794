import BrookModel
import Foundation
import PropertyBased
import Testing

@testable import BrookStorage

@Suite struct CheckpointOffsetFileTests {
    @Test func encodesKafkasLayoutSorted() throws {
        let text = try OffsetCheckpointFile.encode([
            TopicPartition(topic: "orders", partition: 10): 7,
            TopicPartition(topic: "orders", partition: 2): 1042,
            TopicPartition(topic: "audit.log-v2_x", partition: 0): 0,
        ])
        #expect(text == "0\n3\naudit.log-v2_x 0 0\norders 2 1042\norders 10 7\n")
        #expect(try OffsetCheckpointFile.encode([:]) == "0\n0\n")
    }

    @Test func roundTripsThroughTheFile() async throws {
        let directory = try CheckpointScratchDirectory()
        defer { directory.remove() }
        let file = OffsetCheckpointFile(directory: directory.path, kind: .recoveryPoint)
        #expect(file.path == directory.file("recovery-point-offset-checkpoint"))
        #expect(try file.read() == [:])

        await propertyCheck(count: 100, input: Gen.uint64()) { seed in
            var rng = SplitMix64(seed: seed)
            var offsets: [TopicPartition: Int64] = [:]
            for _ in 0..<Int.random(in: 0...20, using: &rng) {
                let topic = "t" + String(Int.random(in: 0...5, using: &rng))
                let partition = Int32.random(in: 0...Int32.max, using: &rng)
                offsets[TopicPartition(topic: topic, partition: partition)] = Int64.random(in: Int64.min...Int64.max, using: &rng)
            }
            try file.write(offsets)
            #expect(try file.read() == offsets)
        }
    }

    @Test func everyKindHasKafkasFileName() {
        #expect(OffsetCheckpointFile.Kind.allCases.map(\.rawValue) == [
            "recovery-point-offset-checkpoint",
            "log-start-offset-checkpoint",
            "replication-offset-checkpoint",
            "cleaner-offset-checkpoint",
        ])
    }

    @Test func acceptsTheVariationsKafkaAccepts() throws {
        let expected: [TopicPartition: Int64] = [TopicPartition(topic: "a", partition: 1): 5]
        #expect(try OffsetCheckpointFile.decode("0\n1\na 1 5\n", file: "f") == expected)
        #expect(try OffsetCheckpointFile.decode("0\n1\na 1 5", file: "f") == expected)  // no final newline
        #expect(try OffsetCheckpointFile.decode("0\r\n1\r\na 1 5\r\n", file: "f") == expected)
        #expect(try OffsetCheckpointFile.decode("0\n1\na 1 5\n\n\n", file: "f") == expected)
        #expect(try OffsetCheckpointFile.decode("", file: "f") == [:])
        #expect(try OffsetCheckpointFile.decode("0\n0\n", file: "f") == [:])
        #expect(try OffsetCheckpointFile.decode("0\n1\na 1 -1\n", file: "f") == [TopicPartition(topic: "a", partition: 1): -1])
        // A later duplicate replaces an earlier one.
        #expect(try OffsetCheckpointFile.decode("0\n2\na 1 5\na 1 9\n", file: "f") == [TopicPartition(topic: "a", partition: 1): 9])
    }

    static let malformed: [(String, Int, CheckpointFormatError.Reason)] = [
        ("1\n0\n", 1, .unsupportedVersion(1, expected: 0)),
        ("-1\n0\n", 1, .unsupportedVersion(-1, expected: 0)),
        ("x\n0\n", 1, .malformedVersion("x")),
        (" 0\n0\n", 1, .malformedVersion(" 0")),
        ("0\n", 2, .missingEntryCount),
        ("0", 2, .missingEntryCount),
        ("0\n-1\n", 2, .malformedEntryCount("-1")),
        ("0\nabc\n", 2, .malformedEntryCount("abc")),
        ("0\n\nt 0 1\n", 2, .malformedEntryCount("")),
        ("0\n2\nt 0 5\n", 2, .entryCountMismatch(declared: 2, found: 1)),
        ("0\n1\nt 0 5\nu 1 6\n", 2, .entryCountMismatch(declared: 1, found: 2)),
        ("0\n1\n\nt 0 5\n", 2, .entryCountMismatch(declared: 1, found: 2)),
        ("0\n1\nt 0\n", 3, .malformedEntry("t 0")),
        ("0\n1\nt x 5\n", 3, .malformedEntry("t x 5")),
        ("0\n1\nt 0 5 9\n", 3, .malformedEntry("t 0 5 9")),
        ("0\n1\nt 0 99999999999999999999\n", 3, .malformedEntry("t 0 99999999999999999999")),
        ("0\n1\nt 2147483648 1\n", 3, .malformedEntry("t 2147483648 1")),
        ("0\n1\nt -1 5\n", 3, .malformedEntry("t -1 5")),
        ("0\n2\nt 0 1\nt  1 2\n", 4, .malformedEntry("t  1 2")),
        ("0\n1\nt\t0\t1\n", 3, .malformedEntry("t\t0\t1")),
        ("0\n1\n 0 1\n", 3, .malformedEntry(" 0 1")),
        ("0\n1\na\tb 0 1\n", 3, .malformedEntry("a\tb 0 1")),
        ("0\n1\na\rb 0 1\n", 3, .malformedEntry("a\rb 0 1")),
    ]

    @Test(arguments: malformed)
    func malformedContentIsATypedError(text: String, line: Int, reason: CheckpointFormatError.Reason) throws {
        #expect(throws: CheckpointFormatError(file: "f", line: line, reason: reason)) {
            try OffsetCheckpointFile.decode(text, file: "f")
        }

        // Through the file, the error names the file's path.
        let directory = try CheckpointScratchDirectory()
        defer { directory.remove() }
        let file = OffsetCheckpointFile(directory: directory.path, kind: .logStartOffset)
        try directory.write(OffsetCheckpointFile.Kind.logStartOffset.rawValue, text)
        #expect(throws: CheckpointFileError.malformed(CheckpointFormatError(file: file.path, line: line, reason: reason))) {
            try file.read()
        }
    }

    @Test func invalidUTF8IsMalformedNotACrash() throws {
        let directory = try CheckpointScratchDirectory()
        defer { directory.remove() }
        try directory.write("cleaner-offset-checkpoint", bytes: Array("0\n1\nt\u{0} 0 ".utf8) + [0xFF, 0xFE] + Array("\n".utf8))
        let file = OffsetCheckpointFile(directory: directory.path, kind: .cleaner)
        #expect(throws: CheckpointFileError.self) { try file.read() }
    }

    @Test func randomGarbageNeverTraps() async {
        await propertyCheck(count: 300, input: Gen.uint64()) { seed in
            var rng = SplitMix64(seed: seed)
            let alphabet = Array("0123456789 -\n\r\tab.x".unicodeScalars)
            var text = ["0\n", "0\n1\n", "0\n2\n", ""].randomElement(using: &rng)!
            for _ in 0..<Int.random(in: 0...40, using: &rng) {
                text.unicodeScalars.append(alphabet.randomElement(using: &rng)!)
            }
            let offsets: [TopicPartition: Int64]
            do {
                offsets = try OffsetCheckpointFile.decode(text, file: "fuzz")
            } catch let error as CheckpointFormatError {
                #expect(error.file == "fuzz")
                #expect(error.line >= 1)
                return
            }
            // Whatever parses re-encodes to something that parses to the same map.
            #expect(try OffsetCheckpointFile.decode(try OffsetCheckpointFile.encode(offsets), file: "again") == offsets)
        }
    }

    @Test(arguments: ["", "has space", "tab\there", "new\nline"])
    func unrepresentableTopicsAreRefusedAndNothingIsWritten(topic: String) throws {
        let directory = try CheckpointScratchDirectory()
        defer { directory.remove() }
        let file = OffsetCheckpointFile(directory: directory.path, kind: .replication)
        try file.write([TopicPartition(topic: "ok", partition: 0): 1])
        #expect(throws: CheckpointFileError.unrepresentableTopic(topic)) {
            try file.write([TopicPartition(topic: topic, partition: 0): 2])
        }
        #expect(try file.read() == [TopicPartition(topic: "ok", partition: 0): 1])
    }

    @Test func interruptedWriteKeepsThePreviousCheckpoint() throws {
        let directory = try CheckpointScratchDirectory()
        defer { directory.remove() }
        let partition = TopicPartition(topic: "t", partition: 0)
        try OffsetCheckpointFile(directory: directory.path, kind: .recoveryPoint).write([partition: 100])

        var configuration = AtomicFileWriter.Configuration()
        configuration.interruptAfter = .temporaryFileSynced
        let crashing = OffsetCheckpointFile(directory: directory.path, kind: .recoveryPoint, configuration: configuration)
        #expect(throws: CheckpointFileError.io(.interrupted(after: .temporaryFileSynced))) {
            try crashing.write([partition: 200])
        }
        #expect(try OffsetCheckpointFile(directory: directory.path, kind: .recoveryPoint).read() == [partition: 100])
    }

    @Test func leaderEpochStyleFilesShareTheLayout() throws {
        let text = CheckpointText.render(version: 0, entries: ["0 0", "3 1200"])
        #expect(text == "0\n2\n0 0\n3 1200\n")
        let entries = try CheckpointText.parse(text, file: "leader-epoch-checkpoint", version: 0, fieldsPerEntry: 2)
        #expect(entries.map { $0.map(String.init) } == [["0", "0"], ["3", "1200"]])
        #expect(throws: CheckpointFormatError(file: "e", line: 3, reason: .malformedEntry("1 2 3"))) {
            try CheckpointText.parse("0\n1\n1 2 3\n", file: "e", version: 0, fieldsPerEntry: 2)
        }
    }

    @Test func errorsNameFileAndLine() {
        let error = CheckpointFormatError(file: "/d/recovery-point-offset-checkpoint", line: 4, reason: .malformedEntry("t  1 2"))
        #expect(error.description == "malformed checkpoint /d/recovery-point-offset-checkpoint, line 4: malformed entry 't  1 2'")
    }
}
