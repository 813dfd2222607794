import Synchronization
import BrookModel

extension PartitionLog {
    /// Opens (or creates) the log in `directory`.
    ///
    /// Leftovers are finished the Kafka way first: `.deleted` and `.cleaned` files are removed;
    /// a `.log.swap` (a cleaned segment whose swap was interrupted) replaces the segments its
    /// offsets cover and loses its suffix; index files without a `.log` are removed.
    ///
    /// After a clean shutdown nothing is scanned: each segment's index files get Kafka's cheap
    /// sanity check (whole entries, last entry plausible; a failure rebuilds that segment's
    /// indexes from its log) and the end of the last segment is found from its last index entry.
    ///
    /// Otherwise every segment from the one holding `recoveryPoint` on is scanned and validated
    /// batch by batch (size, magic, CRC, offsets); a torn or corrupt tail is cut, the segments
    /// after a damaged one are deleted, indexes are rebuilt, the leader epoch cache learns the
    /// epochs of the scanned batches, and the repaired segments are fsynced. The log end offset
    /// is then exact, and the recovery point moves to it.
    ///
    /// Producer state comes from the newest `.snapshot` plus the batches after it; after an
    /// unclean shutdown the `.txnindex` files of the scanned segments are rebuilt with it.
    ///
    /// With a `topicId`, the directory's ``PartitionMetadataFile`` is checked before anything in
    /// it is touched: a file naming another id fails the open with
    /// ``StorageError/inconsistentTopicId(directory:expected:found:)`` and leaves the directory
    /// as it was; a missing file is written with `topicId` (before the first segment of a new
    /// log is created). Without one (the metadata log, tools) the file is neither read nor
    /// written.
    ///
    /// - Parameters:
    ///   - recoveryPoint: from the directory's `recovery-point-offset-checkpoint` (0 if absent).
    ///   - logStartOffset: from `log-start-offset-checkpoint`; nil means the first segment's base
    ///     offset. A value past what survived a crash empties the log and starts it there.
    ///   - topicId: the id of the topic incarnation the log belongs to; nil for a log outside
    ///     any topic.
    ///   - clock: the wall clock for LogAppendTime, segment.ms, flush.ms and deletion delays.
    ///   - syncsRolledSegmentsInline: true (the default) makes the append that rolls fsync the
    ///     segments before the new one, after releasing the write lock (so only that request
    ///     waits); false defers that fsync to the next ``flushIfDue()``, as Kafka defers it to its
    ///     scheduler.
    public static func open(
        directory: String,
        config: LogConfig,
        recoveryPoint: Int64,
        logStartOffset: Int64? = nil,
        hadCleanShutdown: Bool,
        topicId: KafkaUUID? = nil,
        clock: any LogClock = SystemLogClock(),
        syncsRolledSegmentsInline: Bool = true,
        health: LogDirectoryHealth? = nil
    ) throws(StorageError) -> PartitionLog {
        let health = health ?? LogDirectoryHealth(directory: parentDirectory(of: directory))
        try health.check()
        try FileIO.createDirectory(directory)
        if let topicId {
            try claim(directory: directory, for: topicId)
        }
        let now = clock.nowMilliseconds()
        let checkpoint = LeaderEpochCheckpoint(directory: directory)
        try checkpoint.removeLeftoverTemporaryFile()
        let bases = try finishLeftovers(directory: directory, config: config, now: now)

        var segments: [LogSegment] = []
        for base in bases.sorted() {
            segments.append(try LogSegment.open(directory: directory, baseOffset: base, config: config, now: now))
        }
        if segments.isEmpty {
            let base = max(0, logStartOffset ?? 0)
            segments.append(try LogSegment.create(directory: directory, baseOffset: base, config: config, now: now))
            try FileIO.syncDirectory(directory)
        }

        let savedEpochs = try checkpoint.read() ?? []
        var epochs = LeaderEpochCache(savedEpochs)
        var recovered: [LogSegment] = []
        let firstScanned = hadCleanShutdown ? segments.count : (LogSegments(segments).floorIndex(of: recoveryPoint) ?? 0)
        for index in 0..<firstScanned where segments[index].needsIndexRebuild {
            // Below the recovery point: repair this segment alone, as Kafka does.
            let upper = index + 1 < segments.count ? segments[index + 1].baseOffset : nil
            _ = try segments[index].recover(upperOffset: upper) { _ in }
            recovered.append(segments[index])
        }
        // The transaction indexes of the scanned segments are rebuilt with the producer state.
        let rebuildTransactionsFrom = firstScanned < segments.count ? segments[firstScanned].baseOffset : nil
        var index = firstScanned
        while index < segments.count {
            let upper = index + 1 < segments.count ? segments[index + 1].baseOffset : nil
            let result = try segments[index].recover(upperOffset: upper) { batch in
                // Epochs of batches below the log start offset no longer describe the log.
                if batch.lastOffset >= (logStartOffset ?? 0), batch.partitionLeaderEpoch > (epochs.latest?.epoch.rawValue ?? -1) {
                    epochs.assign(epoch: batch.partitionLeaderEpoch, startOffset: batch.baseOffset)
                }
            }
            recovered.append(segments[index])
            if result.problem != nil && index + 1 < segments.count {
                // Nothing after a damaged batch can be trusted to follow it.
                for later in segments[(index + 1)...] {
                    try later.deleteFiles()
                }
                segments.removeSubrange((index + 1)...)
            }
            index += 1
        }

        let active = segments[segments.count - 1]
        if hadCleanShutdown && !recovered.contains(where: { $0 === active }) {
            try active.loadTail()
        }
        try active.activate(config: config)
        var logEnd = active.nextOffset ?? active.baseOffset

        var start = max(logStartOffset ?? segments[0].baseOffset, segments[0].baseOffset)
        if start > logEnd {
            // DeleteRecords or retention had moved the start past what survived: start over there.
            for segment in segments {
                try segment.deleteFiles()
            }
            segments = [try LogSegment.create(directory: directory, baseOffset: start, config: config, now: now)]
            recovered = []
            logEnd = start
            epochs = LeaderEpochCache()
        }
        start = min(start, logEnd)
        // Epochs of offsets that did not survive go; one starting exactly at the log end (a
        // leader that has not written yet) stays.
        epochs.truncateFromEnd(logEnd + 1)
        epochs.truncateFromStart(start)
        if epochs.entries != savedEpochs {
            try checkpoint.write(epochs.entries)
        }
        for segment in recovered {
            try segment.flush()
        }
        if !recovered.isEmpty {
            try FileIO.syncDirectory(directory)
        }

        let last = segments[segments.count - 1]
        try ProducerStateSnapshot.deleteAbove(logEnd, in: directory)
        var state = LogState(
            config: config, segments: LogSegments(segments), logStartOffset: start, logEndOffset: logEnd,
            activeSize: last.size, recoveryPoint: logEnd, lastFlushMs: now, epochCache: epochs)
        state.producers = try loadProducerState(
            directory: directory, segments: segments, activeSize: last.size, logEnd: logEnd,
            rebuildingTransactionIndexFrom: rebuildTransactionsFrom)
        return PartitionLog(
            directory: directory, topicId: topicId, clock: clock, syncsRolledSegmentsInline: syncsRolledSegmentsInline,
            health: health, state: state)
    }

