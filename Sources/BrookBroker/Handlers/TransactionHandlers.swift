extension RequestRouter {
    /// Registers the transaction coordinator's APIs and the partition-side transaction queries.
    mutating func registerTransactionHandlers(
        _ transactions: TransactionCoordinatorHost, groups: GroupCoordinatorHost, metadata: MetadataStore,
        producerIds: ProducerIdManager, partitions: PartitionTable
    ) {
        register(InitProducerIdHandler(producerIds: producerIds, transactions: transactions))
        register(AddPartitionsToTxnHandler(transactions: transactions, metadata: metadata))
        register(AddOffsetsToTxnHandler(transactions: transactions, groups: groups))
        register(EndTxnHandler(transactions: transactions))
        register(DescribeTransactionsHandler(transactions: transactions))
        register(ListTransactionsHandler(transactions: transactions))
        register(DescribeProducersHandler(partitions: partitions))
    }
}
