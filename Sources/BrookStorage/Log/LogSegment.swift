import Synchronization

/// One segment of a partition's log: `<base>.log` with its `.index`, `.timeindex` and, once an
/// ABORT marker lands in it, `.txnindex` (``TransactionIndex``).
///
/// The `.log` file is the batches exactly as validated and stamped (Kafka's v2 record batches,
/// back to back, nothing else: no header, no footer), so a fetch can send its bytes unchanged.
/// Only the active (last) segment is appended to; the others change only by truncation or
/// deletion. See ``OffsetIndex`` and ``TimeIndex`` for the index files.
///
/// Crash behaviour: bytes are written with `pwrite` at the end of the valid data and become
/// visible to readers only after the write returned (the partition publishes the new log end
/// offset afterwards). A crash can leave a torn batch, zeros (preallocation, or a file system
/// that extended the file before writing the data) or stale index entries past the valid data;
/// ``recover(onBatch:)`` cuts all of it and rebuilds the indexes.
///
/// Descriptors: the `.log` stays open for the segment's lifetime (reads and file regions need
/// it); the index files hold none and are opened only while they are read or written (see
/// ``IndexFile``), so each segment costs one descriptor.
///
/// Thread safety: `Sendable`. The mutable state (size, indexes, timestamps) sits behind a mutex
/// held only for in-memory work. One writer at a time (the partition's write lock) appends,
/// truncates or rolls; readers scan bytes below the size they observed without any lock, since
/// appends never rewrite written bytes.
final class LogSegment: Sendable {
    let baseOffset: Int64
    let directory: String
    /// The `.log` file.
    let log: SegmentFile
    let state: Mutex<State>

    struct State {
        /// Bytes of valid batches in the `.log` file (the file may be longer while preallocated).
        var size: Int
        var offsetIndex: OffsetIndex
        var timeIndex: TimeIndex
        var transactionIndex: TransactionIndex
        /// Set when an index file was missing or failed the open-time check.
        var indexesNeedRebuild = false
        var bytesSinceLastIndexEntry = 0
        /// index.interval.bytes of the config the segment was last opened or activated with.
        var indexIntervalBytes = 4096
        /// Largest batch maxTimestamp, -1 when unknown or none.
        var maxTimestamp: Int64 = -1
        /// Base offset of the first batch that has ``maxTimestamp``.
        var offsetOfMaxTimestamp: Int64
        /// maxTimestamp of the first batch (what segment.ms is measured from), nil when unknown.
        var firstBatchTimestamp: Int64?
        /// When the segment was created or opened, for segment.ms when batches carry no time.
        var createdMs: Int64
        /// This segment's share of segment.jitter.ms.
        var rollJitterMs: Int64 = 0
        /// Offset after the last batch; nil until the segment is scanned or appended to.
        var nextOffset: Int64?
        /// "" for a live segment, ".deleted" once renamed for deletion.
        var suffix = ""
        /// Length of the `.log` file on disk (> size while preallocated).
        var logFileLength: Int64
        var isActive = false
    }

    private init(baseOffset: Int64, directory: String, log: SegmentFile, state: State) {
        self.baseOffset = baseOffset
        self.directory = directory
        self.log = log
        self.state = Mutex(state)
    }

    func path(_ kind: SegmentFileName.Kind, suffix: String = "") -> String {
        SegmentFileName.path(directory: directory, baseOffset: baseOffset, kind: kind, suffix: suffix)
    }

    /// Creates a new, empty segment (replacing any files of the same name). `suffix` creates a
    /// renamed one (".cleaned" for the cleaner's output).
    static func create(directory: String, baseOffset: Int64, config: LogConfig, now: Int64, suffix: String = "") throws(StorageError) -> LogSegment {
        let name = { (kind: SegmentFileName.Kind) in
            SegmentFileName.path(directory: directory, baseOffset: baseOffset, kind: kind, suffix: suffix)
        }
        let log = try SegmentFile.create(name(.log), truncate: true)
        let offsetIndex = OffsetIndex(
            baseOffset: baseOffset,
            storage: try IndexEntryFile(empty: name(.index)),
            maxEntries: config.maxOffsetIndexEntries)
        let timeIndex = TimeIndex(
            baseOffset: baseOffset,
            storage: try IndexEntryFile(empty: name(.timeIndex)),
            maxEntries: config.maxTimeIndexEntries)
        try FileIO.remove(name(.transactionIndex))
        var state = State(
            size: 0, offsetIndex: offsetIndex, timeIndex: timeIndex,
            transactionIndex: try TransactionIndex(path: name(.transactionIndex)),
            offsetOfMaxTimestamp: baseOffset, createdMs: now, nextOffset: baseOffset, logFileLength: 0)
        state.firstBatchTimestamp = -1
        state.indexIntervalBytes = config.indexIntervalBytes
        state.suffix = suffix
        let segment = LogSegment(baseOffset: baseOffset, directory: directory, log: log, state: state)
        try segment.activate(config: config)
        return segment
    }

