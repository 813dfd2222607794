import Testing

@testable import BrookStorage

@Suite struct CheckpointCleanShutdownMarkerTests {
    @Test func createExistsRemoveCycle() throws {
        let directory = try CheckpointScratchDirectory("marker")
        defer { directory.remove() }
        let marker = CleanShutdownMarker(logDirectory: directory.path)
        #expect(marker.path == directory.file(".kafka_cleanshutdown"))

        #expect(!marker.exists())
        #expect(try marker.readBrokerEpoch() == nil)
        #expect(try !marker.remove())

        try marker.create(brokerEpoch: 42)
        #expect(marker.exists())
        #expect(directory.contents(".kafka_cleanshutdown") == "{\"version\":0,\"brokerEpoch\":42}")
        #expect(try marker.readBrokerEpoch() == 42)

        #expect(try marker.remove())
        #expect(!marker.exists())
        #expect(try !marker.remove())
    }

    @Test func unknownEpochIsMinusOneAndReadsAsNil() throws {
        let directory = try CheckpointScratchDirectory("marker")
        defer { directory.remove() }
        let marker = CleanShutdownMarker(logDirectory: directory.path)
        try marker.create()
        #expect(directory.contents(".kafka_cleanshutdown") == "{\"version\":0,\"brokerEpoch\":-1}")
        #expect(marker.exists())
        #expect(try marker.readBrokerEpoch() == nil)
    }

    @Test(arguments: [
        ("", nil),
        ("garbage", nil),
        ("{\"version\":0, \"brokerEpoch\" : 7}", 7),
        ("{\"brokerEpoch\":12345678901,\"version\":0}", 12_345_678_901),
        ("{\"version\":0,\"brokerEpoch\":\"x\"}", nil),
    ] as [(String, Int64?)])
    func brokerEpochReadingIsLenient(content: String, epoch: Int64?) throws {
        let directory = try CheckpointScratchDirectory("marker")
        defer { directory.remove() }
        try directory.write(".kafka_cleanshutdown", content)
        let marker = CleanShutdownMarker(logDirectory: directory.path)
        #expect(marker.exists())
        #expect(try marker.readBrokerEpoch() == epoch)
    }

    @Test func interruptedCreationLeavesNoMarker() throws {
        let directory = try CheckpointScratchDirectory("marker")
        defer { directory.remove() }
        var configuration = AtomicFileWriter.Configuration()
        configuration.interruptAfter = .temporaryFileWritten
        let crashing = CleanShutdownMarker(logDirectory: directory.path, configuration: configuration)
        #expect(throws: AtomicFileError.interrupted(after: .temporaryFileWritten)) {
            try crashing.create(brokerEpoch: 1)
        }
        let marker = CleanShutdownMarker(logDirectory: directory.path)
        #expect(!marker.exists())
        // Removal at startup also clears the leftover temporary file.
        #expect(try !marker.remove())
        #expect(!directory.exists(".kafka_cleanshutdown.tmp"))
    }
}
