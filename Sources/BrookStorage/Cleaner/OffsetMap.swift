import NIOCore

/// The log cleaner's bounded "key → latest offset" map, built over the dirty section of a log
/// before that section is rewritten.
///
/// Memory layout: a fixed open-addressing table of ``slots`` entries, allocated once at `init`,
/// each entry 24 bytes in three parallel arrays: the key's 16-byte ``KeyDigest`` (two `UInt64`)
/// and an `Int64` offset, -1 marking an empty slot. Keys themselves are never stored, so the
/// memory use is fixed whatever the key sizes. ``slots`` is the largest prime that fits the
/// memory budget; a key's probe sequence starts at `digest.high mod slots` and steps by
/// `1 + digest.low mod (slots - 1)` (double hashing; the prime size makes every step visit every
/// slot).
///
/// Bound: at most ``capacity`` distinct keys (``slots`` × load factor, below ``slots`` so a free
/// slot always ends a probe). When ``isFull``, ``put(digest:offset:)`` still updates keys already
/// present but refuses new ones, returning ``PutOutcome/full`` and changing nothing; the cleaner
/// then stops reading and cleans only up to ``latestOffset``.
///
/// Budget, as Kafka sizes it: `log.cleaner.dedupe.buffer.size` (default 128 MiB) is shared by the
/// `log.cleaner.threads` cleaner threads, each map capped at 2 GiB, and filled to
/// `log.cleaner.io.buffer.load.factor` (default 0.9) — see ``Configuration``. The default map holds
/// 5,592,373 slots and 5,033,135 keys.
///
/// Allocation: `put` and `get` allocate nothing (the digest is computed over the key's bytes in
/// place); ``clear()`` reuses the table.
///
/// Thread safety: a `Sendable` value with copy-on-write storage. One cleaner thread owns a map;
/// copying one and mutating the copy duplicates the whole table, so pass it `inout` or borrow it.
public struct OffsetMap: Sendable {
    /// The broker settings that size the map.
    public struct Configuration: Sendable, Equatable {
        /// `log.cleaner.dedupe.buffer.size`: bytes for the maps of all cleaner threads.
        public var dedupeBufferSize = 128 * 1024 * 1024
        /// `log.cleaner.threads`: the number of maps sharing the buffer.
        public var cleanerThreads = 1
        /// `log.cleaner.io.buffer.load.factor`: the fraction of slots that may be filled.
        public var loadFactor = 0.9

        public init() {}

        /// The memory of one thread's map: the buffer divided by the threads, at most 2 GiB.
        public var bytesPerMap: Int {
            min(dedupeBufferSize / max(cleanerThreads, 1), Int(Int32.max))
        }
    }

    /// What ``put(digest:offset:)`` did.
    public enum PutOutcome: Sendable, Equatable {
        /// The key was new and is now in the map.
        case inserted
        /// The key was present; its offset was replaced.
        case updated
        /// The key was new but the map is full; nothing changed.
        case full
        /// The offset was negative; nothing changed.
        case invalidOffset
    }

    /// Bytes one slot takes: a 16-byte digest and an 8-byte offset.
    public static let bytesPerEntry = 24

    /// Number of slots in the table (a prime).
    public let slots: Int
    /// The most distinct keys the map accepts.
    public let capacity: Int
    /// Distinct keys in the map.
    public private(set) var count = 0
    /// The offset given to the most recent successful put or ``updateLatestOffset(_:)``; -1 when
    /// empty. Records above it were not seen while building the map and must be kept by the
    /// cleaner.
    public private(set) var latestOffset: Int64 = -1

    private var digestHigh: [UInt64]
    private var digestLow: [UInt64]
    private var offsets: [Int64]

    /// A map sized from the broker's cleaner settings.
    public init(configuration: Configuration = Configuration()) {
        self.init(memoryBytes: configuration.bytesPerMap, loadFactor: configuration.loadFactor)
    }

    /// A map using about `memoryBytes` of table (at least 2 slots).
    public init(memoryBytes: Int, loadFactor: Double = 0.9) {
        self.init(slotLimit: memoryBytes / Self.bytesPerEntry, loadFactor: loadFactor)
    }

