#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

import Synchronization

/// A seam for tests: faults injected into the storage layer's system calls, for the files under
/// one directory. A test installs an injector for its own temporary directory, so tests running
/// in parallel never see each other's faults; with no injector installed the check is one
/// atomic load.
///
/// An injector can fail a call with an errno (EIO, ENOSPC...) before it reaches the kernel —
/// at the Nth write, at every fsync, on one file — or slow it down (a slow disk).
public protocol StorageFaultInjector: Sendable {
    /// What to do to `operation` on `path` (a file under the injector's directory).
    func fault(for operation: StorageError.FileOperation, path: String) -> StorageFault?
}

/// One injected fault.
public enum StorageFault: Sendable, Equatable {
    /// The call fails with this errno (mapped as the real failure would be).
    case fail(errno: Int32)
    /// The call is delayed, then runs.
    case delay(Duration)
}

/// The installed injectors, by directory.
public enum StorageFaults {
    private struct Entry: Sendable {
        let id: UInt64
        let directory: String
        let injector: any StorageFaultInjector
    }

    private static let installed = Atomic<Int>(0)
    private static let entries = Mutex<(next: UInt64, all: [Entry])>((0, []))

    /// Injects `injector`'s faults into calls on files under `directory` until ``remove(_:)``.
    public static func install(_ injector: any StorageFaultInjector, under directory: String) -> UInt64 {
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        let id = entries.withLock { state in
            defer { state.next += 1 }
            state.all.append(Entry(id: state.next, directory: prefix, injector: injector))
            return state.next
        }
        installed.add(1, ordering: .sequentiallyConsistent)
        return id
    }

    /// Removes an injector installed with ``install(_:under:)``.
    public static func remove(_ id: UInt64) {
        let removed = entries.withLock { state -> Bool in
            guard let index = state.all.firstIndex(where: { $0.id == id }) else { return false }
            state.all.remove(at: index)
            return true
        }
        if removed { installed.subtract(1, ordering: .sequentiallyConsistent) }
    }

    /// Applies any fault injected for `operation` on `path`: throws its failure or sleeps its delay.
    @inline(__always)
    static func check(_ operation: StorageError.FileOperation, path: @autoclosure () -> String) throws(StorageError) {
        guard installed.load(ordering: .relaxed) > 0 else { return }
        try apply(operation, path: path())
    }

    /// ``check(_:path:)`` for callers that report failures as an errno (the checkpoint writer).
    @inline(__always)
    static func injectedErrno(_ operation: StorageError.FileOperation, path: @autoclosure () -> String) -> Int32? {
        guard installed.load(ordering: .relaxed) > 0 else { return nil }
        do {
            try apply(operation, path: path())
            return nil
        } catch {
            switch error {
            case .io(let code, _, _): return code
            case .diskFull: return ENOSPC
            default: return EIO
            }
        }
    }

    private static func apply(_ operation: StorageError.FileOperation, path: String) throws(StorageError) {
        let injectors = entries.withLock { state in
            state.all.filter { path.hasPrefix($0.directory) || path + "/" == $0.directory }.map(\.injector)
        }
        for injector in injectors {
            switch injector.fault(for: operation, path: path) {
            case .fail(let code)?:
                throw .failure(operation, path: path, errno: code)
            case .delay(let duration)?:
                let nanoseconds = duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
                var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
                var remaining = timespec()
                while nanosleep(&request, &remaining) != 0 { request = remaining }
            case nil:
                continue
            }
        }
    }
}
