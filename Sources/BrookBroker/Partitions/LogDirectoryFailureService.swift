import BrookStorage
import Logging
import ServiceLifecycle

/// Watches the log directories, as Kafka's log directory failure handler does: each directory
/// a disk failure takes offline is logged (its partitions answer KAFKA_STORAGE_ERROR from then
/// on, the others keep serving), and when no directory is left online, or the metadata log's
/// directory fails, the broker stops, saying why (the service throws, and the service group
/// shuts everything else down gracefully). The next start recovers the failed directories from
/// their last recovery points.
struct LogDirectoryFailureService: Service {
    /// Why the broker stopped.
    struct Stopped: Error, CustomStringConvertible {
        let directory: String
        let cause: StorageError
        let reason: String
        var description: String { "stopping: log directory \(directory) failed (\(cause)); \(reason)" }
    }

    let failures: AsyncStream<(String, StorageError)>
    let logDirs: [String]
    let metadataDirectory: String
    let logger: Logger

    func run() async throws {
        var offline: Set<String> = []
        for await (directory, cause) in failures.cancelOnGracefulShutdown() {
            offline.insert(directory)
            logger.error(
                "log directory \(directory) is offline after a disk failure: \(cause); its partitions answer KAFKA_STORAGE_ERROR until a restart recovers them")
            if directory == metadataDirectory {
                throw Stopped(directory: directory, cause: cause, reason: "it holds the metadata log")
            }
            if offline.isSuperset(of: logDirs) {
                throw Stopped(directory: directory, cause: cause, reason: "no log directory is left online")
            }
        }
    }
}
