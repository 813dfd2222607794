#if canImport(Glibc)
import Glibc
#endif
@testable import BrookBroker
import BrookModel
import BrookProtocol
import BrookRecords
import BrookStorage
import Foundation
import NIOCore
import Synchronization
import Testing

/// Counts fsyncs of `.log` files under a directory, and can make each slow or fail.
private final class SyncWatch: StorageFaultInjector {
    let syncs = Atomic<Int>(0)
    let delay: Duration?
    let failing = Atomic<Bool>(false)

    init(delay: Duration? = nil) { self.delay = delay }

    func fault(for operation: StorageError.FileOperation, path: String) -> StorageFault? {
        guard operation == .sync, path.hasSuffix(".log") else { return nil }
        syncs.add(1, ordering: .relaxed)
        if failing.load(ordering: .relaxed) { return .fail(errno: EIO) }
        return delay.map { .delay($0) }
    }
}

/// Records, by file kind, the syncs made under a directory after it is armed.
private final class SyncLedger: StorageFaultInjector {
    let armed = Atomic<Bool>(false)
    let syncs = Mutex<[String]>([])

    func fault(for operation: StorageError.FileOperation, path: String) -> StorageFault? {
        guard armed.load(ordering: .relaxed) else { return nil }
        switch operation {
        case .sync: syncs.withLock { $0.append(String(path.split(separator: ".").last ?? "")) }
        case .syncDirectory: syncs.withLock { $0.append("directory") }
        default: break
        }
        return nil
    }

    var kinds: [String] { syncs.withLock { $0 } }
}

/// acks=all on one node is answered once the records are fsynced (Brook's durable default),
/// with one group fsync for every request waiting on a partition.
@Suite struct DurableAcksTests {
    @Test func acksAllIsAnsweredOnlyOnceTheRecordsAreFsynced() async throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("t")
        let log = fixture.partition("t").log
        let answer = try await serve(fixture.handler, ProducedBatch.request("t", try ProducedBatch.make(["a", "b"]), acks: -1), version: 9).first
        #expect(answer.errorCode == ErrorCode.none.code)
        #expect(log.durableOffset == 2, "the answer came after the fsync")
    }

    @Test(arguments: [Int16(1), -1]) func acksOneAndWriteCachingAnswerFromThePageCache(acks: Int16) async throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("t", configs: acks == -1 ? ["write.caching": "true"] : [:])
        let answer = try await serve(fixture.handler, ProducedBatch.request("t", try ProducedBatch.make(["a"]), acks: acks), version: 9).first
        #expect(answer.errorCode == ErrorCode.none.code)
        #expect(fixture.partition("t").log.durableOffset == 0)
    }

    @Test func theBrokerDefaultWriteCachingApplies() async throws {
        let fixture = try PartitionFixture(overrides: ["log.write.caching=true"])
        defer { fixture.remove() }
        try fixture.topic("t")
        _ = try await serve(fixture.handler, ProducedBatch.request("t", try ProducedBatch.make(["a"]), acks: -1), version: 9)
        #expect(fixture.partition("t").log.durableOffset == 0)
    }

    @Test func oneFsyncCoversManyWaitingRequests() async throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("t")
        let watch = SyncWatch(delay: .milliseconds(50))
        let fault = StorageFaults.install(watch, under: fixture.directory)
        defer { StorageFaults.remove(fault) }
        let handler = fixture.handler
        let requests = 40
        let codes = try await withThrowingTaskGroup(of: Int16.self) { group in
            for index in 0..<requests {
                group.addTask {
                    try await serve(handler, ProducedBatch.request("t", try ProducedBatch.make(["k\(index)"]), acks: -1), version: 9)
                        .first.errorCode
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(codes.allSatisfy { $0 == ErrorCode.none.code })
        #expect(fixture.partition("t").log.durableOffset == Int64(requests))
        // Each fsync takes 50 ms while the other requests append: far fewer fsyncs than requests.
        #expect(watch.syncs.load(ordering: .relaxed) < requests / 2)
    }

    @Test func durableAcksSyncTheLogFileAloneAndTheDirectoryAfterARoll() async throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("t", configs: ["segment.bytes": "20000"])
        let ledger = SyncLedger()
        let fault = StorageFaults.install(ledger, under: fixture.directory)
        defer { StorageFaults.remove(fault) }
        let log = fixture.partition("t").log
        _ = try await serve(fixture.handler, ProducedBatch.request("t", try ProducedBatch.make(["a"]), acks: -1), version: 9)
        ledger.armed.store(true, ordering: .relaxed)
        _ = try await serve(fixture.handler, ProducedBatch.request("t", try ProducedBatch.make(["b"]), acks: -1), version: 9)
        _ = try await serve(fixture.handler, ProducedBatch.request("t", try ProducedBatch.make(["c"]), acks: -1), version: 9)
        #expect(ledger.kinds == ["log", "log"], "no index or directory syncs without a new segment")
        #expect(log.durableOffset == 3)
        #expect(log.recoveryPoint < 3, "the recovery point is left to the regular flush")

        ledger.syncs.withLock { $0 = [] }
        // Over 20 000 bytes: the next append rolls to a new segment, whose directory entry the
        // durable sync makes durable too.
        _ = try await serve(fixture.handler, ProducedBatch.request("t", try ProducedBatch.make([String(repeating: "x", count: 20_000)]), acks: -1), version: 9)
        _ = try await serve(fixture.handler, ProducedBatch.request("t", try ProducedBatch.make(["d"]), acks: -1), version: 9)
        #expect(log.durableOffset == 5)
        let kinds = ledger.kinds
        #expect(!kinds.contains("index") && !kinds.contains("timeindex"), "\(kinds)")
        // Both appends roll (the second because the 20 000-byte record filled the new segment).
        // Each roll writes a producer state snapshot (a temporary file, synced, renamed, then the
        // directory synced), and the durable sync after it syncs the directory once.
        let rolls = kinds.filter { $0 == "tmp" }.count
        #expect(rolls == 2, "\(kinds)")
        #expect(kinds.filter { $0 == "directory" }.count == 2 * rolls, "\(kinds)")
    }

    @Test func aFailedFsyncAnswersKafkaStorageErrorToEveryWaiter() async throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("t")
        let watch = SyncWatch()
        watch.failing.store(true, ordering: .relaxed)
        let fault = StorageFaults.install(watch, under: fixture.directory)
        defer { StorageFaults.remove(fault) }
        let answer = try await serve(fixture.handler, ProducedBatch.request("t", try ProducedBatch.make(["a"]), acks: -1), version: 9).first
        #expect(answer.errorCode == ErrorCode.kafkaStorageError.code)
        #expect(fixture.partition("t").log.durableOffset == 0)
    }
}
