import BrookProtocol
import Logging
import NIOCore

/// Serves one client connection: reads frames and answers each request in order.
///
/// Kafka answers a connection's requests in the order they were sent. Brook handles them one
/// at a time per connection (as Kafka does by muting the channel), which keeps responses ordered
/// while different connections — and so different partitions' clients — run in parallel.
struct Connection {
    let channel: NIOAsyncChannel<ByteBuffer, Never>
    let router: RequestRouter
    let listenerName: String
    /// This connection's share of `queued.max.request.bytes`, when bounded.
    let requestMemory: ConnectionRequestMemory?
    let logger: Logger

    func run() async {
        let remote = channel.channel.remoteAddress
        do {
            try await channel.executeThenClose { inbound, _ in
                for try await frameBytes in inbound {
                    // The request's bytes (and its size prefix) count until it is answered.
                    let requestSize = frameBytes.readableBytes + 4
                    defer { requestMemory?.release(requestSize) }
                    let frame: RequestFrame
                    do {
                        frame = try RequestFrame(frame: frameBytes)
                    } catch {
                        logger.info("closing connection from \(remote.map { "\($0)" } ?? "?"): bad request header: \(error)")
                        return
                    }
                    let context = RequestContext(
                        header: frame.header, apiVersion: frame.apiVersion,
                        remoteAddress: remote, listenerName: listenerName
                    )
                    switch await router.route(frame, context: context) {
                    case .frame(let response):
                        try await send([.byteBuffer(response)])
                    case .parts(let parts, let fileHandles):
                        defer { for handle in fileHandles { try? handle.close() } }
                        try await send(parts)
                    case .none:
                        continue
                    case .closeConnection(let reason):
                        logger.info("closing connection from \(remote.map { "\($0)" } ?? "?"): \(reason)")
                        return
                    }
                }
            }
        } catch {
            logger.debug("connection from \(remote.map { "\($0)" } ?? "?") ended: \(error)")
        }
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
