import BrookProtocol

/// Checks shared by the handlers that create topics and partitions, with Kafka's messages.
enum AdminChecks {
    /// Kafka's bound on the metadata records one request may produce
    /// (`QuorumController.MAX_RECORDS_PER_USER_OP`); a request above it fails as a whole with
    /// POLICY_VIOLATION, so that no request can make the broker open millions of partitions.
    static let maximumRecordsPerRequest = 10_000

    static let excessiveBatchMessage = "Unable to perform excessively large batch operation."

    /// Why a manually assigned replica list cannot be used, or nil (Kafka's
    /// `ReplicationControlManager.validateManualPartitionAssignment`).
    ///
    /// - Parameter replicationFactor: the number of replicas the other partitions have, if known.
    static func replicaAssignmentProblem(_ brokerIds: [Int32], registered: Set<Int32>, replicationFactor: Int?) -> String? {
        if brokerIds.isEmpty { return "The manual partition assignment includes an empty replica list." }
        var previous: Int32?
        for brokerId in brokerIds.sorted() {
            if !registered.contains(brokerId) {
                return "The manual partition assignment includes broker \(brokerId), but no such broker is registered."
            }
            if brokerId == previous {
                return "The manual partition assignment includes the broker \(brokerId) more than once."
            }
            previous = brokerId
        }
        if let replicationFactor, brokerIds.count != replicationFactor {
            return "The manual partition assignment includes a partition with \(brokerIds.count) replica(s), but this is not consistent with previous partitions, which have \(replicationFactor) replica(s)."
        }
        return nil
    }

    /// The message of Kafka's `UnknownTopicOrPartitionException`.
    static let unknownTopicMessage = "This server does not host this topic-partition."
}
