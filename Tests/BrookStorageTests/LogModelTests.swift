import BrookModel
import BrookRecords
import NIOCore
import PropertyBased
import Testing

@testable import BrookStorage

/// Random appends, reads, truncations, DeleteRecords, retention deletions, flushes, ListOffsets
/// and reopenings (clean and after a simulated crash) against an in-memory model of the log.
/// Tiny segments and indexes make the log roll often, on size, time, full indexes.
@Suite struct LogModelTests {
    @Test func randomOperationsMatchTheModel() async {
        await propertyCheck(count: 60, input: LogFixtures.seeds) { seed in
            var run = try LogModelRun(seed: seed)
            defer { run.directory.remove() }
            try run.run(operations: 90)
        }
    }
}

/// What the log should hold.
struct LogModel {
    struct Record: Equatable {
        var offset: Int64
        var timestamp: Int64
        var value: [UInt8]
    }

    struct Batch: Equatable {
        var baseOffset: Int64
        var lastOffset: Int64
        var epoch: Int32
        var maxTimestamp: Int64
        var logAppendTime: Bool
        var records: [Record]
    }

    /// Every batch not truncated away, oldest first (some may lie below the log start offset).
    var batches: [Batch] = []
    var logStartOffset: Int64 = 0
    var logEndOffset: Int64 = 0
    /// (epoch, start offset), as Kafka's leader epoch cache behaves for a leader.
    var epochs: [(epoch: Int32, start: Int64)] = []

    /// Batches a read from the log start offset returns.
    var visible: [Batch] { batches.filter { $0.lastOffset >= logStartOffset } }

    mutating func assignEpoch(_ epoch: Int32, start: Int64) {
        if let last = epochs.last, last.epoch == epoch, last.start <= start { return }
        epochs.removeAll { $0.epoch >= epoch || $0.start >= start }
        epochs.append((epoch, start))
    }

    mutating func truncate(to offset: Int64) {
        guard offset < logEndOffset, let cut = batches.firstIndex(where: { $0.lastOffset >= offset }) else {
            // No record goes, but epochs starting at the log end (none written in them) do.
            epochs.removeAll { $0.start >= logEndOffset }
            return
        }
        logEndOffset = batches[cut].baseOffset
        batches.removeSubrange(cut...)
        logStartOffset = min(logStartOffset, logEndOffset)
        epochs.removeAll { $0.start >= logEndOffset }
    }

    mutating func moveStart(to offset: Int64) {
        guard offset > logStartOffset else { return }
        logStartOffset = offset
        guard let keep = epochs.lastIndex(where: { $0.start <= offset }) else { return }
        let epoch = epochs[keep].epoch
        epochs.removeSubrange(0...keep)
        epochs.insert((epoch, offset), at: 0)
    }
}

struct LogModelRun {
    let seed: UInt64
    var random: SplitMix64
    let directory: LogTestDirectory
    let clock = ManualLogClock()
    let overrides: [String: String]
    var log: PartitionLog
    var model = LogModel()
    var epoch: Int32 = 0
    var step = 0
    /// The operations so far, printed with a failure.
    var history: [String] = []

    init(seed: UInt64) throws {
        self.seed = seed
        random = SplitMix64(seed: seed)
        directory = try LogTestDirectory("model")
        var overrides = [
            "segment.bytes": String([300, 700, 1500, 5000].randomElement(using: &random)!),
            "index.interval.bytes": String([0, 60, 250, 4096].randomElement(using: &random)!),
            "segment.index.bytes": String([24, 40, 96, 10_485_760].randomElement(using: &random)!),
            "segment.ms": String([50_000, 604_800_000].randomElement(using: &random)!),
            "file.delete.delay.ms": "0",
        ]
        if Int.random(in: 0..<4, using: &random) == 0 { overrides["message.timestamp.type"] = "LogAppendTime" }
        if Int.random(in: 0..<4, using: &random) == 0 { overrides["flush.messages"] = String(Int.random(in: 1...20, using: &random)) }
        if Int.random(in: 0..<4, using: &random) == 0 { overrides["preallocate"] = "true" }
        self.overrides = overrides
        log = try LogFixtures.open(directory, overrides, clock: clock)
    }

    var context: String { "seed \(seed), step \(step), config \(overrides), history: \(history.suffix(12).joined(separator: "; "))" }

