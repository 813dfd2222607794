import BrookModel
import BrookRecords
import Foundation
import NIOCore
import PropertyBased
import Synchronization
import Testing

@testable import BrookStorage

/// A fresh partition directory under the system temp folder; `remove()` deletes it (tests call
/// it in `defer`).
struct LogTestDirectory {
    let path: String

    init(_ label: String = "log") throws {
        path = FileManager.default.temporaryDirectory.path + "/brook-\(label)-\(UUID().uuidString)/topic-0"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// Segment file name for a base offset: `00000000000000000042.log`.
    func segmentFile(_ base: Int64, _ extension: String = "log") -> String {
        file(String(format: "%020lld", base) + "." + `extension`)
    }

    var fileNames: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    func bytes(_ path: String) -> [UInt8] {
        FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? []
    }

    func write(_ path: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? -1
    }

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    func remove() {
        try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
    }
}

/// A clock the test moves by hand.
final class ManualLogClock: LogClock {
    private let now: Mutex<Int64>

    init(_ start: Int64 = 1_700_000_000_000) { now = Mutex(start) }

    func nowMilliseconds() -> Int64 { now.withLock { $0 } }

    func advance(by milliseconds: Int64) { now.withLock { $0 += milliseconds } }
}

enum LogFixtures {
    static let baseTime: Int64 = 1_700_000_000_000

    /// Seeds for property tests. Not shrunk: a smaller seed is just another random case.
    static var seeds: Generator<UInt64, Shrink.None<UInt64>> {
        Generator { rng in UInt64.random(in: .min ... .max, using: &rng) }
    }

    /// A producer batch of `count` records with the given timestamps (one per record, or the
    /// same for all), values `valueSize` bytes long whose bytes spell `tag`.
    static func batch(
        count: Int = 1,
        timestamps: [Int64]? = nil,
        timestamp: Int64 = baseTime,
        valueSize: Int = 10,
        tag: UInt8 = 0,
        compression: CompressionCodec = .none,
        baseOffset: Int64 = 0,
        leaderEpoch: Int32 = -1
    ) -> ByteBuffer {
        var configuration = RecordBatchBuilder.Configuration(baseOffset: baseOffset, compression: compression)
        configuration.partitionLeaderEpoch = leaderEpoch
        var builder = RecordBatchBuilder(configuration: configuration)
        for index in 0..<count {
            var value = ByteBufferAllocator().buffer(capacity: valueSize)
            value.writeRepeatingByte(tag &+ UInt8(truncatingIfNeeded: index), count: valueSize)
            builder.append(timestamp: timestamps?[index] ?? timestamp, key: nil, value: value)
        }
        return try! builder.build()
    }

    /// Concatenates batches into one request buffer.
    static func request(_ batches: [ByteBuffer]) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: batches.reduce(0) { $0 + $1.readableBytes })
        for batch in batches {
            buffer.writeImmutableBuffer(batch)
        }
        return buffer
    }

    /// The batches of a read result.
    static func batches(_ result: LogReadResult) throws -> [RecordBatch] {
        guard let region = result.region else { return [] }
        return try RecordBatchReader.batches(in: try region.readBytes())
    }

    /// Every batch of the log, by reading from the log start offset to the end.
    static func allBatches(_ log: PartitionLog, maxBytes: Int = 1 << 20) throws -> [RecordBatch] {
        var batches: [RecordBatch] = []
        var offset = log.logStartOffset
        while true {
            let result = try log.read(from: offset, maxBytes: maxBytes)
            let found = try Self.batches(result)
            if found.isEmpty { return batches }
            batches += found
            offset = result.nextOffset
        }
    }

    static func config(_ overrides: [String: String] = [:]) -> LogConfig {
        try! LogConfig(overrides: overrides)
    }

    /// Opens (or creates) a log in `directory` with a manual clock.
    static func open(
        _ directory: LogTestDirectory,
        _ overrides: [String: String] = [:],
        clock: ManualLogClock = ManualLogClock(),
        recoveryPoint: Int64 = 0,
        clean: Bool = true
    ) throws -> PartitionLog {
        try PartitionLog.open(
            directory: directory.path, config: config(overrides), recoveryPoint: recoveryPoint,
            hadCleanShutdown: clean, clock: clock)
    }
}

extension ByteBuffer {
    /// The readable bytes as an array.
    var logTestBytes: [UInt8] { getBytes(at: readerIndex, length: readableBytes) ?? [] }
}
