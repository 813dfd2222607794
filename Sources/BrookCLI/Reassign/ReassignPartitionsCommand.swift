import ArgumentParser
import BrookClient
import BrookModel
import Foundation

/// `brook reassign-partitions`: kafka-reassign-partitions, with its JSON files and its words.
///
///     --generate --topics-to-move-json-file F --broker-list 1,2,3   the current assignment and a proposal
///     --execute --reassignment-json-file F [--throttle B/s]          starts the moves (prints the rollback file)
///     --verify --reassignment-json-file F [--preserve-throttles]     which moves are done; clears the throttle once all are
///     --cancel --reassignment-json-file F [--preserve-throttles]     stops the moves under way, clears the throttle
///
/// `--throttle` limits the copying to that many bytes per second, as Kafka's tool does (see
/// ``ReplicationThrottle``); it stays until `--verify` finds every move done, or `--cancel`.
///
/// A proposal places each partition's replicas (as many as it has now) round the listed
/// brokers, consecutive brokers per partition and the next partition one further on, as new
/// topics are placed.
struct ReassignPartitionsCommand: AsyncParsableCommand, Sendable {
    static let configuration = CommandConfiguration(
        commandName: "reassign-partitions",
        abstract: "Move partition replicas between brokers (kafka-reassign-partitions).")

    @OptionGroup var connection: AdminOptions
    @Flag(help: "Propose a reassignment of the topics of --topics-to-move-json-file over --broker-list.") var generate = false
    @Flag(help: "Start the reassignment of --reassignment-json-file.") var execute = false
    @Flag(help: "Report which moves of --reassignment-json-file are complete.") var verify = false
    @Flag(help: "Cancel the moves of --reassignment-json-file under way.") var cancel = false
    @Option(name: .customLong("reassignment-json-file"), help: "{\"version\":1,\"partitions\":[{\"topic\":..,\"partition\":..,\"replicas\":[..]}]}")
    var reassignmentFile: String?
    @Option(name: .customLong("topics-to-move-json-file"), help: "{\"version\":1,\"topics\":[{\"topic\":..}]}")
    var topicsFile: String?
    @Option(name: .customLong("broker-list"), help: "The brokers to place replicas on, e.g. 1,2,3.") var brokerList: String?
    @Option(help: "With --execute: bytes per second the moves may copy between brokers (-1: no throttle).") var throttle: Int64 = -1
    @Flag(name: .customLong("preserve-throttles"), help: "With --verify or --cancel: keep the throttle in place.")
    var preserveThrottles = false

    struct Assignment: Codable, Equatable {
        struct Entry: Codable, Equatable {
            var topic: String
            var partition: Int32
            var replicas: [Int32]
            var log_dirs: [String]?
        }

        var version: Int = 1
        var partitions: [Entry]
    }

    struct TopicsToMove: Codable {
        struct Topic: Codable { var topic: String }
        var version: Int?
        var topics: [Topic]
    }

    func validate() throws {
        let actions = [generate, execute, verify, cancel].filter { $0 }.count
        guard actions == 1 else { throw ValidationError("give exactly one of --generate, --execute, --verify, --cancel") }
        if generate {
            guard topicsFile != nil, brokerList != nil else {
                throw ValidationError("--generate needs --topics-to-move-json-file and --broker-list")
            }
        } else if reassignmentFile == nil {
            throw ValidationError("--execute, --verify and --cancel need --reassignment-json-file")
        }
        if throttle != -1 {
            guard execute else { throw ValidationError("--throttle is only for --execute") }
            guard throttle >= 0 else { throw ValidationError("--throttle must be a number of bytes per second, not \(throttle)") }
        }
    }

    func run() async throws {
        if generate { return try await proposal() }
        let assignment: Assignment = try Self.read(reassignmentFile!)
        if execute { return try await start(assignment) }
        if verify { return try await report(assignment) }
        try await stop(assignment)
    }

    private func proposal() async throws {
        let topics: TopicsToMove = try Self.read(topicsFile!)
        let brokers = try Self.brokers(brokerList!)
        let names = topics.topics.map(\.topic)
        let described = try await connection.withCluster { cluster in try await TopicAdmin(cluster: cluster).describe(names) }
        let current = Assignment(partitions: Self.entries(described))
        var proposed = Assignment(partitions: [])
        for (index, entry) in current.partitions.enumerated() {
            let count = min(entry.replicas.count, brokers.count)
            proposed.partitions.append(.init(
                topic: entry.topic, partition: entry.partition,
                replicas: (0..<count).map { brokers[(index + $0) % brokers.count] }, log_dirs: Array(repeating: "any", count: count)))
        }
        print("Current partition replica assignment\n\(try Self.json(current))\n")
        print("Proposed partition reassignment configuration\n\(try Self.json(proposed))")
    }

    private func start(_ assignment: Assignment) async throws {
        let names = Array(Set(assignment.partitions.map(\.topic))).sorted()
        let throttle = throttle
        let (described, refused) = try await connection.withCluster { cluster in
            let described = try await TopicAdmin(cluster: cluster).describe(names)
            if throttle >= 0 {
                try await ReplicationThrottle(cluster: cluster).apply(
                    bytesPerSecond: throttle, current: Self.replicaSets(Self.entries(described)), target: Self.replicaSets(assignment.partitions))
            }
            let refused = try await ReassignmentAdmin(cluster: cluster).alter(assignment.partitions.map {
                (TopicPartition(topic: $0.topic, partition: $0.partition), Optional($0.replicas))
            })
            return (described, refused)
        }
        let moved = Set(assignment.partitions.map { "\($0.topic)-\($0.partition)" })
        let current = Assignment(partitions: Self.entries(described).filter { moved.contains("\($0.topic)-\($0.partition)") })
        print("Current partition replica assignment\n\n\(try Self.json(current))\n")
        print("Save this to use as the --reassignment-json-file option during rollback")
        if throttle >= 0 {
            print("Warning: You must run --verify periodically, until the reassignment completes, to ensure the throttle is removed.")
            print("The inter-broker throttle limit was set to \(throttle) B/s")
        }
        guard refused.isEmpty else {
            let reasons = refused.sorted { "\($0.key)" < "\($1.key)" }.map { "\($0.key.topic)-\($0.key.partition): \($0.value)" }
            throw CommandFailure("reassigning partition(s) failed: " + reasons.joined(separator: "; "))
        }
        print("Successfully started partition reassignments for \(Self.names(assignment))")
    }

