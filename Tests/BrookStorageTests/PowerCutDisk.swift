#if canImport(Glibc)
import Glibc
#endif
import BrookStorage
import Foundation
import Synchronization

/// A simulated disk for crash tests: it watches the storage layer's fsyncs (through
/// ``StorageFaults``) and can then say what a power cut at this moment would leave on disk.
///
/// The model is POSIX's, strictly: a file's bytes are durable as of its last `fsync`
/// (`fdatasync`), and a directory's entries (creations, renames, unlinks) as of the directory's
/// last `fsync`. Data follows the inode, so a file fsynced under a temporary name and then
/// renamed keeps its bytes if the rename was made durable. Anything else is lost — except that,
/// with `tornWrites`, a file may also keep a random prefix of what was appended to it after its
/// last fsync (the disk wrote part of the page cache before power went), the way appends tear.
final class PowerCutDisk: StorageFaultInjector {
    private struct State {
        /// Durable contents by inode.
        var data: [UInt64: [UInt8]] = [:]
        /// Durable entries (name → inode) by directory path.
        var entries: [String: [String: UInt64]] = [:]
    }

    private let state = Mutex(State())

    func fault(for operation: StorageError.FileOperation, path: String) -> StorageFault? {
        switch operation {
        case .sync:
            // Called just before the real fsync: what the file holds now is what it persists.
            guard let inode = Self.inode(path), let bytes = FileManager.default.contents(atPath: path) else { return nil }
            state.withLock { $0.data[inode] = [UInt8](bytes) }
        case .syncDirectory:
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            var listing: [String: UInt64] = [:]
            for name in names {
                if let inode = Self.inode(path + "/" + name) { listing[name] = inode }
            }
            state.withLock { $0.entries[path] = listing }
        default:
            break
        }
        return nil
    }

    /// Writes into `target` (an empty directory) what a power cut now would leave of `directory`
    /// (one directory level, as a partition's folder is). `random` decides torn writes.
    func powerCut<R: RandomNumberGenerator>(
        of directory: String, into target: String, tornWrites: Bool, using random: inout R
    ) throws {
        let (entries, data) = state.withLock { ($0.entries[directory] ?? [:], $0.data) }
        for (name, inode) in entries.sorted(by: { $0.key < $1.key }) {
            var bytes = data[inode] ?? []
            if tornWrites, Bool.random(using: &random),
               let current = FileManager.default.contents(atPath: directory + "/" + name),
               Self.inode(directory + "/" + name) == inode, current.count > bytes.count,
               [UInt8](current.prefix(bytes.count)) == bytes {
                // Part of what was appended since the last fsync reached the disk.
                let extra = Int.random(in: 0...(current.count - bytes.count), using: &random)
                bytes = [UInt8](current.prefix(bytes.count + extra))
            }
            FileManager.default.createFile(atPath: target + "/" + name, contents: Data(bytes))
        }
    }

    private static func inode(_ path: String) -> UInt64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return UInt64(info.st_ino)
    }
}
