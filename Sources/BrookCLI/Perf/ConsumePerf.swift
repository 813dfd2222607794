import ArgumentParser
import BrookClient
import Foundation

/// `brook perf consume`: kafka-consumer-perf-test for Brook.
struct ConsumePerf: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consume",
        abstract: "Fetch records from every partition of a topic and report the throughput.",
        discussion: """
            Reads without a consumer group, from each partition's log start (or end, with \
            --from-latest), until --messages records have arrived, and prints \
            kafka-consumer-perf-test's columns. Records are counted from the batch headers \
            (control batches skipped), whole batches at a time, so the count may pass --messages. \
            MB are 2^20 bytes of record batches as fetched (batch and record framing included, \
            where Kafka counts keys and values). rebalance.time.ms is the time taken to look up \
            the partitions' leaders and starting offsets; fetch.time.ms is the rest.
            """
    )

    @Option(name: .customLong("bootstrap-server"), help: "The broker(s) to connect to, host:port[,host:port...].")
    var bootstrapServer: String
    @Option(help: "The topic to read.") var topic: String
    @Option(help: "Records to read.") var messages: Int
    @Option(help: "Most bytes per partition per fetch (Kafka's max.partition.fetch.bytes).") var fetchSize: Int32 = 1_048_576
    @Option(help: "Most bytes per fetch response (Kafka's fetch.max.bytes).") var fetchMaxBytes: Int32 = 52_428_800
    @Option(help: "Give up after this many milliseconds without a record.") var timeout: Int = 10_000
    @Flag(help: "Start at the end of each partition: read only records produced from now on.") var fromLatest = false
    @Flag(help: "Do not print the header line.") var hideHeader = false

    func run() async throws {
        guard messages > 0 else { throw ValidationError("--messages must be positive") }
        let cluster = try await Cluster.connect(bootstrapServers: bootstrapServer, clientId: "brook-perf-consumer")
        let startDate = Date()
        let clock = ContinuousClock()
        let start = clock.now
        var consumed = (records: 0, bytes: 0)
        var timedOut = false
        let fetchStart: ContinuousClock.Instant
        do {
            let loop = try await FetchLoop.open(
                cluster: cluster, topic: topic, from: fromLatest ? .latest : .earliest,
                configuration: .init(maxBytes: fetchMaxBytes, partitionMaxBytes: fetchSize)
            )
            fetchStart = clock.now
            var lastRecord = fetchStart
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
                    timedOut = true
                    break
                }
            }
        } catch {
            await cluster.close()
            throw error
        }
        let end = clock.now
        await cluster.close()
        if timedOut {
            FileHandle.standardError.write(Data("WARNING: Exiting before consuming the expected number of messages: timeout (\(timeout) ms) exceeded.\n".utf8))
        }
        let endDate = startDate.addingTimeInterval((end - start).seconds)
        let total = (end - start).seconds
        let fetching = (end - fetchStart).seconds
        let megabytes = Double(consumed.bytes) / 1_048_576
        if !hideHeader {
            print("start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec")
        }
        print("\(Self.format(startDate)), \(Self.format(endDate)), " + String(
            format: "%.4f, %.4f, %ld, %.4f, %ld, %ld, %.4f, %.4f",
            megabytes, megabytes / total, consumed.records,
            Double(consumed.records) / total, Int(((fetchStart - start).seconds * 1_000).rounded()),
            Int((fetching * 1_000).rounded()), megabytes / fetching, Double(consumed.records) / fetching
        ))
        if timedOut { throw ExitCode.failure }
    }

    /// kafka-consumer-perf-test's default date format.
    private static func format(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss:SSS"
        return formatter.string(from: date)
    }
}
