import BrookProtocol
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// Serves one client connection: reads frames and answers each request in order.
///
/// Kafka answers a connection's requests in the order they were sent, and serves them one at a
/// time (it mutes the channel until the answer is sent). Brook does the same, with one
/// exception: a Produce request whose answer waits only for its records' fsync (acks=all on a
/// partition without other in-sync replicas, ``RoutedResponse/later(_:)``) lets the connection
/// read and serve the next requests meanwhile, up to ``maximumLaterAnswers``, so that one
/// group fsync covers everything a client pipelines. Answers are still written in request
/// order, by a writer task; a request other than such a Produce waits until every earlier
/// answer is written before the next request is read. Different connections run in parallel.
struct Connection {
    /// Produce answers waiting for an fsync that one connection may have outstanding.
    static let maximumLaterAnswers = 32

    let channel: NIOAsyncChannel<ByteBuffer, Never>
    let router: RequestRouter
    let listenerName: String
    /// This connection's share of `queued.max.request.bytes`, when bounded.
    let requestMemory: ConnectionRequestMemory?
    /// The listener's security: with TLS, file regions are read and sent as bytes (the kernel
    /// cannot encrypt what sendfile sends), and a client certificate names the principal.
    let security: ListenerSecurity
    /// Checks requests against the ACLs; nil allows everything.
    var authorizer: AclAuthorizer? = nil
    /// Client quotas; nil when not enforced.
    var quotaManager: ClientQuotaManager? = nil
    let logger: Logger

    /// An answer in the writer's queue, and the size of its request (held in the request
    /// memory until the answer is written).
    private struct Queued: Sendable {
        let answer: RoutedResponse
        let requestSize: Int
    }

