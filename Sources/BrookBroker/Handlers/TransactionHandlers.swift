extension RequestRouter {
    /// Registers the transaction coordinator's APIs, served on `threads` (their shards append to
    /// `__transaction_state` under the shard's lock, EndTxn writes markers), and the
    /// partition-side transaction queries.
    mutating func registerTransactionHandlers(
        _ transactions: TransactionCoordinatorHost, groups: GroupCoordinatorHost, metadata: MetadataStore,
        producerIds: ProducerIdManager, partitions: PartitionTable, on threads: BlockingWorkThreads
    ) {
        register(InitProducerIdHandler(producerIds: producerIds, transactions: transactions), on: threads)
        register(AddPartitionsToTxnHandler(transactions: transactions, metadata: metadata), on: threads)
        register(AddOffsetsToTxnHandler(transactions: transactions, groups: groups), on: threads)
        register(EndTxnHandler(transactions: transactions), on: threads)
        register(DescribeTransactionsHandler(transactions: transactions), on: threads)
        register(ListTransactionsHandler(transactions: transactions), on: threads)
        register(DescribeProducersHandler(partitions: partitions))
    }
}
