import BrookProtocol
import Logging
import NIOCore

/// Serves one client connection: reads frames and answers each request in order.
///
/// Kafka answers a connection's requests in the order they were sent. Brook handles them one
/// at a time per connection (as Kafka does by muting the channel), which keeps responses ordered
/// while different connections — and so different partitions' clients — run in parallel.
struct Connection {
    let channel: NIOAsyncChannel<ByteBuffer, IOData>
    let router: RequestRouter
    let listenerName: String
    let logger: Logger

    func run() async {
        let remote = channel.channel.remoteAddress
        do {
            try await channel.executeThenClose { inbound, outbound in
                for try await frameBytes in inbound {
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
                        try await outbound.write(.byteBuffer(response))
                    case .parts(let parts):
                        try await outbound.write(contentsOf: parts)
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
}
