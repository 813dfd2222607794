import Synchronization

/// Whether a log directory (one of `log.dirs`) can still be trusted, shared by every log in it.
///
/// A failed write, fsync, truncation or rename in any log of the directory takes the whole
/// directory offline, as in Kafka: after a failed fsync the kernel may have dropped the dirty
/// pages, and a later fsync that succeeds says nothing about them, so retrying would advance
/// the recovery point over data that never reached the disk. From then on every log in the
/// directory answers ``StorageError/directoryOffline(directory:cause:)`` to reads and writes,
/// and nothing in it is flushed or checkpointed again; the next start recovers it from the
/// last recovery point. The first failure is reported once to `onOffline`.
///
/// Thread-safe; the online check is one atomic load.
public final class LogDirectoryHealth: Sendable {
    /// The log directory.
    public let directory: String
    private let offline = Atomic<Bool>(false)
    private let cause = Mutex<StorageError?>(nil)
    private let onOffline: @Sendable (String, StorageError) -> Void

    public init(directory: String, onOffline: @escaping @Sendable (String, StorageError) -> Void = { _, _ in }) {
        self.directory = directory
        self.onOffline = onOffline
    }

    /// Whether the directory is still served.
    public var isOnline: Bool { !offline.load(ordering: .acquiring) }

    /// The failure that took the directory offline, if one did.
    public var failure: StorageError? { cause.withLock { $0 } }

    /// Throws ``StorageError/directoryOffline(directory:cause:)`` once the directory is offline.
    @inline(__always)
    public func check() throws(StorageError) {
        guard offline.load(ordering: .acquiring) else { return }
        throw .directoryOffline(directory: directory, cause: failure?.description ?? "an earlier failure")
    }

    /// Takes the directory offline because of `error`; only the first call reports.
    public func markOffline(_ error: StorageError) {
        let first = cause.withLock { cause -> Bool in
            guard cause == nil else { return false }
            cause = error
            return true
        }
        offline.store(true, ordering: .releasing)
        if first { onOffline(directory, error) }
    }

    /// Runs `body`; a disk failure it throws takes the directory offline before it propagates.
    @inline(__always)
    func guarding<T>(_ body: () throws(StorageError) -> T) throws(StorageError) -> T {
        try check()
        do {
            return try body()
        } catch {
            if error.isDiskFailure { markOffline(error) }
            throw error
        }
    }
}
