import BrookProtocol
import NIOCore
import NIOPosix
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

    /// Connects to `host:port` and negotiates API versions.
    public static func connect(
        host: String, port: Int, clientId: String = "brook-cli",
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> BrokerConnection {
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(ResponseMatcher())
                }
            }
            .connect(host: host, port: port).get()
        let connection = BrokerConnection(address: "\(host):\(port)", clientId: clientId, channel: channel)
        try await connection.negotiateVersions()
        return connection
    }

    /// Sends `request` at the highest version both sides support (or `version`) and returns the response.
    public func send<Request: KafkaRequest>(_ request: Request, version: Int16? = nil) async throws -> Request.Response {
        let version = try version ?? negotiatedVersion(of: Request.self)
        let correlationId = nextCorrelationId.add(1, ordering: .relaxed).oldValue
        var frame = channel.allocator.buffer(capacity: 256)
        try frame.writeRequestFrame(request, version: version, correlationId: correlationId, clientId: clientId)
        let promise = channel.eventLoop.makePromise(of: ByteBuffer.self)
        channel.writeAndFlush(ResponseMatcher.PendingRequest(frame: frame, response: promise), promise: nil)
        var response: ByteBuffer
        do {
            response = try await promise.futureResult.get()
        } catch {
            throw ClientError.connectionClosed(broker: address)
        }
        let header = try ResponseHeader(from: &response, version: Request.apiKey.responseHeaderVersion(version))
        guard header.correlationId == correlationId else {
            throw ClientError.correlationMismatch(expected: correlationId, received: header.correlationId)
        }
        return try Request.Response(from: &response, version: version)
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