    mutating func run(operations: Int) throws {
        for index in 0..<operations {
            step = index
            clock.advance(by: Int64.random(in: 0...20_000, using: &random))
            history.append("LEO \(model.logEndOffset) LSO \(model.logStartOffset) segments \(log.segmentCount)")
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<40: try append()
            case 40..<58: try read()
            case 58..<66: try truncate()
            case 66..<72: try deleteRecords()
            case 72..<76: try deleteSegments()
            case 76..<84: try reopen()
            case 84..<87: try log.flush()
            default: try listOffsets()
            }
            #expect(log.logEndOffset == model.logEndOffset, "log end offset, \(context)")
            #expect(log.logStartOffset == model.logStartOffset, "log start offset, \(context)")
            if index % 15 == 14 { try checkEverything() }
        }
        try checkEverything()
        try log.close()
    }

    // MARK: Operations

    mutating func append() throws {
        if Int.random(in: 0..<10, using: &random) == 0 { epoch += 1 }
        let logAppendTime = overrides["message.timestamp.type"] == "LogAppendTime"
        let now = clock.nowMilliseconds()
        var buffers: [ByteBuffer] = []
        var expected: [LogModel.Batch] = []
        var next = model.logEndOffset
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            let count = Int.random(in: 1...6, using: &random)
            let codec = [CompressionCodec.none, .none, .lz4, .zstd, .gzip, .snappy].randomElement(using: &random)!
            var builder = RecordBatchBuilder(configuration: .init(compression: codec))
            var records: [LogModel.Record] = []
            for index in 0..<count {
                let timestamp = now - Int64.random(in: -1_000...200_000, using: &random)
                let value = (0..<Int.random(in: 0...120, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                var buffer = ByteBufferAllocator().buffer(capacity: value.count)
                buffer.writeBytes(value)
                builder.append(timestamp: timestamp, key: nil, value: buffer)
                records.append(.init(offset: next + Int64(index), timestamp: logAppendTime ? now : timestamp, value: value))
            }
            buffers.append(try builder.build())
            expected.append(
                .init(
                    baseOffset: next, lastOffset: next + Int64(count - 1), epoch: epoch,
                    maxTimestamp: records.map(\.timestamp).max()!, logAppendTime: logAppendTime, records: records))
            next += Int64(count)
        }
        history.append("append \(expected.count) batches at \(model.logEndOffset) epoch \(epoch)")
        let info = try log.append(LogFixtures.request(buffers), leaderEpoch: LeaderEpoch(epoch))
        #expect(info.firstOffset == model.logEndOffset, "append first offset, \(context)")
        #expect(info.lastOffset == next - 1, "append last offset, \(context)")
        model.assignEpoch(epoch, start: model.logEndOffset)
        model.batches += expected
        model.logEndOffset = next
    }

    mutating func read() throws {
        history.append("read")
        let offset = Int64.random(in: model.logStartOffset...model.logEndOffset, using: &random)
        let maxBytes = Int.random(in: 1...3_000, using: &random)
        let maxOffset: Int64? = Bool.random(using: &random) ? nil : Int64.random(in: offset...model.logEndOffset, using: &random)
        let result = try log.read(from: offset, maxBytes: maxBytes, upTo: maxOffset)
        let batches = try LogFixtures.batches(result)
        let limit = maxOffset ?? model.logEndOffset
        guard offset < limit, let start = model.batches.firstIndex(where: { $0.lastOffset >= offset }),
            model.batches[start].lastOffset < limit
        else {
            #expect(batches.isEmpty, "read from \(offset) up to \(limit) should be empty, \(context)")
            #expect(result.nextOffset == offset)
            return
        }
        #expect(!batches.isEmpty, "read from \(offset) returned nothing, \(context)")
        #expect(result.firstBatchOffset == model.batches[start].baseOffset)
        if batches.count > 1 {
            #expect(result.sizeInBytes <= maxBytes, "read exceeded maxBytes, \(context)")
        }
        for (index, batch) in batches.enumerated() {
            guard start + index < model.batches.count else {
                Issue.record("read returned a batch the model does not have, \(context)")
                return
            }
            let expected = model.batches[start + index]
            try expectSame(batch, expected)
            #expect(expected.lastOffset < limit, "read passed its offset limit, \(context)")
        }
        #expect(result.nextOffset == (batches.last?.lastOffset ?? offset - 1) + 1)
    }

    mutating func truncate() throws {
        let offset = Int64.random(in: model.logStartOffset...model.logEndOffset, using: &random)
        history.append("truncate(to: \(offset))")
        try log.truncate(to: offset)
        model.truncate(to: offset)
    }

    mutating func deleteRecords() throws {
        let offset = Int64.random(in: model.logStartOffset...model.logEndOffset, using: &random)
        history.append("deleteRecordsBefore(\(offset))")
        let start = try log.deleteRecordsBefore(offset)
        model.moveStart(to: offset)
        #expect(start == model.logStartOffset, "DeleteRecords result, \(context)")
        _ = try log.deleteExpiredSegmentFiles()
    }

    mutating func deleteSegments() throws {
        let bound = Int64.random(in: model.logStartOffset...model.logEndOffset, using: &random)
        history.append("deleteSegments(nextOffset <= \(bound))")
        let deleted = try log.deleteSegments { $0.nextOffset <= bound }
        #expect(deleted.allSatisfy { $0.nextOffset <= bound }, "deleted a segment past \(bound), \(context)")
        let start = log.logStartOffset
        #expect(start >= model.logStartOffset && start <= model.logEndOffset, "log start after retention, \(context)")
        model.moveStart(to: start)
        _ = try log.deleteExpiredSegmentFiles()
    }

    mutating func reopen() throws {
        let mode = Int.random(in: 0..<3, using: &random)
        history.append(["reopen clean", "reopen after crash", "reopen after crash, recovery point 0"][mode])
        let recoveryPoint: Int64
        switch mode {
        case 0:
            try log.close()
            recoveryPoint = log.recoveryPoint
        case 1:
            recoveryPoint = log.recoveryPoint
        default:
            recoveryPoint = 0
        }
        log = try PartitionLog.open(
            directory: directory.path, config: LogFixtures.config(overrides), recoveryPoint: recoveryPoint,
            logStartOffset: model.logStartOffset, hadCleanShutdown: mode == 0, clock: clock)
        #expect(log.recoveryPoint == model.logEndOffset, "recovery point after reopen, \(context)")
        try checkEpochs()
    }

    mutating func listOffsets() throws {
        history.append("listOffsets")
        let earliest = try #require(try log.offset(for: .earliest))
        #expect(earliest.offset == model.logStartOffset)
        let latest = try #require(try log.offset(for: .latest))
        #expect(latest.offset == model.logEndOffset)

        let records = model.visible.flatMap(\.records).filter { $0.offset >= model.logStartOffset }
        let stamps = records.map(\.timestamp)
        let low = (stamps.min() ?? clock.nowMilliseconds()) - 10
        let high = (stamps.max() ?? clock.nowMilliseconds()) + 10
        let target = Int64.random(in: low...high, using: &random)
        let found = try log.offset(for: .timestamp(target))
        if let expected = records.first(where: { $0.timestamp >= target }) {
            #expect(found?.offset == expected.offset, "ListOffsets(\(target)), \(context)")
            #expect(found?.timestamp == expected.timestamp, "ListOffsets(\(target)) timestamp, \(context)")
        } else {
            #expect(found == nil, "ListOffsets(\(target)) should find nothing, \(context)")
        }

        let maximum = try log.offset(for: .maxTimestamp)
        if let largest = stamps.max() {
            let answer = try #require(maximum, "max timestamp missing, \(context)")
            #expect(answer.timestamp >= largest, "max timestamp too small, \(context)")
            let all = model.batches.flatMap(\.records)
            #expect(all.contains { $0.offset == answer.offset && $0.timestamp == answer.timestamp }, "max timestamp record, \(context)")
        }
    }

    // MARK: Checks

    func checkEverything() throws {
        var batches: [RecordBatch] = []
        var offset = model.logStartOffset
        while true {
            let result = try log.read(from: offset, maxBytes: Int.random(in: 1...4_000))
            let found = try LogFixtures.batches(result)
            if found.isEmpty { break }
            batches += found
            offset = result.nextOffset
        }
        let visible = model.visible
        #expect(batches.count == visible.count, "batch count, \(context)")
        for (batch, expected) in zip(batches, visible) {
            try expectSame(batch, expected)
        }
        try checkEpochs()
    }

    func checkEpochs() throws {
        let actual = log.epochEntries.map { "\($0.epoch.rawValue)@\($0.startOffset)" }
        let expected = model.epochs.map { "\($0.epoch)@\($0.start)" }
        if actual != expected {
            Issue.record("leader epochs \(actual), expected \(expected), \(context)")
        }
    }

    func expectSame(_ batch: RecordBatch, _ expected: LogModel.Batch) throws {
        try batch.validate()
        #expect(batch.baseOffset == expected.baseOffset, "base offset, \(context)")
        #expect(batch.lastOffset == expected.lastOffset, "last offset, \(context)")
        #expect(batch.partitionLeaderEpoch == expected.epoch, "batch epoch, \(context)")
        #expect(batch.maxTimestamp == expected.maxTimestamp, "batch max timestamp, \(context)")
        #expect((batch.timestampType == .logAppendTime) == expected.logAppendTime)
        let records = try batch.records().map { LogModel.Record(offset: $0.offset, timestamp: $0.timestamp, value: $0.value?.logTestBytes ?? []) }
        #expect(records == expected.records, "records of batch \(expected.baseOffset), \(context)")
    }
}