    /// Checks that `directory` holds `topicId`'s data, recording the id when it has none yet.
    private static func claim(directory: String, for topicId: KafkaUUID) throws(StorageError) {
        let file = PartitionMetadataFile(directory: directory)
        try file.removeLeftoverTemporaryFile()
        if let found = try file.read() {
            guard found == topicId else {
                throw .inconsistentTopicId(directory: directory, expected: topicId, found: found)
            }
        } else {
            try file.write(topicId: topicId)
        }
    }

    /// Deletes `.deleted` and `.cleaned` files and orphan indexes, completes interrupted swaps,
    /// and returns the base offsets of the live segments.
    private static func finishLeftovers(directory: String, config: LogConfig, now: Int64) throws(StorageError) -> Set<Int64> {
        var logBases = Set<Int64>()
        var indexFiles: [(base: Int64, path: String)] = []
        var swaps: [Int64] = []
        var changed = false
        for name in try FileIO.listDirectory(directory) {
            guard let parsed = SegmentFileName.parse(name) else { continue }
            let path = directory + "/" + name
            switch (parsed.suffix, parsed.kind) {
            case (SegmentFileName.swapSuffix, .log):
                swaps.append(parsed.baseOffset)
            case ("", .log):
                logBases.insert(parsed.baseOffset)
            case ("", _):
                indexFiles.append((parsed.baseOffset, path))
            case (SegmentFileName.swapSuffix, .transactionIndex):
                // Not derivable from the .swap alone: it goes live with it.
                break
            default:
                // .deleted, .cleaned, and the indexes of a .swap (rebuilt below).
                try FileIO.remove(path)
                changed = true
            }
        }
        for swapBase in swaps.sorted() {
            let swapped = try LogSegment.open(
                directory: directory, baseOffset: swapBase, config: config, now: now, suffix: SegmentFileName.swapSuffix)
            let end = try swapped.recover(upperOffset: nil) { _ in }.nextOffset
            for base in logBases where base >= swapBase && base < max(end, swapBase + 1) {
                for kind in SegmentFileName.Kind.allCases {
                    try FileIO.remove(SegmentFileName.path(directory: directory, baseOffset: base, kind: kind))
                }
                logBases.remove(base)
            }
            try swapped.rename(suffix: "")
            logBases.insert(swapBase)
            changed = true
        }
        for file in indexFiles where !logBases.contains(file.base) {
            try FileIO.remove(file.path)
            changed = true
        }
        if changed {
            try FileIO.syncDirectory(directory)
        }
        return logBases
    }
}

/// The directory holding `path` (its log directory, for a partition directory).
func parentDirectory(of path: String) -> String {
    let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
    guard let slash = trimmed.lastIndex(of: "/") else { return "." }
    return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
}
