import BrookBroker
import BrookProtocol
import Dispatch
import Foundation
import Logging
import NIOCore
import ServiceLifecycle

/// The broker the ``FuzzTarget/broker`` target talks to: started once per process on a
/// temporary directory (in `/dev/shm` where there is one, so that the fsyncs durable produce
/// requests wait for cost nothing and executions are not bound by the disk), served in-process
/// through its ``RequestRouter`` (no sockets), removed at exit.
///
/// A few requests are tamed before they are routed, so that a fuzz run measures handlers and
/// not waiting or disk space: Fetch waits 0 ms, group timeouts are capped, and topic and
/// partition counts are bounded (an unbounded CreateTopics would make a million partition
/// directories, which Kafka also permits). The request is decoded and checked untamed first.
final class FuzzBroker: Sendable {
    /// Beyond this many topics, topic creation is only validated.
    static let maximumTopics = 200
    static let maximumPartitionsPerTopic: Int32 = 4
    /// A request not answered within this time is left running and counted in ``abandoned``.
    static let answerTimeout: Double = 2

    /// Started on first use; a broker that cannot start fails every input of the target (in
    /// tests, as issues rather than a trap of the whole test process).
    static let shared: Result<FuzzBroker, FuzzFailure> = Result { () throws(FuzzFailure) in try FuzzBroker() }

    /// How long the broker may take to start: generous, as a test process's cooperative pool may
    /// be busy with other suites' blocking work for a while.
    static let startTimeout: Double = 600

    let router: RequestRouter
    let metadata: MetadataStore
    let directory: String
    private let abandonedRequests = Locked(0)

    /// Requests left unanswered after ``answerTimeout``.
    var abandoned: Int { abandonedRequests.value }

    private init() throws(FuzzFailure) {
        let directory = Self.scratchParent()
            .appendingPathComponent("brook-fuzz-\(ProcessInfo.processInfo.processIdentifier)").path
        try? FileManager.default.removeItem(atPath: directory)
        var quiet = Logger(label: "brook-fuzz")
        quiet.logLevel = .critical
        let logger = quiet
        let config: BrokerConfig
        let broker: Broker
        do {
            config = try BrokerConfig(overrides: [
                "listeners=PLAINTEXT://127.0.0.1:0", "log.dirs=\(directory)",
                "group.initial.rebalance.delay.ms=0", "group.min.session.timeout.ms=10",
                "group.max.session.timeout.ms=1000", "offsets.topic.num.partitions=1",
                "transaction.state.log.num.partitions=1", "log.segment.bytes=1048576",
                "log.retention.bytes=4194304", "log.retention.check.interval.ms=1000",
                "transaction.max.timeout.ms=10000",
            ])
            broker = try Blocking.run(timeout: Self.startTimeout) { try await Broker.start(config: config, logger: logger) }
        } catch {
            throw FuzzFailure("brook-fuzz: cannot start the in-process broker: \(error)")
        }
        let group = ServiceGroup(services: broker.services, logger: logger)
        Task.detached { try? await group.run() }
        self.router = broker.server.router
        self.metadata = broker.metadata
        self.directory = directory
        FuzzBrokerCleanup.directory = directory
        FuzzBrokerCleanup.abandoned = abandonedRequests
        atexit { FuzzBrokerCleanup.run() }
    }

    /// `/dev/shm` (memory) when it is a writable directory, else the temporary directory.
    private static func scratchParent() -> URL {
        let memory = "/dev/shm"
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: memory, isDirectory: &isDirectory), isDirectory.boolValue,
           FileManager.default.isWritableFile(atPath: memory) {
            return URL(fileURLWithPath: memory)
        }
        return FileManager.default.temporaryDirectory
    }

    /// Routes one frame and checks the response; false when the router closes the connection
    /// (or does not answer in time), as the rest of the stream would then go unread.
    func serve(_ frame: RequestFrame, decoded request: (any KafkaRequest)?) throws(FuzzFailure) -> Bool {
        var frame = frame
        if let request, let tamed = tamed(request) {
            guard let tamed = tamed,
                  let body = try? RoundTrip.encode(tamed, version: frame.apiVersion, "tamed request") else { return true }
            frame.body = body
        }
        let context = RequestContext(
            header: frame.header, apiVersion: frame.apiVersion, remoteAddress: nil, listenerName: "PLAINTEXT")
        let router = self.router
        let routedFrame = frame
        let routed: RoutedResponse
        do {
            routed = try Blocking.run(timeout: Self.answerTimeout) { await router.route(routedFrame, context: context).resolved() }
        } catch {
            abandonedRequests.update { $0 += 1 }
            return false
        }
        switch routed {
        case .frame(let response):
            try ResponseCheck.check(response, to: frame, router: router)
        case .parts(let parts, let fileHandles):
            defer { for handle in fileHandles { try? handle.close() } }
            try ResponseCheck.check(try ResponseCheck.assemble(parts), to: frame, router: router)
        case .none:
            try fuzzCheck(request is ProduceRequest, "only Produce with acks=0 goes unanswered, not \(frame.apiKeyValue)")
        case .closeConnection:
            return false
        case .later:
            throw FuzzFailure("a resolved answer is still to come")
        }
        return true
    }

    /// The request to route instead of `request`: nil to route it as is, `.some(nil)` to skip it.
    private func tamed(_ request: any KafkaRequest) -> (any KafkaRequest)?? {
        let full = metadata.image.topics.count >= Self.maximumTopics
        let cap = Self.maximumPartitionsPerTopic
        switch request {
        case var fetch as FetchRequest:
            fetch.maxWaitMs = 0
            return fetch
        case var join as JoinGroupRequest:
            // A join or a follower's SyncGroup waits for the rebalance to complete or time out:
            // short timeouts keep an input from waiting most of a second.
            join.rebalanceTimeoutMs = min(join.rebalanceTimeoutMs, 20)
            join.sessionTimeoutMs = min(join.sessionTimeoutMs, 100)
            return join
        case var create as CreateTopicsRequest:
            for index in create.topics.indices {
                create.topics[index].numPartitions = min(create.topics[index].numPartitions, cap)
                create.topics[index].assignments = Array(create.topics[index].assignments.prefix(Int(cap)))
            }
            // v0 has no validateOnly: encoding it fails, and the request is skipped.
            if full { create.validateOnly = true }
            return create
        case var create as CreatePartitionsRequest:
            for index in create.topics.indices {
                create.topics[index].count = min(create.topics[index].count, cap * 2)
                create.topics[index].assignments = create.topics[index].assignments.map { Array($0.prefix(Int(cap) * 2)) }
            }
            if full { create.validateOnly = true }
            return create
        case var lookup as MetadataRequest where full:
            lookup.allowAutoTopicCreation = false
            return lookup
        default:
            return nil
        }
    }
}

/// Removes the broker's directory when the process exits, and says how many requests went
/// unanswered within ``FuzzBroker/answerTimeout``.
enum FuzzBrokerCleanup {
    nonisolated(unsafe) static var directory: String?
    nonisolated(unsafe) static var abandoned: Locked<Int>?

    static func run() {
        if let count = abandoned?.value, count > 0 {
            FileHandle.standardError.write(Data("brook-fuzz broker: \(count) requests unanswered after \(FuzzBroker.answerTimeout) s\n".utf8))
        }
        if let directory { try? FileManager.default.removeItem(atPath: directory) }
    }
}