    /// Opens an existing segment. Index files are not read yet: only their sizes and last
    /// entries are checked (as Kafka does on open); a missing or implausible index file marks
    /// the indexes for a rebuild. `suffix` opens a renamed segment (".swap").
    static func open(directory: String, baseOffset: Int64, config: LogConfig, now: Int64, suffix: String = "") throws(StorageError) -> LogSegment {
        let name = { (kind: SegmentFileName.Kind) in
            SegmentFileName.path(directory: directory, baseOffset: baseOffset, kind: kind, suffix: suffix)
        }
        let log = try SegmentFile.open(name(.log))
        let logLength = try log.length()
        var needsRebuild = false
        func indexFile<Entry: IndexEntry>(_ kind: SegmentFileName.Kind) throws(StorageError) -> IndexEntryFile<Entry> {
            if let existing = try IndexEntryFile<Entry>(existing: name(kind)) { return existing }
            needsRebuild = true
            return try IndexEntryFile(empty: name(kind))
        }
        let offsetIndex = OffsetIndex(
            baseOffset: baseOffset, storage: try indexFile(.index), maxEntries: config.maxOffsetIndexEntries)
        let timeIndex = TimeIndex(
            baseOffset: baseOffset, storage: try indexFile(.timeIndex), maxEntries: config.maxTimeIndexEntries)
        var state = State(
            size: Int(logLength), offsetIndex: offsetIndex, timeIndex: timeIndex,
            transactionIndex: try TransactionIndex(path: name(.transactionIndex)),
            offsetOfMaxTimestamp: baseOffset, createdMs: now, logFileLength: logLength)
        state.suffix = suffix
        state.indexIntervalBytes = config.indexIntervalBytes
        state.indexesNeedRebuild = needsRebuild
        if !needsRebuild {
            let plausible = Self.quickCheck(&state, baseOffset: baseOffset)
            state.indexesNeedRebuild = !plausible
        }
        return LogSegment(baseOffset: baseOffset, directory: directory, log: log, state: state)
    }

    /// Kafka's open-time sanity check: index sizes are whole entries and the last entries are at
    /// or above the base offset and inside the log. Takes the largest timestamp from the time
    /// index's last entry (written on roll and close). Uses what opening the index files read;
    /// no further I/O.
    private static func quickCheck(_ state: inout State, baseOffset: Int64) -> Bool {
        let offsetLength = state.offsetIndex.storage.fileLength
        let timeLength = state.timeIndex.storage.fileLength
        guard offsetLength % Int64(OffsetIndex.entrySize) == 0, timeLength % Int64(TimeIndex.entrySize) == 0 else {
            return false
        }
        if let last = state.offsetIndex.storage.lastEntryAtOpen {
            guard last.relativeOffset >= 0, last.position >= 0, Int(last.position) < state.size else { return false }
        } else if state.size > 0 && offsetLength > 0 {
            return false
        }
        if let last = state.timeIndex.storage.lastEntryAtOpen {
            guard last.relativeOffset >= 0 else { return false }
            state.maxTimestamp = last.timestamp
            state.offsetOfMaxTimestamp = baseOffset + Int64(last.relativeOffset)
        }
        return true
    }

    // MARK: Facts

    /// Bytes of valid data.
    var size: Int { state.withLock { $0.size } }

    /// The largest batch maxTimestamp in the segment, -1 when none.
    var maxTimestamp: Int64 { state.withLock { $0.maxTimestamp } }

    /// The offset after the last batch, when known (always for the active segment).
    var nextOffset: Int64? { state.withLock { $0.nextOffset } }

    /// maxTimestamp of the first batch (read once, then cached); nil when the segment is empty.
    func firstBatchTimestamp() throws(StorageError) -> Int64? {
        let (known, size) = state.withLock { ($0.firstBatchTimestamp, $0.size) }
        guard size > 0 else { return nil }
        if let known { return known }
        guard let first = try firstBatchHeader() else { return nil }
        state.withLock { $0.firstBatchTimestamp = first.maxTimestamp }
        return first.maxTimestamp
    }

    /// Kafka's `largestTimestamp`: the largest record timestamp, or the file's modification time
    /// when the batches carry none (for retention.ms).
    func largestTimestamp() throws(StorageError) -> Int64 {
        let known = maxTimestamp
        return known >= 0 ? known : try log.modifiedMilliseconds()
    }

    // MARK: Active or not

