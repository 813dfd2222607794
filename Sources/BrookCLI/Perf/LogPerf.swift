import ArgumentParser
import BrookModel
import BrookRecords
import BrookStorage
import Foundation
import NIOCore

struct LogAppendPerf: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log-append",
        abstract: "Append batches to a fresh partition log and report the rate (compare: dd of the same bytes)."
    )

    @Option(help: "Directory for the log (created; must not exist).") var dir: String
    @Option(help: "Bytes per batch (exact when at least 100).") var batchBytes: Int = 16_384
    @Option(help: "Total bytes to append.") var totalBytes: Int = 1 << 30
    @Flag(help: "fsync at the end (include the time to reach the disk).") var sync = false

    func run() throws {
        let batch = try makeBatch(bytes: batchBytes)
        let log = try PartitionLog.open(directory: dir, config: perfLogConfig(), recoveryPoint: 0, hadCleanShutdown: true)
        let count = max(1, totalBytes / batch.readableBytes)
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<count {
            _ = try log.append(batch, leaderEpoch: LeaderEpoch(0))
        }
        if sync { try log.flush() }
        let elapsed = (clock.now - start).seconds
        try log.close()
        let bytes = count * batch.readableBytes
        print("log-append: \(count) batches of \(batch.readableBytes) B, \(bytes) bytes in \(String(format: "%.3f", elapsed)) s, \(Rate.megabytesPerSecond(bytes: bytes, seconds: elapsed))\(sync ? " (fsynced)" : "")")
    }
}

struct LogReadPerf: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log-read",
        abstract: "Read a whole partition log by offset, 1 MiB at a time, and report the rate (compare: cat)."
    )

    @Option(help: "Directory of an existing log.") var dir: String

    func run() throws {
        let log = try PartitionLog.open(directory: dir, config: perfLogConfig(), recoveryPoint: Int64.max, hadCleanShutdown: true)
        let clock = ContinuousClock()
        let start = clock.now
        var offset = log.logStartOffset
        var bytes = 0
        let allocator = ByteBufferAllocator()
        while offset < log.logEndOffset {
            let result = try log.read(from: offset, maxBytes: 1 << 20)
            guard let region = result.region else { break }
            let chunk = try region.readBytes(allocator: allocator)
            bytes += chunk.readableBytes
            offset = result.nextOffset
        }
        let elapsed = (clock.now - start).seconds
        try log.close()
        print("log-read: \(bytes) bytes in \(String(format: "%.3f", elapsed)) s, \(Rate.megabytesPerSecond(bytes: bytes, seconds: elapsed))")
    }
}

struct LogRecoverPerf: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log-recover",
        abstract: "Open a log as after a crash (recovery point 0: every batch is validated) and time it."
    )

    @Option(help: "Directory of an existing log.") var dir: String

    func run() throws {
        let clock = ContinuousClock()
        let start = clock.now
        let log = try PartitionLog.open(directory: dir, config: perfLogConfig(), recoveryPoint: 0, hadCleanShutdown: false)
        let elapsed = (clock.now - start).seconds
        let bytes = log.sizeInBytes
        print("log-recover: \(bytes) bytes, log end offset \(log.logEndOffset), in \(String(format: "%.3f", elapsed)) s, \(Rate.megabytesPerSecond(bytes: bytes, seconds: elapsed))")
        try log.close()
    }
}

struct LogOpenPerf: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log-open",
        abstract: "Create many small partition logs, shut down cleanly, and time opening them all again."
    )

    @Option(help: "Log directory (created; must not exist).") var dir: String
    @Option(help: "Number of partitions.") var partitions: Int = 10_000

    func run() async throws {
        let batch = try makeBatch(bytes: 1_024)
        let config = try LogConfig(overrides: ["segment.bytes": "1048576", "segment.index.bytes": "65536"])
        try Self.create(partitions: partitions, in: dir, config: config, batch: batch)
        let clock = ContinuousClock()
        let start = clock.now
        let reopened = try LogManager(configuration: .init(logDirs: [dir]))
        let logs = try await reopened.loadLogs { _ in config }
        let elapsed = (clock.now - start).seconds
        let descriptors = FileDescriptorLimit.openCount().map { ", \($0) descriptors open" } ?? ""
        print("log-open: \(logs.count) partitions opened after a clean shutdown in \(String(format: "%.3f", elapsed)) s\(descriptors)")
        try reopened.shutdown()
    }

    /// Creates the partitions and shuts down cleanly; the manager (and its files) are released on return.
    private static func create(partitions: Int, in dir: String, config: LogConfig, batch: ByteBuffer) throws {
        let manager = try LogManager(configuration: .init(logDirs: [dir]))
        for index in 0..<partitions {
            let log = try manager.getOrCreate(TopicPartition(topic: "perf", partition: Int32(index)), config: config)
            _ = try log.append(batch, leaderEpoch: LeaderEpoch(0))
        }
        try manager.shutdown()
    }
}