    func run() async {
        let remote = channel.channel.remoteAddress
        let peer = remote.map { "\($0)" } ?? "?"
        do {
            try await channel.executeThenClose { inbound, _ in
                let (queue, enqueue) = AsyncStream.makeStream(of: Queued.self)
                let backlog = AnswerBacklog()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await writeInOrder(queue, backlog: backlog, peer: peer) }
                    defer { enqueue.finish() }
                    var principal: String?
                    let sasl = security.sasl.map(SaslSession.init(authenticator:))
                    let quotas = quotaManager.map(ConnectionQuotas.init(manager:))
                    let authorization = authorizer.map {
                        ConnectionAuthorization(authorizer: $0, host: remote?.ipAddress ?? "", logger: logger)
                    }
                    frames: for try await frameBytes in inbound {
                        // A client over a quota is muted: its next request waits out the throttle.
                        if let mute = quotas?.takeMute(), mute > 0 {
                            try await Task.sleep(for: .milliseconds(mute))
                        }
                        // The request's bytes (and its size prefix) count until it is answered.
                        let requestSize = frameBytes.readableBytes + 4
                        if let sasl, sasl.expectsRawToken {
                            // After a v0 SaslHandshake tokens come bare, and so do the answers
                            // (empty for PLAIN's success); failure closes the connection.
                            defer { requestMemory?.release(requestSize) }
                            var token = frameBytes
                            guard case .reply(let reply, _) = sasl.authenticate(token.readBytes(length: token.readableBytes) ?? [], peer: peer, logger: logger) else { break frames }
                            var answer = ByteBuffer()
                            answer.writeInteger(Int32(reply.count))
                            answer.writeBytes(reply)
                            try await send([.byteBuffer(answer)])
                            continue
                        }
                        let frame: RequestFrame
                        do {
                            frame = try RequestFrame(frame: frameBytes)
                        } catch {
                            requestMemory?.release(requestSize)
                            logger.info("closing connection from \(peer): bad request header: \(error)")
                            break frames
                        }
                        if let sasl, !sasl.allows(apiKey: frame.apiKeyValue) {
                            requestMemory?.release(requestSize)
                            logger.info("closing connection from \(peer): API key \(frame.apiKeyValue) before SASL authentication")
                            break frames
                        }
                        if let sasl, sasl.isExpired, !SaslSession.beforeAuthentication.contains(frame.apiKeyValue) {
                            // KIP-368: a session past its lifetime that did not re-authenticate.
                            requestMemory?.release(requestSize)
                            logger.info("closing connection from \(peer): its SASL session expired without re-authentication")
                            break frames
                        }
                        if principal == nil {
                            // A request arrives only after the TLS handshake, so the client's
                            // certificate is known by now.
                            principal = security.tls == nil
                                ? Principal.anonymous
                                : Principal.of(certificate: try? await channel.channel.nioSSL_peerCertificate().get(), mapper: security.principals)
                        }
                        var context = RequestContext(
                            header: frame.header, apiVersion: frame.apiVersion,
                            remoteAddress: remote, listenerName: listenerName
                        )
                        context.principal = sasl?.principal ?? principal ?? Principal.anonymous
                        context.sasl = sasl
                        context.authorization = authorization
                        context.quotas = quotas
                        let answer = await router.route(frame, context: context)
                        if case .later = answer {
                            await backlog.wait(untilAtMost: Self.maximumLaterAnswers - 1)
                        } else if backlog.isEmpty {
                            // The common case: answer here, as if no writer task existed.
                            defer { requestMemory?.release(requestSize) }
                            guard try await write(answer, peer: peer) else { break frames }
                            // A failed SASL exchange is answered, then the connection closes.
                            if sasl?.current == .failed { break frames }
                            continue
                        }
                        backlog.added()
                        enqueue.yield(Queued(answer: answer, requestSize: requestSize))
                        if case .later = answer { continue }
                        // Anything else is served one at a time: wait until it is written.
                        await backlog.wait(untilAtMost: 0)
                        if case .closeConnection = answer { break frames }
                    }
                    enqueue.finish()
                    try await group.waitForAll()
                }
            }
        } catch {
            logger.debug("connection from \(peer) ended: \(error)")
        }
    }

    /// The writer task: resolves and writes queued answers in order.
    private func writeInOrder(_ queue: AsyncStream<Queued>, backlog: AnswerBacklog, peer: String) async throws {
        var open = true
        for await queued in queue {
            defer {
                requestMemory?.release(queued.requestSize)
                backlog.removed()
            }
            guard open else { continue }
            let answer = await queued.answer.resolved()
            if try await !write(answer, peer: peer) {
                open = false
                channel.channel.close(promise: nil)
            }
        }
    }

    /// Writes one answer; false when the connection must close instead.
    private func write(_ answer: RoutedResponse, peer: String) async throws -> Bool {
        switch answer {
        case .frame(let response):
            try await send([.byteBuffer(response)])
        case .parts(let parts, let fileHandles):
            defer { for handle in fileHandles { try? handle.close() } }
            try await send(security.tls == nil ? parts : try await Self.readingFileRegions(parts, on: channel.channel.eventLoop))
        case .none:
            break
        case .closeConnection(let reason):
            logger.info("closing connection from \(peer): \(reason)")
            return false
        case .later:
            return try await write(await answer.resolved(), peer: peer)
        }
        return true
    }

    /// `parts` with each file region read into memory, on the blocking-I/O pool.
    private static func readingFileRegions(_ parts: [IOData], on eventLoop: any EventLoop) async throws -> [IOData] {
        var read: [IOData] = []
        read.reserveCapacity(parts.count)
        for part in parts {
            switch part {
            case .byteBuffer:
                read.append(part)
            case .fileRegion(let region):
                let bytes = try await NonBlockingFileIO(threadPool: .singleton)
                    .read(fileRegion: region, allocator: ByteBufferAllocator(), eventLoop: eventLoop).get()
                read.append(.byteBuffer(bytes))
            }
        }
        return read
    }

    /// Writes a response and waits until it has been written, so that file regions in it may
    /// be closed afterwards. Responses go out in request order because each is awaited.
    private func send(_ parts: [IOData]) async throws {
        let channel = self.channel.channel
        guard let last = parts.last else { return }
        for part in parts.dropLast() {
            channel.write(part, promise: nil)
        }
        try await channel.writeAndFlush(last).get()
    }
}
