#if canImport(Glibc)
import Glibc
#endif
import BrookBroker
import BrookClient
import BrookModel
import BrookProtocol
import BrookRecords
import BrookStorage
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import Testing

/// fsync fails with EIO on every file under one directory once armed.
private final class FailingSyncs: StorageFaultInjector {
    let armed = Atomic<Bool>(false)
    func fault(for operation: StorageError.FileOperation, path: String) -> StorageFault? {
        operation == .sync && armed.load(ordering: .relaxed) ? .fail(errno: EIO) : nil
    }
}

/// A broker whose only log directory fails: the failing request answers KAFKA_STORAGE_ERROR and
/// the broker stops, saying why, instead of serving from a disk it can no longer trust.
@Suite struct DiskFailureTests {
    private func produce(_ connection: BrokerConnection, _ value: String) async throws -> Int16 {
        var builder = RecordBatchBuilder(configuration: .init(compression: .none))
        builder.append(timestamp: 1_700_000_000_000, key: nil, value: ByteBuffer(string: value))
        let request = ProduceRequest(acks: 1, timeoutMs: 5_000, topicData: [
            .init(name: "t", partitionData: [.init(index: 0, records: try builder.build())]),
        ])
        let response = try await connection.send(request)
        return response.responses[0].partitionResponses[0].errorCode
    }

    @Test func aFailedFsyncOfTheOnlyLogDirectoryStopsTheBrokerSayingWhy() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("brook-disk-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = try BrokerConfig(overrides: [
            "listeners=PLAINTEXT://127.0.0.1:0", "log.dirs=\(directory)", "log.flush.interval.messages=1",
        ])
        let logger = Logger(label: "disk-failure-test")
        let broker = try await Broker.start(config: config, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: broker.services.map { .init(service: $0, failureTerminationBehavior: .gracefullyShutdownGroup) },
            logger: logger))
        let disk = FailingSyncs()
        let fault = StorageFaults.install(disk, under: directory)
        defer { StorageFaults.remove(fault) }

        let stopped: Result<Void, any Error> = await withTaskGroup(of: Result<Void, any Error>?.self) { tasks in
            tasks.addTask {
                do { try await group.run(); return .success(()) } catch { return .failure(error) }
            }
            tasks.addTask {
                do {
                    let cluster = try await Cluster.connect(bootstrapServers: "127.0.0.1:\(broker.boundListeners[0].port)")
                    let connection = try await cluster.connection(to: 1)
                    let created = try await connection.send(CreateTopicsRequest(
                        topics: [.init(name: "t", numPartitions: 1, replicationFactor: 1)], timeoutMs: 5_000))
                    #expect(created.topics.map(\.errorCode) == [0])
                    #expect(try await produce(connection, "kept") == 0)
                    disk.armed.store(true, ordering: .relaxed)
                    #expect(try await produce(connection, "unsure") == ErrorCode.kafkaStorageError.rawValue)
                } catch {
                    Issue.record("client side failed: \(error)")
                    await group.triggerGracefulShutdown()
                }
                return nil
            }
            var outcome: Result<Void, any Error> = .success(())
            for await result in tasks {
                if let result { outcome = result }
            }
            return outcome
        }
        guard case .failure(let error) = stopped else {
            Issue.record("the broker kept running on a failed disk")
            return
        }
        #expect("\(error)".contains("stopping: log directory \(directory) failed"))
    }
}
