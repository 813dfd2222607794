import BrookProtocol
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization

/// The network front of the broker: one listening socket per listener, a task per connection.
///
/// Channel handlers only frame (size prefix, `socket.request.max.bytes`, idle timeout) and,
/// with `queued.max.request.bytes` set, hold reads while requests in flight use up that many
/// bytes (``RequestMemoryGate``); requests are served in async/await by ``Connection``.
/// ``ConnectionLimiter`` applies `max.connections` and `max.connections.per.ip`. On graceful
/// shutdown the listeners stop accepting, every connection stops reading, and in-flight
/// requests finish and are answered.
public final class KafkaServer: Service, Sendable {
    public struct Configuration: Sendable {
        public var listeners: [BrokerConfig.Listener]
        public var maximumRequestSize: Int
        public var idleTimeout: TimeAmount
        /// `queued.max.request.bytes`: bytes of requests read and not yet answered, across all
        /// connections; zero or negative for no bound (Kafka's default, -1).
        public var queuedMaxRequestBytes: Int
        /// Each listener's security by listener name; PLAINTEXT for a listener not named.
        public var security: [String: ListenerSecurity]

        public init(
            listeners: [BrokerConfig.Listener], maximumRequestSize: Int, idleTimeout: TimeAmount,
            queuedMaxRequestBytes: Int = -1, security: [String: ListenerSecurity] = [:]
        ) {
            self.listeners = listeners
            self.maximumRequestSize = maximumRequestSize
            self.idleTimeout = idleTimeout
            self.queuedMaxRequestBytes = queuedMaxRequestBytes
            self.security = security
        }
    }

    typealias ServerChannel = NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, Never>, Never>

    /// A bound listening socket, not yet accepting.
    public struct BoundListener: Sendable {
        /// The listener with the port actually bound (port 0 becomes the ephemeral port).
        public let listener: BrokerConfig.Listener
        let channel: ServerChannel
        /// Shared by every listener; nil when requests in flight are not bounded.
        let requestMemory: RequestMemoryPool?
        let security: ListenerSecurity
    }

    private let bound: [BoundListener]
    /// The router, also for in-process callers (the fuzz harness) that skip the network.
    package let router: RequestRouter
    private let logger: Logger
    private let limiter: ConnectionLimiter
    /// Connection creation rates: the broker's and each IP's quota.
    private let rates: ConnectionRateLimiter
    private let limits: @Sendable () -> ConnectionLimits
    private let openConnections = Mutex<[ObjectIdentifier: any Channel]>([:])
    /// Checks each request against the ACLs; nil allows everything.
    private let authorizer: AclAuthorizer?
    /// Client quotas; nil when not enforced.
    private let quotas: ClientQuotaManager?

    /// Serves `listeners` with `router`, within the connection limits `limits` returns (read
    /// for every connection, so that dynamic changes apply).
    public init(
        listeners: [BoundListener], router: RequestRouter, logger: Logger, authorizer: AclAuthorizer? = nil,
        quotas: ClientQuotaManager? = nil, limits: @escaping @Sendable () -> ConnectionLimits = { ConnectionLimits() }
    ) {
        self.authorizer = authorizer
        self.quotas = quotas
        self.bound = listeners
        self.router = router
        self.logger = logger
        self.limiter = ConnectionLimiter(limits: limits)
        self.limits = limits
        self.rates = ConnectionRateLimiter(quotas: quotas)
    }

