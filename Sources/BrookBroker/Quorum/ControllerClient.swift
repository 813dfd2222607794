import BrookClient
import BrookModel
import BrookProtocol
import Dispatch
import Synchronization

/// This broker's requests to the active controller (AllocateProducerIds, and what a broker
/// forwards), over one connection replaced when the controller moves.
final class ControllerClient: Sendable {
    let quorum: QuorumDriver
    private let link = Mutex<(voter: QuorumDriver.Voter, connection: BrokerConnection)?>(nil)

    init(quorum: QuorumDriver) {
        self.quorum = quorum
    }

    /// Whether this node is the active controller (then callers act locally).
    var isController: Bool { quorum.status.role == "leader" }

    /// Sends `request` to the active controller and returns its answer.
    func send<Request: KafkaRequest>(_ request: Request) async throws -> Request.Response {
        guard let leader = quorum.status.leader,
            let voter = quorum.configuration.voters.first(where: { $0.id == leader })
        else { throw MetadataError(.notController, "the metadata quorum has no active controller yet") }
        let connection: BrokerConnection
        if let current = link.withLock({ $0 }), current.voter == voter {
            connection = current.connection
        } else {
            connection = try await BrokerConnection.connect(host: voter.host, port: voter.port, clientId: "brook-broker-\(quorum.configuration.localID)")
            let replaced = link.withLock { link in
                defer { link = (voter, connection) }
                return link?.connection
            }
            await replaced?.close()
        }
        do {
            return try await connection.send(request)
        } catch {
            let dropped = link.withLock { link -> BrokerConnection? in
                guard let current = link, current.connection === connection else { return nil }
                link = nil
                return current.connection
            }
            await dropped?.close()
            throw error
        }
    }

    /// `send`, for a caller on a thread that may block (the admin and coordinator threads),
    /// waiting at most `timeout`.
    func sendBlocking<Request: KafkaRequest>(_ request: Request, timeout: Duration = .seconds(15)) throws -> Request.Response {
        let outcome = Mutex<Result<Request.Response, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let result: Result<Request.Response, any Error>
            do { result = .success(try await send(request)) } catch { result = .failure(error) }
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
        let open = link.withLock { link in defer { link = nil }; return link?.connection }
        await open?.close()
    }
}
