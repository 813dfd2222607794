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
    /// Who sent it, as Kafka names principals (`User:ANONYMOUS` unless the connection
    /// authenticated, e.g. with a TLS client certificate).
    public var principal = "User:ANONYMOUS"
    /// The connection's SASL exchange, on a SASL listener.
    var sasl: SaslSession?
    /// The authorizer as this connection asks it; nil when no authorizer is configured.
    var authorization: ConnectionAuthorization?
    /// The connection's client quotas; nil when quotas are not enforced (in-process callers).
    var quotas: ConnectionQuotas?
    /// This request's time for the `request_percentage` quota; nil when no quota is set.
    var requestTimer: RequestTimer?

    package init(header: RequestHeader, apiVersion: Int16, remoteAddress: SocketAddress?, listenerName: String) {
        self.header = header
        self.apiVersion = apiVersion
        self.remoteAddress = remoteAddress
        self.listenerName = listenerName
    }

    public var clientId: String? { header.clientId }
    public var correlationId: Int32 { header.correlationId }

    /// The client id a broker of the cluster uses when it sends on a request (to the active
    /// controller or the quorum's leader).
    static func brokerClientId(_ nodeId: some CustomStringConvertible) -> String { "brook-broker-\(nodeId)" }

    /// Whether another broker sent this request on: it is answered here, never sent on again, so
    /// two brokers that each think the other leads cannot pass it back and forth.
    var isForwarded: Bool { clientId?.hasPrefix("brook-broker-") == true }
}
