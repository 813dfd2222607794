import NIOCore

/// A partition's fetched records not yet handed out: the records of each fetch as decoded, in
/// order. Records are taken from the front a poll at a time; a fetch's records are never copied
/// to make room or to drop the ones taken (a whole fetch taken at once is handed over as is).
struct BufferedRecords {
    private var chunks: CircularBuffer<(records: [ConsumerRecord], bytes: Int)> = []
    /// Records already taken from the first chunk.
    private var taken = 0
    /// Records left.
    private(set) var count = 0
    /// The fetched bytes of the fetches not wholly taken yet.
    private(set) var bytes = 0

    var isEmpty: Bool { count == 0 }

    /// Adds the records of one fetch, which took `bytes` bytes on the wire.
    mutating func append(_ records: [ConsumerRecord], bytes fetchedBytes: Int) {
        guard !records.isEmpty else { return }
        chunks.append((records, fetchedBytes))
        count += records.count
        bytes += fetchedBytes
    }

    /// Moves up to `limit` records to the end of `output`, in order, and returns the offset of
    /// the last one moved (nil when none was).
    mutating func take(upTo limit: Int, into output: inout [ConsumerRecord]) -> Int64? {
        var lastOffset: Int64?
        var room = limit
        while room > 0, let (first, firstBytes) = chunks.first {
            let end = min(first.count, taken + room)
            if taken == 0 && end == first.count && output.isEmpty {
                output = first
            } else {
                output.append(contentsOf: first[taken..<end])
            }
            lastOffset = first[end - 1].offset
            room -= end - taken
            count -= end - taken
            if end == first.count {
                chunks.removeFirst()
                taken = 0
                bytes -= firstBytes
            } else {
                taken = end
            }
        }
        return lastOffset
    }

    mutating func removeAll() {
        chunks.removeAll()
        taken = 0
        count = 0
        bytes = 0
    }
}