    /// A map with the largest prime number of slots not above `slotLimit` (at least 2).
    public init(slotLimit: Int, loadFactor: Double = 0.9) {
        let slots = Self.largestPrime(atMost: max(slotLimit, 2))
        self.slots = slots
        let factor = loadFactor.isNaN ? 0.9 : min(max(loadFactor, 0), 1)
        self.capacity = min(max(Int(Double(slots) * factor), 1), slots - 1)
        self.digestHigh = Array(repeating: 0, count: slots)
        self.digestLow = Array(repeating: 0, count: slots)
        self.offsets = Array(repeating: -1, count: slots)
    }

    /// Whether the map holds ``capacity`` keys and will refuse new ones.
    public var isFull: Bool { count >= capacity }

    /// The fraction of slots in use.
    public var utilization: Double { Double(count) / Double(slots) }

    /// Records `offset` as the latest offset of `key`.
    @discardableResult
    public mutating func put(key: ByteBuffer, offset: Int64) -> PutOutcome {
        put(digest: key.withUnsafeReadableBytes { KeyDigest(of: $0) }, offset: offset)
    }

    /// Records `offset` as the latest offset of the key whose bytes are `key`.
    @discardableResult
    public mutating func put(key: UnsafeRawBufferPointer, offset: Int64) -> PutOutcome {
        put(digest: KeyDigest(of: key), offset: offset)
    }

    /// Records `offset` as the latest offset of the key with `digest`.
    @discardableResult
    public mutating func put(digest: KeyDigest, offset: Int64) -> PutOutcome {
        guard offset >= 0 else { return .invalidOffset }
        let (index, found) = slot(for: digest)
        if found {
            offsets[index] = offset
            latestOffset = offset
            return .updated
        }
        guard count < capacity else { return .full }
        digestHigh[index] = digest.high
        digestLow[index] = digest.low
        offsets[index] = offset
        count += 1
        latestOffset = offset
        return .inserted
    }

    /// The latest offset recorded for `key`, or nil.
    public func get(key: ByteBuffer) -> Int64? {
        get(digest: key.withUnsafeReadableBytes { KeyDigest(of: $0) })
    }

    /// The latest offset recorded for the key whose bytes are `key`, or nil.
    public func get(key: UnsafeRawBufferPointer) -> Int64? {
        get(digest: KeyDigest(of: key))
    }

    /// The latest offset recorded for the key with `digest`, or nil.
    public func get(digest: KeyDigest) -> Int64? {
        let (index, found) = slot(for: digest)
        return found ? offsets[index] : nil
    }

    /// Raises ``latestOffset`` to `offset` (never lowers it): the cleaner calls this after a batch
    /// whose trailing records had no key, so that they count as seen.
    public mutating func updateLatestOffset(_ offset: Int64) {
        latestOffset = max(latestOffset, offset)
    }

    /// Empties the map, keeping its table.
    public mutating func clear() {
        offsets.withUnsafeMutableBufferPointer { buffer in
            buffer.update(repeating: -1)
        }
        count = 0
        latestOffset = -1
    }

    /// The slot holding `digest`, or the free slot where it would go.
    @inline(__always)
    private func slot(for digest: KeyDigest) -> (index: Int, found: Bool) {
        let size = UInt64(slots)
        var index = Int(digest.high % size)
        let step = Int(digest.low % (size - 1)) + 1
        // At least one slot is always free (capacity < slots) and the prime size makes the
        // sequence visit every slot, so this loop ends.
        while true {
            if offsets[index] < 0 { return (index, false) }
            if digestHigh[index] == digest.high && digestLow[index] == digest.low { return (index, true) }
            index += step
            if index >= slots { index -= slots }
        }
    }

    /// The largest prime `<= limit` (limit >= 2).
    static func largestPrime(atMost limit: Int) -> Int {
        var candidate = limit
        while candidate > 2 {
            if isPrime(candidate) { return candidate }
            candidate -= 1
        }
        return 2
    }

    private static func isPrime(_ value: Int) -> Bool {
        if value < 2 { return false }
        if value % 2 == 0 { return value == 2 }
        var divisor = 3
        while divisor * divisor <= value {
            if value % divisor == 0 { return false }
            divisor += 2
        }
        return true
    }
}
