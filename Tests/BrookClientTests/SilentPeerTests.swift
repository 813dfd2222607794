#if canImport(Glibc)
import Glibc
#endif
import BrookClient
import BrookProtocol
import Foundation
import Synchronization
import Testing

/// A peer whose kernel accepts connections for it but that never answers (a SIGSTOPped broker,
/// or one behind a cut link): connecting and waiting for a response give up after their timeout,
/// or at once when the caller is cancelled, instead of waiting forever.
@Suite struct SilentPeerTests {
    /// A listening socket on 127.0.0.1 that never accepts; returns its descriptor and port.
    static func silentListener() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        try #require(bound && listen(fd, 8) == 0)
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    @Test func aPeerThatNeverAnswersIsUnreachableAfterTheTimeout() async throws {
        let (fd, port) = try Self.silentListener()
        defer { close(fd) }
        let started = ContinuousClock.now
        await #expect(throws: ClientError.self) {
            _ = try await BrokerConnection.connect(host: "127.0.0.1", port: port, timeout: .milliseconds(300))
        }
        // Without the timeout it never returns; the bound is loose for a loaded machine whose
        // cooperative pool may run the timer late.
        #expect(ContinuousClock.now - started < .seconds(120), "it gave up instead of waiting for an answer")
    }

    @Test func cancellingAConnectToAPeerThatNeverAnswersEndsIt() async throws {
        let (fd, port) = try Self.silentListener()
        defer { close(fd) }
        let connecting = Task { try await BrokerConnection.connect(host: "127.0.0.1", port: port, timeout: .seconds(3_600)) }
        connecting.cancel()
        let ended = await Self.completes(within: .seconds(60)) { _ = try? await connecting.value }
        #expect(ended, "a cancelled connect waited for the peer's answer")
    }

    @Test func aPeerThatStallsInTheSaslExchangeIsUnreachableAfterTheTimeout() async throws {
        // It answers ApiVersions and nothing after: SaslHandshake is never answered.
        let cluster = try await FakeCluster.start(topic: "stalled", nodes: [1], leader: 1)
        cluster.state.withLock { $0.silent = true }
        let port = try #require(cluster.state.withLock { $0.ports[1] })
        let security = try ClientSecurity(properties: [
            "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN", "sasl.username": "a", "sasl.password": "b",
        ])
        let outcome = Mutex<(any Error)?>(nil)
        let ended = await Self.completes(within: .seconds(60)) {
            do {
                _ = try await BrokerConnection.connect(host: "127.0.0.1", port: port, timeout: .milliseconds(300), security: security)
            } catch {
                outcome.withLock { $0 = error }
            }
        }
        #expect(ended, "the connect waited for an authentication that never came")
        #expect(outcome.withLock { $0.map { "\($0)" } } == ClientError.unreachable(broker: "127.0.0.1:\(port)").description)
        await cluster.shutdown()
    }

    @Test func aResponseThatNeverComesTimesOutOrEndsWhenTheCallerIsCancelled() async throws {
        let cluster = try await FakeCluster.start(topic: "quiet", nodes: [1], leader: 1)
        let port = try #require(cluster.state.withLock { $0.ports[1] })
        let connection = try await BrokerConnection.connect(host: "127.0.0.1", port: port)
        cluster.state.withLock { $0.silent = true }
        let pending = try connection.enqueue(MetadataRequest(topics: nil))
        let error = await #expect(throws: ClientError.self) {
            _ = try await pending.get(timeout: .milliseconds(200))
        }
        #expect(error?.description == ClientError.timedOut(broker: "127.0.0.1:\(port)").description)
        // Giving up is the caller's choice: the connection is left open.
        #expect(connection.isOpen)

        // Cancelling the wait ends it too.
        let waiting = Task { try await connection.enqueue(MetadataRequest(topics: nil)).get(timeout: .seconds(3_600)) }
        waiting.cancel()
        let ended = await Self.completes(within: .seconds(60)) {
            await #expect(throws: CancellationError.self) { _ = try await waiting.value }
        }
        #expect(ended, "a cancelled wait for a response went on waiting")
        await connection.close()
        await cluster.shutdown()
    }

    /// Whether `work` finished within `limit`; a `work` that never finishes is left behind
    /// rather than hanging the test.
    static func completes(within limit: Duration, _ work: @escaping @Sendable () async -> Void) async -> Bool {
        let first = AsyncStream<Bool>.makeStream()
        let worker = Task {
            await work()
            first.continuation.yield(true)
        }
        let timer = Task {
            try? await Task.sleep(for: limit)
            first.continuation.yield(false)
        }
        var iterator = first.stream.makeAsyncIterator()
        let finished = await iterator.next() ?? false
        timer.cancel()
        _ = worker
        return finished
    }
}
