import BrookProtocol
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// One connection to one broker. Requests may be pipelined; each call returns its own response.
/// On connect it asks the broker's API versions, and every request then uses the highest
/// version both sides speak.
public final class BrokerConnection: Sendable {
    public let address: String
    public let clientId: String
    private let channel: any Channel
    private let nextCorrelationId = Atomic<Int32>(1)
    private let brokerVersions: Mutex<[Int16: ClosedRange<Int16>]> = Mutex([:])

    private init(address: String, clientId: String, channel: any Channel) {
        self.address = address
        self.clientId = clientId
        self.channel = channel
    }

    /// Connects to `host:port`, negotiates API versions and, with SASL, authenticates. A peer
    /// that accepts the connection but does not get through both within `timeout` (a stopped
    /// process: the kernel still accepts for it) is unreachable; a refused authentication is
    /// thrown as the broker's error.
    public static func connect(
        host: String, port: Int, clientId: String = "brook-cli",
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, timeout: Duration = .seconds(30),
        security: ClientSecurity = .plaintext
    ) async throws -> BrokerConnection {
        let channel: any Channel
        do {
            channel = try await Self.open(host: host, port: port, group: group, security: security)
        } catch {
            throw ClientError.unreachable(broker: "\(host):\(port)")
        }
        let connection = BrokerConnection(address: "\(host):\(port)", clientId: clientId, channel: channel)
        // The waits for answers end only when the channel closes: closing it is how both the
        // deadline and a cancelled caller end them.
        let deadline = ContinuousClock.now + timeout
        do {
            let ready = try await withTaskCancellationHandler {
                try await withThrowingTaskGroup(of: Bool.self) { tasks in
                    tasks.addTask {
                        try await connection.negotiateVersions()
                        if let sasl = try security.saslExchange() { try await connection.authenticate(sasl) }
                        return true
                    }
                    tasks.addTask {
                        try await Task.sleep(until: deadline)
                        await connection.close()
                        return false
                    }
                    defer { tasks.cancelAll() }
                    return try await tasks.next() ?? false
                }
            } onCancel: {
                connection.channel.close(promise: nil)
            }
            guard ready else { throw ClientError.unreachable(broker: "\(host):\(port)") }
        } catch {
            await connection.close()
            // The deadline closed the channel under a request: the peer did not answer in time.
            if ContinuousClock.now >= deadline, !(error is CancellationError) { throw ClientError.unreachable(broker: "\(host):\(port)") }
            throw error
        }
        return connection
    }

    private static func open(host: String, port: Int, group: any EventLoopGroup, security: ClientSecurity) async throws -> any Channel {
        try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .connectTimeout(.seconds(10))
            // A 4 MiB receive buffer and reads that grow up to 4 MiB: a Fetch response of a few
            // MiB arrives in few reads (1 KiB records are consumed about 10% faster than with
            // 1 MiB reads and the default buffer).
            .channelOption(.socketOption(.so_rcvbuf), value: 4 << 20)
            .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2_048, maximum: 4 << 20))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls = security.tls {
                        // SNI and the name check need a name: an address connected to by IP is not checked.
                        let isAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
                        let hostname = security.verifiesHostname && !isAddress ? host : nil
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: hostname))
                    }
                    try channel.pipeline.syncOperations.addHandler(FrameAssembler())
                    try channel.pipeline.syncOperations.addHandler(ResponseMatcher())
                }
            }
            .connect(host: host, port: port).get()
    }

    /// Sends `request` at the highest version both sides support (or `version`) and returns the response.
    public func send<Request: KafkaRequest>(_ request: Request, version: Int16? = nil) async throws -> Request.Response {
        try await enqueue(request, version: version).get()
    }

    /// Writes `request` now and returns a handle on its response without waiting for it, so
    /// that one task can keep several requests in flight on this connection. Requests go out
    /// in the order of the calls and the broker answers them in that order.
    ///
    /// - Parameter frameCapacity: bytes to reserve for the encoded frame; a Produce request
    ///   should pass the size of its records so that encoding copies them once.
    public func enqueue<Request: KafkaRequest>(
        _ request: Request, version: Int16? = nil, frameCapacity: Int = 256
    ) throws -> PendingResponse<Request.Response> {
        let version = try version ?? negotiatedVersion(of: Request.self)
        let correlationId = nextCorrelationId.add(1, ordering: .relaxed).oldValue
        let frame = try encode(request, version: version, correlationId: correlationId, capacity: frameCapacity)
        let promise = channel.eventLoop.makePromise(of: ResponseFrame.self)
        // A write to a closed channel never reaches the ResponseMatcher, which would otherwise
        // fail the response: fail it here (completing a promise twice is a no-op in NIO).
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { promise.fail($0) }
        channel.writeAndFlush(ResponseMatcher.PendingRequest(frame: frame, response: promise), promise: written)
        return PendingResponse(
            frame: promise.futureResult, correlationId: correlationId, version: version,
            headerVersion: Request.apiKey.responseHeaderVersion(version), broker: address
        )
    }

    /// Writes a request the broker does not answer (Produce with acks=0). The handle completes
    /// once the frame has been handed to the socket; awaiting it bounds what is queued.
    public func enqueueUnanswered<Request: KafkaRequest>(
        _ request: Request, version: Int16? = nil, frameCapacity: Int = 256
    ) throws -> PendingWrite {
        let version = try version ?? negotiatedVersion(of: Request.self)
        let correlationId = nextCorrelationId.add(1, ordering: .relaxed).oldValue
        let frame = try encode(request, version: version, correlationId: correlationId, capacity: frameCapacity)
        let written = channel.writeAndFlush(ResponseMatcher.PendingRequest(frame: frame, response: nil))
        return PendingWrite(written: written.map { ContinuousClock.now }, broker: address)
    }

    private func encode<Request: KafkaRequest>(
        _ request: Request, version: Int16, correlationId: Int32, capacity: Int
    ) throws -> ByteBuffer {
        var frame = channel.allocator.buffer(capacity: capacity)
        try frame.writeRequestFrame(request, version: version, correlationId: correlationId, clientId: clientId)
        return frame
    }

    /// The version `Request` is sent at: the highest this client and the broker share.
    public func negotiatedVersion<Request: KafkaRequest>(of _: Request.Type) throws -> Int16 {
        let ours = Request.validVersions
        guard let theirs = brokerVersions.withLock({ $0[Request.apiKey.rawValue] }),
              theirs.lowerBound <= ours.upperBound, ours.lowerBound <= theirs.upperBound else {
            throw ClientError.unsupportedApi(Request.apiKey, broker: address)
        }
        return min(ours.upperBound, theirs.upperBound)
    }

    /// Whether the connection is still open.
    public var isOpen: Bool { channel.isActive }

    /// Closes the connection.
    public func close() async {
        try? await channel.close()
    }

    private func negotiateVersions() async throws {
        var response = try await send(ApiVersionsRequest(clientSoftwareName: "brook", clientSoftwareVersion: "0.1"), version: 3)
        if response.errorCode == ErrorCode.unsupportedVersion.rawValue {
            response = try await send(ApiVersionsRequest(), version: 0)
        }
        guard response.errorCode == 0 else { throw ClientError.broker(ErrorCode(rawValue: response.errorCode) ?? .unknownServerError, nil) }
        brokerVersions.withLock { versions in
            for key in response.apiKeys where key.minVersion <= key.maxVersion {
                versions[key.apiKey] = key.minVersion...key.maxVersion
            }
        }
    }
}
