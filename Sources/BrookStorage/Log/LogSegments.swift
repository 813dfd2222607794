/// The segments of one partition, ordered by base offset; the last one is active.
///
/// A value: the partition publishes a copy with each change, and a reader works on the copy it
/// took (an array of references, so copies are cheap). Never empty once the log is open.
struct LogSegments: Sendable {
    private(set) var all: [LogSegment] = []

    init(_ segments: [LogSegment] = []) {
        self.all = segments.sorted { $0.baseOffset < $1.baseOffset }
    }

    var count: Int { all.count }
    var isEmpty: Bool { all.isEmpty }
    var first: LogSegment? { all.first }
    /// The segment appends go to.
    var active: LogSegment { all[all.count - 1] }

    subscript(index: Int) -> LogSegment { all[index] }

    /// Index of the segment that would hold `offset`: the last one whose base offset is ≤ it,
    /// nil when `offset` is below the first base offset.
    func floorIndex(of offset: Int64) -> Int? {
        var low = 0
        var high = all.count
        while low < high {
            let middle = (low + high) / 2
            if all[middle].baseOffset <= offset { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? nil : low - 1
    }

    /// Every offset of segment `index` is below this: the next base offset, or `logEndOffset`.
    func endOffset(ofSegmentAt index: Int, logEndOffset: Int64) -> Int64 {
        index + 1 < all.count ? all[index + 1].baseOffset : logEndOffset
    }

    mutating func append(_ segment: LogSegment) {
        precondition(all.last.map { $0.baseOffset < segment.baseOffset } ?? true, "segments must be added in offset order")
        all.append(segment)
    }

    /// Removes and returns the first `count` segments.
    mutating func removeFirst(_ count: Int) -> [LogSegment] {
        let removed = Array(all.prefix(count))
        all.removeFirst(count)
        return removed
    }

    /// Removes and returns the segments after `index`.
    mutating func removeAll(after index: Int) -> [LogSegment] {
        let removed = Array(all[(index + 1)...])
        all.removeSubrange((index + 1)...)
        return removed
    }

    /// Removes and returns every segment.
    mutating func removeAll() -> [LogSegment] {
        defer { all.removeAll() }
        return all
    }
}
