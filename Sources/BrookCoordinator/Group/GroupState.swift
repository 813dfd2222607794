/// The states of a classic group, named as Kafka names them (DescribeGroups and ListGroups
/// report these strings).
///
/// ```
/// Empty ──join──▶ PreparingRebalance ──all joined / timeout──▶ CompletingRebalance ──leader sync──▶ Stable
///   ▲                  ▲    │ no members left                         │ member change          │
///   └──────────────────┼────┘                                         ▼                        │
///                      └──────────────────────── join, leave, session expiry ◀─────────────────┘
/// ```
public enum GroupState: String, Sendable, CaseIterable {
    case empty = "Empty"
    case preparingRebalance = "PreparingRebalance"
    case completingRebalance = "CompletingRebalance"
    case stable = "Stable"
    case dead = "Dead"
}
