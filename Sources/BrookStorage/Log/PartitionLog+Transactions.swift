import Synchronization

extension PartitionLog {
    /// The first offset of the earliest open transaction, nil when none is open.
    public var firstUnstableOffset: Int64? { state.withLock { $0.producers.firstUnstableOffset } }

    /// The last stable offset (LSO): READ_COMMITTED consumers read below it. The smaller of the
    /// earliest open transaction's first offset and `highWatermark`.
    public func lastStableOffset(highWatermark: Int64) -> Int64 {
        min(firstUnstableOffset ?? highWatermark, highWatermark)
    }

    /// The aborted transactions overlapping `[startOffset, upperBoundOffset)`, as a READ_COMMITTED
    /// fetch reports them: each segment's transaction index from the one holding `startOffset`
    /// on, until one shows that later segments cannot add any (see
    /// ``TransactionIndex/collect(from:to:)``).
    public func abortedTransactions(from startOffset: Int64, to upperBoundOffset: Int64) -> [AbortedTransaction] {
        let segments = view.segments
        guard upperBoundOffset > startOffset, !segments.isEmpty else { return [] }
        var found: [AbortedTransaction] = []
        for index in (segments.floorIndex(of: startOffset) ?? 0)..<segments.count {
            let (transactions, isComplete) = segments[index].abortedTransactions(from: startOffset, to: upperBoundOffset)
            found += transactions
            if isComplete { break }
        }
        return found
    }

    /// Every aborted transaction in the log's transaction indexes, oldest first (tests, tools).
    public var allAbortedTransactions: [AbortedTransaction] {
        view.segments.all.flatMap(\.allAbortedTransactions)
    }
}
