import BrookModel
import Synchronization

/// The durable, segmented log of one partition: `<log.dir>/<topic>-<partition>/`.
///
/// Directory contents (see ``SegmentFileName``, ``OffsetIndex``, ``TimeIndex``,
/// ``TransactionIndex``, ``ProducerStateSnapshot`` and ``LeaderEpochCheckpoint`` for each format):
/// `%020d.log` segments with their `.index`, `.timeindex` and (once an ABORT marker lands in
/// them) `.txnindex`, `%020d.snapshot` producer-state snapshots, `leader-epoch-checkpoint`,
/// `partition.metadata` (the topic id, ``PartitionMetadataFile``; not in the metadata log), and
/// transiently `.deleted` files waiting for file.delete.delay.ms. The per-directory checkpoints (recovery point, log start offset) belong
/// to the log manager, which passes their values to ``open(directory:config:recoveryPoint:logStartOffset:hadCleanShutdown:topicId:clock:syncsRolledSegmentsInline:)``
/// and reads ``recoveryPoint`` and ``logStartOffset`` back to write them.
///
/// Durability follows Kafka: data goes to the page cache; `flush.messages` / `flush.ms` (default
/// never) and every roll fsync it; the recovery point records what is known durable, and opening
/// after an unclean shutdown scans and repairs everything past it.
///
/// Thread safety: `Sendable`, one instance per partition. Two mutexes, always taken in this order
/// and never held across each other's callers:
/// - `writeLock` serialises every mutation (appends, rolls, truncation, deletion, close). It is
///   held across the write system call, so appends are strictly ordered.
/// - `state` guards the published view (segments, offsets, epoch cache). It is held only to copy
///   or update that view, never during I/O.
///
/// Reads take a copy of the view and then read files without any partition lock: they only touch
/// bytes below the log end offset they observed, which appends never rewrite. So reads run
/// concurrently with appends and with each other. No lock is global.
public final class PartitionLog: Sendable {
    /// The partition's directory.
    public let directory: String
    /// The id of the topic incarnation whose data this is, as `partition.metadata` records it;
    /// nil for a log opened without one (the metadata log).
    public let topicId: KafkaUUID?
    let clock: any LogClock
    /// Whether the append that rolls also fsyncs the rolled segments (else ``flushIfDue()`` does).
    let syncsRolledSegmentsInline: Bool
    let epochCheckpoint: LeaderEpochCheckpoint
    /// The health of the log directory holding this log, shared with its other logs: a disk
    /// failure in any of them takes all of them offline (see ``LogDirectoryHealth``).
    public let health: LogDirectoryHealth
    let writeLock = Mutex<Void>(())
    /// Serialises writes of the leader epoch checkpoint (taken after the write lock, never
    /// before it).
    let checkpointLock = Mutex<Void>(())
    let state: Mutex<LogState>

    /// Everything readers need, published by the writer after each change.
    struct LogState: Sendable {
        var config: LogConfig
        var segments: LogSegments
        var logStartOffset: Int64
        var logEndOffset: Int64
        /// Valid bytes of the active segment at ``logEndOffset``: readers never read past it.
        var activeSize: Int
        var recoveryPoint: Int64
        /// Every offset below this (or below the recovery point, if higher) has its records on
        /// stable storage, though perhaps not its index entries (see ``PartitionLog/syncData()``).
        var dataSyncedOffset: Int64 = 0
        /// Segments created since the log was opened, and how many of them the directory had
        /// when it was last fsynced: a data sync must also sync the directory of a new segment.
        var segmentsCreated: UInt64 = 0
        var segmentsCreatedAtDirectorySync: UInt64 = 0
        var lastFlushMs: Int64
        /// Bumped by every truncation, so a flush that began before one does not move the
        /// recovery point past the new end.
        var truncations: UInt64 = 0
        var epochCache: LeaderEpochCache
        /// Bumped by every change of ``epochCache``; the checkpoint on disk holds the version
        /// `savedEpochCacheVersion`.
        var epochCacheVersion: UInt64 = 0
        var savedEpochCacheVersion: UInt64 = 0
        /// Idempotent producers' recent batches and open transactions (see ``ProducerStateTable``).
        var producers = ProducerStateTable()
        var pendingDeletions: [PendingSegmentDeletion] = []
        /// The base offset of the latest roll whose predecessors await their fsync (deferred mode).
        var unsyncedRollOffset: Int64?
        var isClosed = false
    }

    init(
        directory: String, topicId: KafkaUUID?, clock: any LogClock, syncsRolledSegmentsInline: Bool,
        health: LogDirectoryHealth, state: LogState
    ) {
        self.directory = directory
        self.topicId = topicId
        self.health = health
        self.clock = clock
        self.syncsRolledSegmentsInline = syncsRolledSegmentsInline
        self.epochCheckpoint = LeaderEpochCheckpoint(directory: directory)
        self.state = Mutex(state)
    }

    /// A copy of the published state.
    var view: LogState { state.withLock { $0 } }

    // MARK: Facts

