import Foundation
import Testing

@testable import BrookStorage

#if canImport(Glibc)
import Glibc
#endif

@Suite struct CheckpointAtomicFileWriterTests {
    @Test func writesThenReadsBack() throws {
        let directory = try CheckpointScratchDirectory()
        defer { directory.remove() }
        let writer = AtomicFileWriter(path: directory.file("data"))

        #expect(try writer.read() == nil)
        try writer.write("first\n")
        #expect(try writer.readText() == "first\n")
        try writer.write([0, 1, 2, 255])
        #expect(try writer.read() == [0, 1, 2, 255])
        try writer.write("")
        #expect(try writer.read() == [])
        #expect(!directory.exists("data.tmp"))
    }

    @Test func largeContentIsWrittenWhole() throws {
        let directory = try CheckpointScratchDirectory()
        defer { directory.remove() }
        let writer = AtomicFileWriter(path: directory.file("big"))
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try writer.write(bytes)
        #expect(try writer.read() == bytes)
    }

    @Test func leftoverTemporaryFileIsIgnoredThenRemoved() throws {
        let directory = try CheckpointScratchDirectory()
        defer { directory.remove() }
        let writer = AtomicFileWriter(path: directory.file("data"))
        try writer.write("committed")
        try directory.write("data.tmp", "half-writ")

        #expect(try writer.readText() == "committed")
        #expect(try writer.removeLeftoverTemporaryFile())
        #expect(!directory.exists("data.tmp"))
        #expect(try !writer.removeLeftoverTemporaryFile())
        #expect(try writer.readText() == "committed")
    }

    @Test func writeOverwritesStaleTemporaryFile() throws {
        let directory = try CheckpointScratchDirectory()
        defer { directory.remove() }
        try directory.write("data.tmp", String(repeating: "garbage", count: 100))
        let writer = AtomicFileWriter(path: directory.file("data"))
        try writer.write("new")
        #expect(try writer.readText() == "new")
        #expect(!directory.exists("data.tmp"))
    }

    /// A crash at any point leaves the target wholly old (before the rename) or wholly new (after).
    @Test(arguments: AtomicFileWriter.Step.allCases)
    func interruptionLeavesOldOrNewContent(step: AtomicFileWriter.Step) throws {
        let directory = try CheckpointScratchDirectory()
        defer { directory.remove() }
        let path = directory.file("data")
        try AtomicFileWriter(path: path).write("old content")

        var configuration = AtomicFileWriter.Configuration()
        configuration.interruptAfter = step
        let crashing = AtomicFileWriter(path: path, configuration: configuration)
        #expect(throws: AtomicFileError.interrupted(after: step)) {
            try crashing.write("new content")
        }

        let reader = AtomicFileWriter(path: path)
        switch step {
        case .temporaryFileWritten, .temporaryFileSynced:
            #expect(try reader.readText() == "old content")
            #expect(directory.contents("data.tmp") == "new content")
        case .renamed:
            #expect(try reader.readText() == "new content")
            #expect(!directory.exists("data.tmp"))
        }

        // The next start cleans up and writes normally.
        try reader.removeLeftoverTemporaryFile()
        try reader.write("after restart")
        #expect(try reader.readText() == "after restart")
        #expect(!directory.exists("data.tmp"))
    }

    @Test func interruptedFirstWriteLeavesNoFile() throws {
        let directory = try CheckpointScratchDirectory()
        defer { directory.remove() }
        var configuration = AtomicFileWriter.Configuration()
        configuration.interruptAfter = .temporaryFileSynced
        let writer = AtomicFileWriter(path: directory.file("data"), configuration: configuration)
        #expect(throws: AtomicFileError.interrupted(after: .temporaryFileSynced)) {
            try writer.write("never visible")
        }
        #expect(try writer.read() == nil)
    }

    @Test func missingDirectoryIsAnIOFailure() throws {
        let directory = try CheckpointScratchDirectory()
        defer { directory.remove() }
        let path = directory.file("absent/data")
        let writer = AtomicFileWriter(path: path)
        #expect(throws: AtomicFileError.ioFailure(operation: .open, path: path + ".tmp", errno: ENOENT)) {
            try writer.write("x")
        }
    }

    /// `<name>.tmp` pointing at /dev/full makes the write fail with ENOSPC for real.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/dev/full")))
    func fullDiskIsReportedDistinctly() throws {
        let directory = try CheckpointScratchDirectory()
        defer { directory.remove() }
        let writer = AtomicFileWriter(path: directory.file("data"))
        try writer.write("old")
        try FileManager.default.createSymbolicLink(atPath: directory.file("data.tmp"), withDestinationPath: "/dev/full")

        let bytes = [UInt8](repeating: 7, count: 10_000)
        #expect(throws: AtomicFileError.diskFull(path: directory.file("data.tmp"))) {
            try writer.write(bytes)
        }
        #expect(try writer.readText() == "old")
        #expect(!directory.exists("data.tmp"))
    }

    @Test func errnoMapping() {
        #expect(AtomicFileError.failure(.write, path: "p", errno: ENOSPC) == .diskFull(path: "p"))
        #expect(AtomicFileError.failure(.sync, path: "p", errno: EDQUOT) == .diskFull(path: "p"))
        #expect(AtomicFileError.failure(.rename, path: "p", errno: EACCES) == .ioFailure(operation: .rename, path: "p", errno: EACCES))
        #expect(AtomicFileError.ioFailure(operation: .open, path: "p", errno: ENOENT).description.contains("No such file"))
    }

    @Test func oversizedFileIsRejected() throws {
        let directory = try CheckpointScratchDirectory()
        defer { directory.remove() }
        try directory.write("data", String(repeating: "x", count: 100))
        var configuration = AtomicFileWriter.Configuration()
        configuration.maxReadBytes = 99
        let writer = AtomicFileWriter(path: directory.file("data"), configuration: configuration)
        #expect(throws: AtomicFileError.fileTooLarge(path: directory.file("data"), size: 100, limit: 99)) {
            try writer.read()
        }
    }

    @Test(arguments: [
        ("/a/b/c", "/a/b"),
        ("/c", "/"),
        ("c", "."),
        ("dir/c", "dir"),
    ])
    func directoryOfPath(path: String, directory: String) {
        #expect(AtomicFileWriter(path: path).directoryPath == directory)
        #expect(AtomicFileWriter(path: path).temporaryPath == path + ".tmp")
    }

    @Test func newFilesGetTheConfiguredPermissions() throws {
        let directory = try CheckpointScratchDirectory()
        defer { directory.remove() }
        var configuration = AtomicFileWriter.Configuration()
        configuration.permissions = 0o600
        try AtomicFileWriter(path: directory.file("data"), configuration: configuration).write("x")
        let attributes = try FileManager.default.attributesOfItem(atPath: directory.file("data"))
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    }
}