    /// Makes this the segment appends go to: indexes loaded and preallocated to
    /// segment.index.bytes, the log preallocated when `preallocate` is set.
    func activate(config: LogConfig) throws(StorageError) {
        try state.withLock { (state: inout State) throws(StorageError) in
            try ensureIndexesLoaded(&state, upperOffset: nil)
            state.offsetIndex.maxEntries = config.maxOffsetIndexEntries
            state.timeIndex.maxEntries = config.maxTimeIndexEntries
            state.indexIntervalBytes = config.indexIntervalBytes
            try state.offsetIndex.storage.preallocate(config.segmentIndexBytes)
            try state.timeIndex.storage.preallocate(config.segmentIndexBytes)
            if config.preallocate && state.logFileLength < Int64(config.segmentBytes) {
                try log.setLength(Int64(config.segmentBytes))
                state.logFileLength = Int64(config.segmentBytes)
            }
            if config.segmentJitterMs > 0 {
                state.rollJitterMs = Int64.random(in: 0..<config.segmentJitterMs)
            }
            state.isActive = true
        }
        if state.withLock({ $0.firstBatchTimestamp == nil }) {
            let first = try firstBatchHeader()
            state.withLock { $0.firstBatchTimestamp = first?.maxTimestamp ?? -1 }
        }
    }

    /// Ends this segment's time as the active one (roll, close): records the final largest
    /// timestamp in the time index and cuts preallocated files to their content.
    func deactivate() throws(StorageError) {
        try state.withLock { (state: inout State) throws(StorageError) in
            guard state.isActive else { return }
            if state.maxTimestamp >= 0 {
                state.timeIndex.maybeAppend(timestamp: state.maxTimestamp, offset: state.offsetOfMaxTimestamp, force: true)
            }
            try state.offsetIndex.storage.trim()
            try state.timeIndex.storage.trim()
            if state.logFileLength > Int64(state.size) {
                try log.setLength(Int64(state.size))
                state.logFileLength = Int64(state.size)
            }
            state.isActive = false
        }
    }

    // MARK: Durability

    /// Writes pending index entries, then fdatasyncs the log and those index files that changed
    /// since their last sync (an index file is opened just for that; see ``IndexFile``). The
    /// syncs run outside the lock so that reads and appends continue meanwhile.
    func flush() throws(StorageError) {
        let (offsetFile, timeFile, transactionFile) = try state.withLock {
            (state: inout State) throws(StorageError) -> (SegmentFile?, SegmentFile?, SegmentFile?) in
            (try state.offsetIndex.storage.prepareSync(), try state.timeIndex.storage.prepareSync(),
             try state.transactionIndex.prepareSync())
        }
        try log.sync()
        do throws(StorageError) {
            try offsetFile?.sync()
        } catch {
            state.withLock {
                $0.offsetIndex.storage.syncFailed()
                $0.timeIndex.storage.syncFailed()
                $0.transactionIndex.syncFailed()
            }
            throw error
        }
        do throws(StorageError) {
            try timeFile?.sync()
        } catch {
            state.withLock {
                $0.timeIndex.storage.syncFailed()
                $0.transactionIndex.syncFailed()
            }
            throw error
        }
        do throws(StorageError) {
            try transactionFile?.sync()
        } catch {
            state.withLock { $0.transactionIndex.syncFailed() }
            throw error
        }
    }

    /// fdatasyncs the `.log` file alone (its indexes are rebuilt from it by recovery).
    func syncLogFile() throws(StorageError) {
        try log.sync()
    }

    // MARK: Files

    /// Renames the files by adding `suffix` (".deleted"); readers keep the `.log`'s
    /// descriptor. Renaming to ".deleted" retires the index files: nothing writes them again.
    func rename(suffix: String) throws(StorageError) {
        let retiring = suffix == SegmentFileName.deletedSuffix
        try state.withLock { (state: inout State) throws(StorageError) in
            try log.rename(to: path(.log, suffix: suffix))
            try state.offsetIndex.storage.rename(to: path(.index, suffix: suffix), retiring: retiring)
            try state.timeIndex.storage.rename(to: path(.timeIndex, suffix: suffix), retiring: retiring)
            try state.transactionIndex.rename(to: path(.transactionIndex, suffix: suffix), retiring: retiring)
            state.suffix = suffix
        }
    }

    /// The current paths of the files (the `.txnindex` one only once it exists).
    var filePaths: [String] {
        state.withLock {
            [log.path, $0.offsetIndex.storage.path, $0.timeIndex.storage.path] + ($0.transactionIndex.existingPath.map { [$0] } ?? [])
        }
    }

    /// Unlinks the files. Readers keep the `.log`'s descriptor; the indexes stay in
    /// memory (rebuilt there from the log if they were not loaded) and are never written again.
    func deleteFiles() throws(StorageError) {
        try state.withLock { (state: inout State) throws(StorageError) in
            try FileIO.remove(log.path)
            try state.offsetIndex.storage.deleteFile()
            try state.timeIndex.storage.deleteFile()
            try state.transactionIndex.deleteFile()
        }
    }
}
