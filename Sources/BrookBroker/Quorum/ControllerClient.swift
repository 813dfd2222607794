import BrookClient
import BrookModel
import BrookProtocol
import Dispatch
import Synchronization

/// This broker's requests to the active controller (AllocateProducerIds, and what a broker
/// forwards), over a connection replaced when the controller moves.
final class ControllerClient: Sendable {
    let quorum: QuorumDriver
    private let links: NodeLinks

    init(quorum: QuorumDriver) {
        self.quorum = quorum
        self.links = NodeLinks(
            clientId: RequestContext.brokerClientId(quorum.configuration.localID), security: quorum.configuration.peerSecurity)
    }

    /// Whether this node is the active controller (then callers act locally).
    var isController: Bool { quorum.status.isLeader }

    /// Sends `request` to the active controller (at `version`, else the highest both speak) and
    /// returns its answer; REQUEST_TIMED_OUT when none came within `timeout`.
    func send<Request: KafkaRequest>(
        _ request: Request, version: Int16? = nil, timeout: Duration = .seconds(30)
    ) async throws -> Request.Response {
        guard let leader = quorum.status.leader, let voter = quorum.endpoint(of: leader)
        else { throw MetadataError(.notController, "the metadata quorum has no active controller yet") }
        return try await links.send(request, host: voter.host, port: voter.port, version: version, timeout: timeout)
    }
    /// Sends `request`, which a client of `context` made, to the active controller inside an
    /// Envelope, so that the controller authorizes that client.
    func sendEnveloped<Request: KafkaRequest>(
        _ request: Request, version: Int16, context: RequestContext, timeout: Duration = .seconds(30)
    ) async throws -> Request.Response {
        let envelope = try Envelope.wrap(request, version: version, context: context)
        return try Envelope.unwrap(try await send(envelope, version: 0, timeout: timeout), as: Request.self, version: version)
    }

    /// Asks the active controller to create one topic; returns once it did, or once it
    /// answered that the topic exists. Any other answer is thrown as its error code.
    func createTopic(
        _ name: String, partitions: Int32, replicationFactor: Int16, configs: [String: String] = [:]
    ) async throws {
        let request = CreateTopicsRequest(
            topics: [.init(
                name: name, numPartitions: partitions, replicationFactor: replicationFactor,
                configs: configs.sorted { $0.key < $1.key }.map { .init(name: $0.key, value: $0.value) })],
            timeoutMs: 30_000)
        guard let result = try await send(request).topics.first else {
            throw MetadataError(.unknownServerError, "the controller answered CreateTopics for no topic")
        }
        guard result.errorCode == ErrorCode.none.rawValue || result.errorCode == ErrorCode.topicAlreadyExists.rawValue else {
            throw MetadataError(
                ErrorCode(rawValue: result.errorCode) ?? .unknownServerError, result.errorMessage ?? "error \(result.errorCode)")
        }
    }

    /// `send`, for a caller on a thread that may block (the admin and coordinator threads),
    /// waiting at most `timeout`.
    func sendBlocking<Request: KafkaRequest>(_ request: Request, timeout: Duration = .seconds(15)) throws -> Request.Response {
        try blocking(timeout: timeout) { try await self.send(request) }
    }

    /// Runs `work` (a conversation with the controller) for a caller on a thread that may
    /// block, waiting at most `timeout`: REQUEST_TIMED_OUT after that.
    func blocking<Value: Sendable>(
        timeout: Duration = .seconds(15), _ work: @escaping @Sendable () async throws -> Value
    ) throws -> Value {
        let outcome = Mutex<Result<Value, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let result: Result<Value, any Error>
            do { result = .success(try await work()) } catch { result = .failure(error) }
            outcome.withLock { $0 = result }
            done.signal()
        }
        let milliseconds = Int(timeout.components.seconds * 1000)
        guard done.wait(timeout: .now() + .milliseconds(milliseconds)) == .success, let result = outcome.withLock({ $0 }) else {
            throw MetadataError(.requestTimedOut, "the active controller did not answer within \(timeout)")
        }
        return try result.get()
    }

    func close() async {
        await links.close()
    }
}
