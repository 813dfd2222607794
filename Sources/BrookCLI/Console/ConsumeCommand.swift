import ArgumentParser
import BrookClient
import BrookModel
import Foundation
import Synchronization
import UnixSignals

/// `brook consume`: prints the records of a topic, one per line, as kafka-console-consumer does.
///
/// Without `--group` the command reads every partition (or `--partition`) from its end, or
/// from its start with `--from-beginning`, or from `--offset`. With `--group` it subscribes as a
/// member of that consumer group, starts where the group committed (else per
/// `--from-beginning`), and commits what it printed (auto-commit, and on exit). It stops after
/// `--max-messages` records, after `--timeout-ms` without a record, or on SIGINT/SIGTERM, and
/// then prints "Processed a total of N messages" on stderr. A cluster that stops answering fails
/// the command (the client's requests have no deadline of their own) rather than hanging it.
struct ConsumeCommand: AsyncParsableCommand, Sendable {
    static let configuration = CommandConfiguration(
        commandName: "consume", abstract: "Print the records of a topic, one per line.")

    @Option(name: .customLong("bootstrap-server"), help: "The broker(s) to connect to, host:port[,host:port...].")
    var bootstrapServer: String
    @Option(name: .customLong("command-config"), help: "A Kafka client properties file with the security settings.")
    var commandConfig: String?
    @Option(help: "The topic to read.") var topic: String
    @Option(help: "A consumer group to consume as a member of (subscribe, commit).") var group: String?
    @Flag(help: "Start at the earliest offset (without --group, or when the group has no committed offset).")
    var fromBeginning = false
    @Option(help: "Exit after printing this many records.") var maxMessages: Int?
    @Option(help: "Read only this partition (without --group).") var partition: Int32?
    @Option(help: "With --partition: the offset to start at, or earliest or latest.") var offset: String?
    @Option(name: .customLong("property"),
            help: "print.key|print.timestamp|print.headers|print.partition|print.offset|print.value=true|false, key.separator=SEP, line.separator=SEP, headers.separator=SEP, null.literal=TEXT (repeatable).")
    var properties: [String] = []
    @Option(name: .customLong("consumer-property"), help: "A consumer config as key=value (repeatable).")
    var consumerProperties: [String] = []
    @Option(help: "read_uncommitted or read_committed.") var isolationLevel = "read_uncommitted"
    @Option(name: .customLong("timeout-ms"), help: "Exit after this many milliseconds without a record.") var timeoutMs: Int?

    func validate() throws {
        try TopicName.validate(topic)
        if let maxMessages, maxMessages <= 0 { throw ValidationError("--max-messages must be positive") }
        if let timeoutMs, timeoutMs < 0 { throw ValidationError("--timeout-ms must not be negative") }
        if let partition, partition < 0 { throw ValidationError("--partition must not be negative") }
        if group != nil && partition != nil { throw ValidationError("--partition cannot be used with --group") }
        if offset != nil && partition == nil { throw ValidationError("--offset needs --partition") }
        if offset != nil && fromBeginning { throw ValidationError("--offset cannot be used with --from-beginning") }
        if let offset, !["earliest", "latest"].contains(offset), Int64(offset).map({ $0 < 0 }) ?? true {
            throw ValidationError("--offset must be a non-negative number, earliest or latest, not '\(offset)'")
        }
        guard ["read_uncommitted", "read_committed"].contains(isolationLevel) else {
            throw ValidationError("--isolation-level must be read_committed or read_uncommitted")
        }
        _ = try RecordFormatter(properties)
        _ = try consumerConfiguration()
    }

    func run() async throws {
        let formatter = try RecordFormatter(properties)
        let configuration = try consumerConfiguration()
        let consumer = try await answered { try await Consumer.connect(configuration) }
        let stop = StopSignal()
        let signals = Task { await stop.trap() }
        defer { signals.cancel() }
        let count: Int
        do {
            try await answered { try await self.start(consumer) }
            count = try await printRecords(of: consumer, with: formatter, until: stop)
        } catch {
            await consumer.close()
            throw error
        }
        await consumer.close()
        FileHandle.standardError.write(Data("Processed a total of \(count) messages\n".utf8))
    }

    /// Assigns (or subscribes) and positions the consumer.
    private func start(_ consumer: Consumer) async throws {
        let partitions = try await consumer.partitions(for: topic)
        if group != nil {
            try consumer.subscribe(topics: [topic])
            return
        }
        var chosen = partitions
        if let partition {
            let wanted = TopicPartition(topic: topic, partition: partition)
            guard partitions.contains(wanted) else { throw CommandFailure("partition \(partition) of topic \(topic) does not exist") }
            chosen = [wanted]
        }
        consumer.assign(chosen)
        switch offset {
        case "earliest": try await consumer.seekToBeginning(chosen)
        case "latest": try await consumer.seekToEnd(chosen)
        case let offset?: consumer.seek(chosen[0], to: Int64(offset)!)
        case nil: fromBeginning ? try await consumer.seekToBeginning(chosen) : try await consumer.seekToEnd(chosen)
        }
    }

