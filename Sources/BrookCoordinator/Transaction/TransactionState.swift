/// Where a transactional id's current transaction stands, with Kafka's numbering (the
/// `TransactionStatus` byte of `__transaction_state` values).
///
/// ```
/// Empty ──AddPartitions──▶ Ongoing ──EndTxn──▶ PrepareCommit ──markers──▶ CompleteCommit
///   ▲                        │   └──EndTxn/timeout──▶ PrepareAbort ──markers──▶ CompleteAbort
///   └──── InitProducerId ◀───┴──────────────── (from Empty or either Complete state)
/// ```
public enum TransactionState: Int8, Sendable, CaseIterable {
    case empty = 0
    case ongoing = 1
    case prepareCommit = 2
    case prepareAbort = 3
    case completeCommit = 4
    case completeAbort = 5
    /// The transactional id has expired and is being removed.
    case dead = 6
    /// A producer is being fenced: its epoch was bumped and its open transaction is being
    /// aborted. Never written to the log (the log records PrepareAbort with the new epoch).
    case prepareEpochFence = 7

    /// The name DescribeTransactions and ListTransactions use.
    public var name: String {
        switch self {
        case .empty: "Empty"
        case .ongoing: "Ongoing"
        case .prepareCommit: "PrepareCommit"
        case .prepareAbort: "PrepareAbort"
        case .completeCommit: "CompleteCommit"
        case .completeAbort: "CompleteAbort"
        case .dead: "Dead"
        case .prepareEpochFence: "PrepareEpochFence"
        }
    }

    /// The state named `name` (case-sensitive, as Kafka's ListTransactions filter).
    public init?(name: String) {
        guard let state = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = state
    }

    /// Markers are being written: the transaction cannot change until they are.
    var isPreparing: Bool { self == .prepareCommit || self == .prepareAbort || self == .prepareEpochFence }

    /// No transaction is open: a new one may begin, or InitProducerId may bump the epoch.
    var isIdle: Bool { self == .empty || self == .completeCommit || self == .completeAbort }
}
