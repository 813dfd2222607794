/// A small text file a log owns (`leader-epoch-checkpoint`, `partition.metadata`), replaced
/// atomically and durably through ``AtomicFileWriter``, with failures as ``StorageError``.
struct LogTextFile {
    let path: String

    /// The file's text, nil when there is none.
    func read() throws(StorageError) -> String? {
        do throws(AtomicFileError) {
            return try AtomicFileWriter(path: path).readText()
        } catch {
            throw StorageError(error)
        }
    }

    /// Replaces the file's text.
    func write(_ text: String) throws(StorageError) {
        do throws(AtomicFileError) {
            try AtomicFileWriter(path: path).write(text)
        } catch {
            throw StorageError(error)
        }
    }

    /// Deletes a temporary file left by an interrupted write.
    func removeLeftoverTemporaryFile() throws(StorageError) {
        do throws(AtomicFileError) {
            try AtomicFileWriter(path: path).removeLeftoverTemporaryFile()
        } catch {
            throw StorageError(error)
        }
    }
}
