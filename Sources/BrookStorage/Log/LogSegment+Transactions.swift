import Synchronization

extension LogSegment {
    /// Records an aborted transaction whose marker is in this segment (the partition's writer).
    func appendAbortedTransaction(_ transaction: AbortedTransaction) throws(StorageError) {
        try state.withLock { (state: inout State) throws(StorageError) in
            try state.transactionIndex.append(transaction)
        }
    }

    /// Empties the transaction index before it is rebuilt from the log (recovery).
    func resetTransactionIndex() throws(StorageError) {
        try state.withLock { (state: inout State) throws(StorageError) in
            try state.transactionIndex.reset()
        }
    }

    /// See ``TransactionIndex/collect(from:to:)``.
    func abortedTransactions(from startOffset: Int64, to upperBoundOffset: Int64) -> (transactions: [AbortedTransaction], isComplete: Bool) {
        state.withLock { $0.transactionIndex.collect(from: startOffset, to: upperBoundOffset) }
    }

    /// Every entry of the transaction index (tests, tools).
    var allAbortedTransactions: [AbortedTransaction] { state.withLock { $0.transactionIndex.entries } }
}
