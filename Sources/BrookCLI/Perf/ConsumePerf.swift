import ArgumentParser
import BrookClient
import Foundation
import NIOCore

/// `brook perf consume`: kafka-consumer-perf-test for Brook.
struct ConsumePerf: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consume",
        abstract: "Fetch records from every partition of a topic and report the throughput.",
        discussion: """
            Reads without a consumer group, from each partition's log start (or end, with \
            --from-latest), until --messages records have arrived, and prints \
            kafka-consumer-perf-test's columns. With --api fetches (the default) records are \
            counted from the batch headers (control batches skipped), whole batches at a time, so \
            the count may pass --messages, and MB are 2^20 bytes of record batches as fetched \
            (batch and record framing included). With --api consumer every record goes through \
            the client library's Consumer and MB count keys and values, as Kafka does. \
            rebalance.time.ms is the time taken to look up the partitions' leaders and starting \
            offsets; fetch.time.ms is the rest.
            """
    )

    @Option(name: .customLong("command-config"), help: "A Kafka client properties file with the security settings.")
    var commandConfig: String?
    @Option(name: .customLong("bootstrap-server"), help: "The broker(s) to connect to, host:port[,host:port...].")
    var bootstrapServer: String
    @Option(help: "The topic to read.") var topic: String
    @Option(help: "Records to read.") var messages: Int
    @Option(help: "Most bytes per partition per fetch (Kafka's max.partition.fetch.bytes).") var fetchSize: Int32 = 1_048_576
    @Option(help: "Most bytes per fetch response (Kafka's fetch.max.bytes).") var fetchMaxBytes: Int32 = 52_428_800
    @Option(help: "Give up after this many milliseconds without a record.") var timeout: Int = 10_000
    @Flag(help: "Start at the end of each partition: read only records produced from now on.") var fromLatest = false
    @Flag(help: "Do not print the header line.") var hideHeader = false

    @Option(help: "fetches: whole batches through FetchLoop, records counted from batch headers (the broker's ceiling); consumer: record by record through the client library's Consumer, as an application reads them.")
    var api = "fetches"

    /// What a run consumed, and when fetching began.
    struct Consumed {
        var records = 0
        var bytes = 0
        var fetchStart: ContinuousClock.Instant
        var timedOut = false
    }

    func run() async throws {
        guard messages > 0 else { throw ValidationError("--messages must be positive") }
        guard api == "fetches" || api == "consumer" else { throw ValidationError("--api takes fetches or consumer, not '\(api)'") }
        let startDate = Date()
        let clock = ContinuousClock()
        let start = clock.now
        let consumed = api == "fetches" ? try await fetchBatches(clock: clock) : try await consumeRecords(clock: clock)
        let end = clock.now
        if consumed.timedOut {
            FileHandle.standardError.write(Data("WARNING: Exiting before consuming the expected number of messages: timeout (\(timeout) ms) exceeded.\n".utf8))
        }
        let endDate = startDate.addingTimeInterval((end - start).seconds)
        let total = (end - start).seconds
        let fetching = (end - consumed.fetchStart).seconds
        let megabytes = Double(consumed.bytes) / 1_048_576
        if !hideHeader {
            print("start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec")
        }
        print("\(Self.format(startDate)), \(Self.format(endDate)), " + String(
            format: "%.4f, %.4f, %ld, %.4f, %ld, %ld, %.4f, %.4f",
            megabytes, megabytes / total, consumed.records,
            Double(consumed.records) / total, Int(((consumed.fetchStart - start).seconds * 1_000).rounded()),
            Int((fetching * 1_000).rounded()), megabytes / fetching, Double(consumed.records) / fetching
        ))
        if consumed.timedOut { throw ExitCode.failure }
    }

    /// `--api fetches`: whole batches, counted from their headers; bytes are the batches' own.
    private func fetchBatches(clock: ContinuousClock) async throws -> Consumed {
        let cluster = try await Cluster.connect(bootstrapServers: bootstrapServer, clientId: "brook-perf-consumer", security: try ClientSecurity.of(commandConfig: commandConfig))
        do {
            let loop = try await FetchLoop.open(
                cluster: cluster, topic: topic, from: fromLatest ? .latest : .earliest,
                configuration: .init(maxBytes: fetchMaxBytes, partitionMaxBytes: fetchSize)
            )
            var consumed = Consumed(fetchStart: clock.now)
            var lastRecord = consumed.fetchStart
            while consumed.records < messages {
                let fetched = try await loop.next()
                for partition in fetched {
                    consumed.records += partition.recordCount
                    consumed.bytes += partition.batchBytes
                }
                let now = clock.now
                if fetched.contains(where: { $0.recordCount > 0 }) {
                    lastRecord = now
                } else if now - lastRecord > .milliseconds(timeout) {
                    consumed.timedOut = true
                    break
                }
            }
            await cluster.close()
            return consumed
        } catch {
            await cluster.close()
            throw error
        }
    }

    /// `--api consumer`: every record through ``Consumer/poll(timeout:)``; bytes are keys and
    /// values, as Kafka counts them.
    private func consumeRecords(clock: ContinuousClock) async throws -> Consumed {
        var configuration = ConsumerConfiguration(bootstrapServers: bootstrapServer)
        configuration.security = try ClientSecurity.of(commandConfig: commandConfig)
        configuration.clientId = "brook-perf-consumer"
        configuration.autoOffsetReset = fromLatest ? .latest : .earliest
        configuration.maxPartitionFetchBytes = fetchSize
        configuration.fetchMaxBytes = fetchMaxBytes
        configuration.enableAutoCommit = false
        let consumer = try await Consumer.connect(configuration)
        do {
            consumer.assign(try await consumer.partitions(for: topic))
            var consumed = Consumed(fetchStart: clock.now)
            var lastRecord = consumed.fetchStart
            while consumed.records < messages {
                let records = try await consumer.poll(timeout: .milliseconds(100))
                for record in records {
                    consumed.bytes += (record.key?.readableBytes ?? 0) + (record.value?.readableBytes ?? 0)
                }
                consumed.records += records.count
                let now = clock.now
                if !records.isEmpty {
                    lastRecord = now
                } else if now - lastRecord > .milliseconds(timeout) {
                    consumed.timedOut = true
                    break
                }
            }
            await consumer.close()
            return consumed
        } catch {
            await consumer.close()
            throw error
        }
    }

    /// kafka-consumer-perf-test's default date format.
    private static func format(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss:SSS"
        return formatter.string(from: date)
    }
}
