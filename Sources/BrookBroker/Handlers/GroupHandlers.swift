extension RequestRouter {
    /// Registers the group coordinator's APIs (classic and KIP-848 protocols, offsets, administration).
    mutating func registerGroupHandlers(_ groups: GroupCoordinatorHost, transactions: TransactionCoordinatorHost, metadata: MetadataStore) {
        register(FindCoordinatorHandler(metadata: metadata, groups: groups, transactions: transactions))
        register(JoinGroupHandler(groups: groups))
        register(SyncGroupHandler(groups: groups))
        register(HeartbeatHandler(groups: groups))
        register(LeaveGroupHandler(groups: groups))
        register(OffsetCommitHandler(groups: groups, metadata: metadata))
        register(OffsetFetchHandler(groups: groups))
        register(TxnOffsetCommitHandler(groups: groups, metadata: metadata))
        register(OffsetDeleteHandler(groups: groups))
        register(ListGroupsHandler(groups: groups))
        register(DescribeGroupsHandler(groups: groups))
        register(DeleteGroupsHandler(groups: groups))
        register(ConsumerGroupHeartbeatHandler(groups: groups, metadata: metadata))
        register(ConsumerGroupDescribeHandler(groups: groups, metadata: metadata))
    }
}