    /// The topic config in force.
    public var config: LogConfig { state.withLock { $0.config } }
    /// The first offset a consumer can read.
    public var logStartOffset: Int64 { state.withLock { $0.logStartOffset } }
    /// The offset the next record will get.
    public var logEndOffset: Int64 { state.withLock { $0.logEndOffset } }
    /// Every offset below this is known to be on stable storage, records and indexes: recovery
    /// after a crash starts here.
    public var recoveryPoint: Int64 { state.withLock { $0.recoveryPoint } }
    /// Every offset below this has its records on stable storage: the recovery point, or the
    /// further offset a ``syncData()`` reached. A crash loses none of them (recovery rebuilds
    /// their indexes from the log).
    public var durableOffset: Int64 { state.withLock { max($0.recoveryPoint, $0.dataSyncedOffset) } }
    /// The latest leader epoch that wrote to the log.
    public var latestEpoch: LeaderEpoch? { state.withLock { $0.epochCache.latest?.epoch } }
    /// The leader epoch cache, oldest epoch first.
    public var epochEntries: [EpochEntry] { state.withLock { $0.epochCache.entries } }
    /// Bytes in all segments.
    public var sizeInBytes: Int {
        let view = self.view
        return view.segments.all.dropLast().reduce(view.activeSize) { $0 + $1.size }
    }
    /// How many segments the log has.
    public var segmentCount: Int { state.withLock { $0.segments.count } }
    /// Segments renamed to `.deleted` whose files are not yet unlinked.
    public var pendingDeletions: [PendingSegmentDeletion] { state.withLock { $0.pendingDeletions } }

    /// OffsetForLeaderEpoch: where `epoch` ends in this log; nil for "undefined" (an epoch above
    /// the latest, or an empty cache).
    public func endOffset(forEpoch epoch: LeaderEpoch) -> EpochEndOffset? {
        state.withLock { $0.epochCache.endOffset(for: epoch, logEndOffset: $0.logEndOffset) }
    }

    /// What retention and the cleaner need to know about each segment, oldest first, the active
    /// one last (see ``RetentionPolicy`` and ``CompactionPlanner``).
    public func segmentSummaries() throws(StorageError) -> [SegmentSummary] {
        try health.check()
        let view = self.view
        var summaries: [SegmentSummary] = []
        for index in 0..<view.segments.count {
            let segment = view.segments[index]
            let isActive = index == view.segments.count - 1
            let size = isActive ? view.activeSize : segment.size
            summaries.append(
                SegmentSummary(
                    baseOffset: segment.baseOffset,
                    nextOffset: size == 0 ? segment.baseOffset : view.segments.endOffset(ofSegmentAt: index, logEndOffset: view.logEndOffset),
                    sizeBytes: Int64(size),
                    largestTimestamp: try segment.largestTimestamp(),
                    firstBatchTimestamp: size == 0 ? nil : try segment.firstBatchTimestamp()))
        }
        return summaries
    }

    /// Replaces the topic config (AlterConfigs). Segment sizes, roll times, flush and timestamp
    /// rules apply from the next append; index capacities from the next segment.
    public func updateConfig(_ config: LogConfig) {
        writeLock.withLock { _ in
            state.withLock { $0.config = config }
        }
    }

    /// Runs `body` holding the write lock, after checking that the log is open and its
    /// directory online; a disk failure it throws takes the directory offline.
    func mutating<T: Sendable>(_ body: (LogState) throws(StorageError) -> T) throws(StorageError) -> T {
        try health.guarding { () throws(StorageError) -> T in
            try writeLock.withLock { (_: inout Void) throws(StorageError) -> T in
                let current = view
                guard !current.isClosed else { throw .logClosed(directory: directory) }
                return try body(current)
            }
        }
    }

    /// Writes the leader epoch cache if it changed and publishes it (truncations: the checkpoint
    /// must not name epochs of records gone). Write lock held.
    func saveEpochCache(_ cache: LeaderEpochCache, previous: LeaderEpochCache) throws(StorageError) {
        guard cache != previous else { return }
        try checkpointLock.withLock { (_: inout Void) throws(StorageError) in
            try epochCheckpoint.write(cache.entries)
            state.withLock {
                $0.epochCache = cache
                $0.epochCacheVersion &+= 1
                $0.savedEpochCacheVersion = $0.epochCacheVersion
            }
        }
    }

    /// Publishes the leader epoch cache if it changed, leaving the checkpoint to the next flush
    /// (appends: Kafka too keeps the checkpoint's fsync off the append path). A crash before
    /// that flush loses nothing: recovery relearns the epochs of every batch above the recovery
    /// point, and the flush that moves the recovery point writes the checkpoint first.
    /// Write lock held.
    func recordEpochCache(_ cache: LeaderEpochCache, previous: LeaderEpochCache) {
        guard cache != previous else { return }
        state.withLock {
            $0.epochCache = cache
            $0.epochCacheVersion &+= 1
        }
    }

    /// Writes the leader epoch checkpoint if the cache changed since it was last written.
    func saveEpochCheckpointIfChanged() throws(StorageError) {
        try checkpointLock.withLock { (_: inout Void) throws(StorageError) in
            let (cache, version, saved) = state.withLock { ($0.epochCache, $0.epochCacheVersion, $0.savedEpochCacheVersion) }
            guard version != saved else { return }
            try epochCheckpoint.write(cache.entries)
            state.withLock { $0.savedEpochCacheVersion = max($0.savedEpochCacheVersion, version) }
        }
    }
}
