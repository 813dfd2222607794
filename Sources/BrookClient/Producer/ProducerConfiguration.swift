import BrookRecords

/// A ``Producer``'s settings, named after the Java client's configs.
public struct ProducerConfiguration: Sendable {
    /// `bootstrap.servers`: comma-separated `host:port` list.
    public var bootstrapServers: String
    /// `client.id`.
    public var clientId = "brook-producer"
    /// How connections are secured (`security.protocol`, `ssl.*`, `sasl.*`).
    public var security: ClientSecurity = .plaintext
    /// `acks`: 0 (no answer), 1 (the leader has it) or -1 (`all`: every in-sync replica has it).
    public var acks: Int16 = -1
    /// `linger.ms`: how long a batch waits for more records before it is sent.
    public var lingerMs = 5
    /// `batch.size`: the records section a batch closes at (a larger record gets a batch of its own).
    public var batchSize = 16_384
    /// `buffer.memory`: bytes of records buffered before `send` waits for room.
    public var bufferMemory = 33_554_432
    /// `max.block.ms`: how long `send` waits for buffer room or metadata before failing.
    public var maxBlockMs = 60_000
    /// `max.in.flight.requests.per.connection`.
    public var maxInFlightRequestsPerConnection = 5
    /// `compression.type`.
    public var compression: CompressionCodec = .none
    /// `retry.backoff.ms`: the pause before a batch is retried.
    public var retryBackoffMs = 100
    /// `delivery.timeout.ms`: a record not acknowledged this long after `send` fails.
    public var deliveryTimeoutMs = 120_000
    /// `request.timeout.ms`: how long the broker may take to answer a Produce request.
    public var requestTimeoutMs = 30_000
    /// `enable.idempotence` (the default, as in Kafka 3+): retries never duplicate or reorder
    /// records. Applies with `acks=-1` only; with other acks the producer is not idempotent.
    public var enableIdempotence = true
    /// `transactional.id`: enables ``Producer/initTransactions()`` and the transaction calls.
    public var transactionalId: String? = nil
    /// `transaction.timeout.ms`.
    public var transactionTimeoutMs: Int32 = 60_000

    public init(bootstrapServers: String) {
        self.bootstrapServers = bootstrapServers
    }

    /// Whether batches carry a producer id and sequence numbers.
    var isIdempotent: Bool { transactionalId != nil || (enableIdempotence && acks == -1) }
}