    /// Binds every listener; fails if one cannot be bound. Binding comes first so that the
    /// advertised addresses can name the ports actually bound.
    public static func bind(
        configuration: Configuration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> [BoundListener] {
        var bound: [BoundListener] = []
        let requestMemory = configuration.queuedMaxRequestBytes > 0
            ? RequestMemoryPool(capacity: configuration.queuedMaxRequestBytes) : nil
        for listener in configuration.listeners {
            let host = listener.host.isEmpty ? "0.0.0.0" : listener.host
            let maximumRequestSize = configuration.maximumRequestSize
            let idleTimeout = configuration.idleTimeout
            let security = configuration.security[listener.name] ?? .plaintext
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelOption(.maxMessagesPerRead, value: 16)
                .bind(host: host, port: listener.port) { child in
                    child.eventLoop.makeCompletedFuture {
                        if let tls = security.tls {
                            try child.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                        }
                        try child.pipeline.syncOperations.addHandler(IdleStateHandler(allTimeout: idleTimeout))
                        try child.pipeline.syncOperations.addHandler(IdleConnectionCloser())
                        if let requestMemory {
                            try child.pipeline.syncOperations.addHandler(RequestMemoryGate(
                                memory: ConnectionRequestMemory(pool: requestMemory), maximumFrameSize: maximumRequestSize))
                        }
                        try child.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(KafkaFrameDecoder(maximumFrameSize: maximumRequestSize))
                        )
                        // Responses are written on the channel itself, so the async outbound writer is
                        // finished at once: a connection accepted but never served (the listener
                        // closing under it) then has no writer left to trap on deinit.
                        return try NIOAsyncChannel<ByteBuffer, Never>(wrappingChannelSynchronously: child)
                    }
                }
            var actual = listener
            actual.port = channel.channel.localAddress?.port ?? listener.port
            bound.append(BoundListener(listener: actual, channel: channel, requestMemory: requestMemory, security: security))
        }
        return bound
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                for entry in bound {
                    let listener = entry.listener
                    group.addTask {
                        try await entry.channel.executeThenClose { inbound in
                            try await withThrowingDiscardingTaskGroup { connections in
                                var accepted = inbound.makeAsyncIterator()
                                while true {
                                    // At max.connections, stop taking connections until one closes.
                                    await self.limiter.waitForCapacity()
                                    guard let connection = try await accepted.next() else { break }
                                    let address = connection.channel.remoteAddress?.ipAddress ?? "?"
                                    guard self.limiter.admit(address: address) else {
                                        self.logger.info("closing connection from \(address): max.connections.per.ip reached")
                                        connection.channel.close(promise: nil)
                                        continue
                                    }
                                    guard self.rates.admit(address: address) else {
                                        self.limiter.closed(address: address)
                                        self.logger.info("closing connection from \(address): its connection_creation_rate quota is exceeded")
                                        connection.channel.close(promise: nil)
                                        continue
                                    }
                                    // Over max.connection.creation.rate, the next accept waits.
                                    let delay = self.rates.acceptedDelay(maxRate: self.limits().maxConnectionCreationRate)
                                    if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
                                    connections.addTask {
                                        defer { self.limiter.closed(address: address) }
                                        await self.serve(
                                            connection, listenerName: listener.name, requestMemory: entry.requestMemory != nil,
                                            security: entry.security)
                                    }
                                }
                            }
                        }
                        self.logger.debug("listener \(listener) closed")
                    }
                }
            }
        } onGracefulShutdown: {
            self.stopAccepting()
        }
    }

    private func serve(
        _ connection: NIOAsyncChannel<ByteBuffer, Never>, listenerName: String, requestMemory: Bool, security: ListenerSecurity
    ) async {
        let channel = connection.channel
        let id = ObjectIdentifier(channel)
        openConnections.withLock { $0[id] = channel }
        defer { _ = openConnections.withLock { $0.removeValue(forKey: id) } }
        let memory = requestMemory
            ? try? await channel.eventLoop.submit {
                try channel.pipeline.syncOperations.handler(type: RequestMemoryGate.self).memory
            }.get()
            : nil
        let connectionHandler = Connection(
            channel: connection, router: router, listenerName: listenerName, requestMemory: memory, security: security,
            authorizer: authorizer, quotaManager: quotas, logger: logger)
        // On shutdown the connection's task is cancelled: a fetch parked in long poll returns at
        // once (empty), its answer is sent, and the connection closes.
        await cancelWhenGracefulShutdown {
            await connectionHandler.run()
        }
    }

    /// Stops accepting and stops reading from open connections; requests already read finish.
    func stopAccepting() {
        for entry in bound {
            entry.channel.channel.close(promise: nil)
        }
        let channels = openConnections.withLock { Array($0.values) }
        for channel in channels {
            channel.close(mode: .input, promise: nil)
        }
    }
}