    private func report(_ assignment: Assignment) async throws {
        let names = Array(Set(assignment.partitions.map(\.topic))).sorted()
        let (described, ongoing, brokers) = try await connection.withCluster { cluster in
            (try await TopicAdmin(cluster: cluster).describe(names), try await ReassignmentAdmin(cluster: cluster).list(),
             try await ClusterAdmin(cluster: cluster).describe().brokers)
        }
        let replicas = Dictionary(uniqueKeysWithValues: Self.entries(described).map { ("\($0.topic)-\($0.partition)", $0.replicas) })
        let moving = Set(ongoing.map { "\($0.partition.topic)-\($0.partition.partition)" })
        print("Status of partition reassignment:")
        for entry in assignment.partitions {
            let name = "\(entry.topic)-\(entry.partition)"
            if moving.contains(name) {
                print("Reassignment of partition \(name) is still in progress.")
            } else if replicas[name] == entry.replicas {
                print("Reassignment of partition \(name) is completed.")
            } else {
                print("There is no active reassignment of partition \(name), but replica set is \(Self.list(replicas[name] ?? [])) rather than \(Self.list(entry.replicas)).")
            }
        }
        let done = assignment.partitions.allSatisfy { !moving.contains("\($0.topic)-\($0.partition)") }
        if done && !preserveThrottles { try await clearThrottles(brokers: brokers, topics: names) }
    }

    /// Removes a reassignment's throttle, if its topics have one: the rates from the brokers
    /// that serve (`brokers`), the lists from the topics.
    private func clearThrottles(brokers: [ClusterAdmin.Broker], topics: [String]) async throws {
        try await connection.withCluster { cluster in
            let throttle = ReplicationThrottle(cluster: cluster)
            let throttled = try await throttle.throttledTopics(topics)
            guard !throttled.isEmpty else { return }
            let live = brokers.filter { $0.state == .registered }.map(\.id)
            print("Clearing broker-level throttles on brokers \(live.map(String.init).joined(separator: ","))")
            try await throttle.clear(brokers: live)
            for topic in throttled { print("Clearing topic-level throttles on topic \(topic)") }
            try await throttle.clear(topics: throttled)
        }
    }

    private func stop(_ assignment: Assignment) async throws {
        let partitions = assignment.partitions.map { TopicPartition(topic: $0.topic, partition: $0.partition) }
        let (refused, brokers) = try await connection.withCluster { cluster in
            (try await ReassignmentAdmin(cluster: cluster).alter(partitions.map { ($0, nil) }),
             try await ClusterAdmin(cluster: cluster).describe().brokers)
        }
        let cancelled = partitions.filter { refused[$0] == nil }
        if cancelled.isEmpty {
            print("None of the specified partition moves are active.")
        } else {
            print("Successfully cancelled partition reassignments for: \(cancelled.map { "\($0.topic)-\($0.partition)" }.joined(separator: ","))")
        }
        if !preserveThrottles {
            try await clearThrottles(brokers: brokers, topics: Array(Set(partitions.map(\.topic))).sorted())
        }
    }

    // MARK: Files

    static func read<Value: Decodable>(_ path: String) throws -> Value {
        guard let data = FileManager.default.contents(atPath: path) else { throw CommandFailure("cannot read \(path)") }
        do {
            return try JSONDecoder().decode(Value.self, from: data)
        } catch {
            throw CommandFailure("\(path) is not a reassignment file of the expected shape: \(error)")
        }
    }

    static func json(_ assignment: Assignment) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(assignment), as: UTF8.self)
    }

    static func brokers(_ text: String) throws -> [Int32] {
        let ids = text.split(separator: ",").map { Int32($0.trimmingCharacters(in: .whitespaces)) }
        guard !ids.isEmpty, ids.allSatisfy({ $0 != nil }) else { throw CommandFailure("--broker-list must be broker ids like 1,2,3, not '\(text)'") }
        return ids.compactMap { $0 }
    }

    static func entries(_ topics: [TopicAdmin.Description]) -> [Assignment.Entry] {
        topics.sorted { $0.name < $1.name }.flatMap { topic in
            topic.partitions.sorted { $0.partition < $1.partition }.map {
                Assignment.Entry(
                    topic: topic.name, partition: $0.partition, replicas: $0.replicas,
                    log_dirs: Array(repeating: "any", count: $0.replicas.count))
            }
        }
    }

    static func replicaSets(_ entries: [Assignment.Entry]) -> [TopicPartition: [Int32]] {
        Dictionary(entries.map { (TopicPartition(topic: $0.topic, partition: $0.partition), $0.replicas) }) { first, _ in first }
    }

    static func names(_ assignment: Assignment) -> String {
        assignment.partitions.map { "\($0.topic)-\($0.partition)" }.joined(separator: ",")
    }

    static func list(_ ids: [Int32]) -> String { "[" + ids.map(String.init).joined(separator: ",") + "]" }
}
