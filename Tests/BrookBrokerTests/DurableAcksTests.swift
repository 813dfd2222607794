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
        #expect(log.recoveryPoint == 2, "the answer came after the fsync")
    }

    @Test(arguments: [Int16(1), -1]) func acksOneAndWriteCachingAnswerFromThePageCache(acks: Int16) async throws {
        let fixture = try PartitionFixture()
        defer { fixture.remove() }
        try fixture.topic("t", configs: acks == -1 ? ["write.caching": "true"] : [:])
        let answer = try await serve(fixture.handler, ProducedBatch.request("t", try ProducedBatch.make(["a"]), acks: acks), version: 9).first
        #expect(answer.errorCode == ErrorCode.none.code)
        #expect(fixture.partition("t").log.recoveryPoint == 0)
    }

    @Test func theBrokerDefaultWriteCachingApplies() async throws {
        let fixture = try PartitionFixture(overrides: ["log.write.caching=true"])
        defer { fixture.remove() }
        try fixture.topic("t")
        _ = try await serve(fixture.handler, ProducedBatch.request("t", try ProducedBatch.make(["a"]), acks: -1), version: 9)
        #expect(fixture.partition("t").log.recoveryPoint == 0)
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
        #expect(fixture.partition("t").log.recoveryPoint == Int64(requests))
        // Each fsync takes 50 ms while the other requests append: far fewer fsyncs than requests.
        #expect(watch.syncs.load(ordering: .relaxed) < requests / 2)
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
        #expect(fixture.partition("t").log.recoveryPoint == 0)
    }
}
