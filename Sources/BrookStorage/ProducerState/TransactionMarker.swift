import BrookRecords

/// The COMMIT or ABORT marker a control batch carries: its first record's key says which
/// (``ControlRecordType/abort`` 0, ``ControlRecordType/commit`` 1) and its value holds the
/// coordinator epoch (``EndTransactionMarker``).
struct TransactionMarker: Sendable, Equatable {
    var isAbort: Bool
    var coordinatorEpoch: Int32

    /// The marker of a control batch; nil for a control batch of another type (KRaft's).
    static func read(_ batch: RecordBatch) throws(StorageError) -> TransactionMarker? {
        do throws(RecordBatchError) {
            var records = try batch.makeRecordIterator()
            guard let first = try records.next() else {
                throw .invalidControlRecord(reason: "control batch without records")
            }
            let type = try first.controlKey().type
            guard type == .abort || type == .commit else { return nil }
            guard let value = first.value else {
                throw .invalidControlRecord(reason: "end transaction marker without a value")
            }
            return TransactionMarker(isAbort: type == .abort, coordinatorEpoch: try EndTransactionMarker(decoding: value).coordinatorEpoch)
        } catch {
            throw .invalidRecords(error)
        }
    }
}
