extension RequestRouter {
    /// Registers the group coordinator's APIs (classic and KIP-848 protocols, offsets,
    /// administration), served on `threads`: their shards append to `__consumer_offsets` under
    /// the shard's lock, and FindCoordinator may create the topic.
    mutating func registerGroupHandlers(
        _ groups: GroupCoordinatorHost, transactions: TransactionCoordinatorHost, metadata: MetadataStore, on threads: BlockingWorkThreads
    ) {
        register(FindCoordinatorHandler(metadata: metadata, groups: groups, transactions: transactions), on: threads)
        register(JoinGroupHandler(groups: groups), on: threads)
        register(SyncGroupHandler(groups: groups), on: threads)
        register(HeartbeatHandler(groups: groups), on: threads)
        register(LeaveGroupHandler(groups: groups), on: threads)
        register(OffsetCommitHandler(groups: groups, metadata: metadata), on: threads)
        register(OffsetFetchHandler(groups: groups), on: threads)
        register(TxnOffsetCommitHandler(groups: groups, metadata: metadata), on: threads)
        register(OffsetDeleteHandler(groups: groups), on: threads)
        register(ListGroupsHandler(groups: groups), on: threads)
        register(DescribeGroupsHandler(groups: groups), on: threads)
        register(DeleteGroupsHandler(groups: groups), on: threads)
        register(ConsumerGroupHeartbeatHandler(groups: groups, metadata: metadata), on: threads)
        register(ConsumerGroupDescribeHandler(groups: groups, metadata: metadata), on: threads)
    }
}