    /// Prints records until --max-messages, --timeout-ms or a signal; returns how many.
    private func printRecords(of consumer: Consumer, with formatter: RecordFormatter, until stop: StopSignal) async throws -> Int {
        var count = 0
        var lastRecord = ContinuousClock.now
        while maxMessages.map({ count < $0 }) ?? true, !stop.isSet {
            var wait = Duration.milliseconds(200)
            if let timeoutMs {
                let left = lastRecord + .milliseconds(timeoutMs) - ContinuousClock.now
                guard left > .zero else { break }
                wait = min(wait, left)
            }
            let timeout = wait
            let records = try await answered(within: timeout + .seconds(15)) { try await consumer.poll(timeout: timeout) }
            guard !records.isEmpty else { continue }
            lastRecord = ContinuousClock.now
            var out: [UInt8] = []
            var unprinted: [TopicPartition: Int64] = [:]
            for record in records {
                if let maxMessages, count >= maxMessages {
                    let partition = TopicPartition(topic: record.topic, partition: record.partition)
                    unprinted[partition] = min(unprinted[partition] ?? .max, record.offset)
                    continue
                }
                formatter.write(record, to: &out)
                count += 1
            }
            FileHandle.standardOutput.write(Data(out))
            // The group commits positions on close: rewind past the records left unprinted.
            for (partition, offset) in unprinted { consumer.seek(partition, to: offset) }
        }
        return count
    }

    /// The result of `work`; a cluster that does not answer within `limit` fails the command.
    private func answered<Result: Sendable>(
        within limit: Duration = .seconds(30), _ work: @escaping @Sendable () async throws -> Result
    ) async throws -> Result {
        do {
            return try await Deadline.run(after: limit, work)
        } catch is Deadline.Expired {
            throw CommandFailure("no answer from the cluster at \(bootstrapServer) within \(limit)")
        }
    }

    private func consumerConfiguration() throws -> ConsumerConfiguration {
        var configuration = ConsumerConfiguration(bootstrapServers: bootstrapServer)
        configuration.clientId = "brook-consume"
        configuration.security = try ClientSecurity.of(commandConfig: commandConfig)
        configuration.groupId = group
        configuration.autoOffsetReset = fromBeginning ? .earliest : .latest
        configuration.readCommitted = isolationLevel == "read_committed"
        for property in consumerProperties {
            let (key, value) = try KeyValue.parse(property, flag: "--consumer-property")
            func int() throws -> Int {
                guard let number = Int(value) else { throw ValidationError("\(key) must be a number, not '\(value)'") }
                return number
            }
            func int32() throws -> Int32 {
                guard let number = Int32(value) else { throw ValidationError("\(key) must be a number, not '\(value)'") }
                return number
            }
            switch key {
            case "group.protocol":
                guard let groupProtocol = ConsumerConfiguration.GroupProtocol(rawValue: value.lowercased()) else {
                    throw ValidationError("group.protocol must be classic or consumer, not '\(value)'")
                }
                configuration.groupProtocol = groupProtocol
            case "partition.assignment.strategy":
                configuration.partitionAssignmentStrategy = try value.split(separator: ",").map { name in
                    let trimmed = name.trimmingCharacters(in: .whitespaces)
                    guard let strategy = AssignmentStrategy(rawValue: trimmed) else {
                        throw ValidationError("unknown assignor '\(trimmed)' (range, roundrobin, cooperative-sticky)")
                    }
                    return strategy.assignor
                }
            case "group.remote.assignor": configuration.groupRemoteAssignor = value
            case "group.instance.id": configuration.groupInstanceId = value
            case "client.id": configuration.clientId = value
            case "auto.offset.reset":
                guard let reset = ConsumerConfiguration.OffsetReset(rawValue: value) else {
                    throw ValidationError("auto.offset.reset must be earliest, latest or none")
                }
                configuration.autoOffsetReset = reset
            case "enable.auto.commit": configuration.enableAutoCommit = value == "true"
            case "auto.commit.interval.ms": configuration.autoCommitIntervalMs = try int()
            case "session.timeout.ms": configuration.sessionTimeoutMs = try int32()
            case "heartbeat.interval.ms": configuration.heartbeatIntervalMs = try int32()
            case "max.poll.interval.ms": configuration.maxPollIntervalMs = try int32()
            case "max.poll.records": configuration.maxPollRecords = try int()
            case "metadata.max.age.ms": configuration.metadataMaxAgeMs = try int()
            case "fetch.max.wait.ms": configuration.fetchMaxWaitMs = try int32()
            case "fetch.min.bytes": configuration.fetchMinBytes = try int32()
            case "max.partition.fetch.bytes": configuration.maxPartitionFetchBytes = try int32()
            case "isolation.level": configuration.readCommitted = value == "read_committed"
            default: throw ValidationError("unsupported consumer property '\(key)'")
            }
        }
        return configuration
    }
}

/// Kafka's rules for topic names.
enum TopicName {
    static func validate(_ name: String) throws {
        guard !name.isEmpty else { throw ValidationError("the topic name must not be empty") }
        guard name != "." && name != ".." else { throw ValidationError("'\(name)' is not a valid topic name") }
        guard name.utf8.count <= 249 else { throw ValidationError("topic names are at most 249 characters long") }
        guard name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) }) else {
            throw ValidationError("'\(name)' is not a valid topic name: only ASCII letters, digits, '.', '_' and '-' are allowed")
        }
    }
}

/// Set by SIGINT or SIGTERM: the consumer finishes its loop, commits and leaves its group.
final class StopSignal: Sendable {
    private let flag = Atomic(false)

    var isSet: Bool { flag.load(ordering: .relaxed) }

    func trap() async {
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        for await _ in signals {
            flag.store(true, ordering: .relaxed)
        }
    }
}
