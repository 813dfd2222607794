import BrookProtocol
import NIOCore

/// What a handler knows about the request beyond its body.
public struct RequestContext: Sendable {
    public var header: RequestHeader
    public var apiVersion: Int16
    /// The peer's address, for logs and quotas.
    public var remoteAddress: SocketAddress?
    /// The listener the request arrived on.
    public var listenerName: String

    public var clientId: String? { header.clientId }
    public var correlationId: Int32 { header.correlationId }
}
