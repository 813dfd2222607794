import ArgumentParser
import BrookClient
import BrookRecords

/// `brook perf produce`: kafka-producer-perf-test for Brook.
struct ProducePerf: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce",
        abstract: "Produce records as fast as the broker takes them (or at a set rate) and report throughput and latency.",
        discussion: """
            Prints a progress line every 5 s and a final line in kafka-producer-perf-test's form. \
            Latency runs from the moment a record is appended to its batch to the moment the \
            broker's acknowledgement is read (acks=0: to the moment the request is written). \
            Percentiles are printed with two decimals. MB are 2^20 bytes of record values.
            """
    )

    @Option(name: .customLong("command-config"), help: "A Kafka client properties file with the security settings.")
    var commandConfig: String?
    @Option(name: .customLong("bootstrap-server"), help: "The broker(s) to connect to, host:port[,host:port...].")
    var bootstrapServer: String?
    @Option(help: "The topic to produce to (created with the broker's defaults if it allows).") var topic: String
    @Option(help: "Records to send.") var numRecords: Int
    @Option(help: "Bytes per record value.") var recordSize: Int
    @Option(parsing: .unconditional, help: "Records per second; -1 for no limit.") var throughput: Double = -1
    @Option(parsing: .unconditional, help: "Acknowledgements to wait for: 0, 1, or -1/all (the default, as Kafka producers since 3.0).")
    var acks: String?
    @Option(help: "none, gzip, snappy, lz4 or zstd.") var compressionCodec: String?
    @Option(help: "Largest batch in bytes (Kafka's batch.size; the default, larger than Kafka's 16384, is what reaches peak throughput).")
    var batchSize: Int?
    @Option(help: "How long a batch may wait for more records when throttled (Kafka's linger.ms).") var lingerMs: Int?
    @Option(help: "Produce requests in flight per broker connection.") var maxInFlight: Int?
    @Option(help: "batches: pre-built batches through ProduceSender (the broker's ceiling); producer: record by record through the client library's Producer (batching, partitioning, idempotence), as an application sends.")
    var api = "batches"
    @Option(parsing: .upToNextOption, help: "Kafka producer properties (bootstrap.servers, acks, batch.size, linger.ms, compression.type, max.in.flight.requests.per.connection, and with --api producer enable.idempotence); the options above win.")
    var producerProps: [String] = []

    func run() async throws {
        let settings = try resolvedSettings()
        guard api == "batches" else { return try await runProducer(settings) }
        let cluster = try await Cluster.connect(bootstrapServers: settings.bootstrap, clientId: "brook-perf-producer", security: try ClientSecurity.of(commandConfig: commandConfig))
        do {
            let sender = try await ProduceSender<ProducerStats.BatchStamp>.connect(
                cluster: cluster, topic: topic,
                configuration: .init(acks: settings.acks, maxInFlight: settings.maxInFlight)
            )
            let workload = ProducerWorkload(
                records: numRecords, recordSize: recordSize, throughput: throughput > 0 ? throughput : nil,
                compression: settings.codec, batchSize: settings.batchSize, linger: .milliseconds(settings.lingerMs)
            )
            let (stats, end) = try await workload.run(sender: sender)
            print(stats.summary(until: end))
            await cluster.close()
        } catch {
            await cluster.close()
            throw error
        }
    }

    /// `--api producer`: records through the library's Producer.
    private func runProducer(_ settings: Settings) async throws {
        guard api == "producer" else { throw ValidationError("--api takes batches or producer, not '\(api)'") }
        var configuration = ProducerConfiguration(bootstrapServers: settings.bootstrap)
        configuration.security = try ClientSecurity.of(commandConfig: commandConfig)
        configuration.clientId = "brook-perf-producer"
        configuration.acks = settings.acks
        configuration.compression = settings.codec
        configuration.batchSize = settings.batchSize
        configuration.lingerMs = settings.lingerMs
        configuration.maxInFlightRequestsPerConnection = settings.maxInFlight
        configuration.bufferMemory = max(configuration.bufferMemory, settings.batchSize * 8)
        if let idempotence = settings.idempotence { configuration.enableIdempotence = idempotence }
        let producer = try await Producer.connect(configuration)
        let workload = RecordProducerWorkload(records: numRecords, recordSize: recordSize, throughput: throughput > 0 ? throughput : nil)
        do {
            let (stats, end) = try await workload.run(producer: producer, topic: topic)
            print(stats.summary(until: end))
            await producer.close()
        } catch {
            await producer.close()
            throw error
        }
    }

    struct Settings {
        var bootstrap: String
        var acks: Int16 = -1
        var codec: CompressionCodec = .none
        var batchSize = 1_048_576
        var lingerMs = 5
        var maxInFlight = 5
        /// enable.idempotence; nil leaves the Producer's default (on, with acks=all).
        var idempotence: Bool?
    }

    /// The options, over the producer properties, over the defaults.
    func resolvedSettings() throws -> Settings {
        var properties: [String: String] = [:]
        for pair in producerProps {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("producer property '\(pair)' is not key=value") }
            properties[parts[0]] = parts[1]
        }
        guard let bootstrap = bootstrapServer ?? properties.removeValue(forKey: "bootstrap.servers") else {
            throw ValidationError("give --bootstrap-server (or bootstrap.servers in --producer-props)")
        }
        var settings = Settings(bootstrap: bootstrap)
        if let value = acks ?? properties.removeValue(forKey: "acks") {
            switch value {
            case "0": settings.acks = 0
            case "1": settings.acks = 1
            case "-1", "all": settings.acks = -1
            default: throw ValidationError("acks must be 0, 1, -1 or all, not '\(value)'")
            }
        }
        if let name = compressionCodec ?? properties.removeValue(forKey: "compression.type") {
            guard let codec = CompressionCodec.allCases.first(where: { $0.description == name }) else {
                throw ValidationError("unknown compression codec '\(name)'")
            }
            settings.codec = codec
        }
        settings.batchSize = try batchSize ?? Self.int(properties.removeValue(forKey: "batch.size"), "batch.size") ?? settings.batchSize
        settings.lingerMs = try lingerMs ?? Self.int(properties.removeValue(forKey: "linger.ms"), "linger.ms") ?? settings.lingerMs
        settings.maxInFlight = try maxInFlight
            ?? Self.int(properties.removeValue(forKey: "max.in.flight.requests.per.connection"), "max.in.flight.requests.per.connection")
            ?? settings.maxInFlight
        if let value = properties.removeValue(forKey: "enable.idempotence") {
            guard value == "true" || value == "false" else { throw ValidationError("enable.idempotence must be true or false, not '\(value)'") }
            guard api == "producer" else { throw ValidationError("enable.idempotence needs --api producer (the batches path writes plain batches)") }
            settings.idempotence = value == "true"
        }
        guard properties.isEmpty else {
            throw ValidationError("unsupported producer properties: \(properties.keys.sorted().joined(separator: ", "))")
        }
        guard numRecords > 0, recordSize > 0 else { throw ValidationError("--num-records and --record-size must be positive") }
        guard settings.batchSize > RecordBatch.headerSize else { throw ValidationError("--batch-size must exceed \(RecordBatch.headerSize)") }
        guard settings.maxInFlight >= 1, settings.lingerMs >= 0 else {
            throw ValidationError("--max-in-flight must be at least 1 and --linger-ms not negative")
        }
        return settings
    }

    private static func int(_ value: String?, _ name: String) throws -> Int? {
        guard let value else { return nil }
        guard let number = Int(value) else { throw ValidationError("\(name) must be a whole number, not '\(value)'") }
        return number
    }
}
