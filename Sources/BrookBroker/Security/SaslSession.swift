import BrookProtocol
import Logging
import Synchronization

/// One connection's SASL exchange on a SASL_PLAINTEXT or SASL_SSL listener: the mechanism its
/// SaslHandshake chose, and whether its SaslAuthenticate succeeded, as whom. Until then the
/// connection may send only ApiVersions, SaslHandshake and SaslAuthenticate (Kafka closes it
/// for anything else).
final class SaslSession: Sendable {
    enum Stage: Sendable, Equatable {
        /// Waiting for SaslHandshake.
        case handshake
        /// Waiting for a token of `mechanism`: in a SaslAuthenticate request, or `raw` (after a
        /// v0 handshake) as a bare size-prefixed frame.
        case authenticate(mechanism: String, raw: Bool)
        /// Authenticated as `principal`.
        case authenticated(principal: String)
        /// Authentication failed; the connection closes once the answer is sent.
        case failed
    }

    /// The listener's mechanisms and credentials.
    let authenticator: SaslAuthenticator
    private let stage = Mutex(Stage.handshake)

    init(authenticator: SaslAuthenticator) {
        self.authenticator = authenticator
    }

    var current: Stage { stage.withLock { $0 } }

    /// The authenticated principal, nil before authentication.
    var principal: String? {
        if case .authenticated(let principal) = current { principal } else { nil }
    }

    func move(to next: Stage) {
        stage.withLock { $0 = next }
    }

    /// Checks a client's token; on success the session is authenticated, on failure it is
    /// failed and the reason (logged as Kafka logs it) is returned.
    func authenticate(_ token: [UInt8], mechanism: String, peer: String, logger: Logger) -> String? {
        switch authenticator.authenticate(token, mechanism: mechanism) {
        case .authenticated(let principal):
            move(to: .authenticated(principal: principal))
            return nil
        case .refused(let reason):
            move(to: .failed)
            logger.info("failed authentication with \(peer) (\(reason))")
            return reason
        }
    }

    /// The mechanism of the raw token the next frame is (after a v0 handshake), nil when the
    /// next frame is a request.
    var rawTokenMechanism: String? {
        if case .authenticate(let mechanism, raw: true) = current { mechanism } else { nil }
    }

    /// Whether a request of `apiKey` may be served at this stage.
    func allows(apiKey: Int16) -> Bool {
        switch current {
        case .authenticated: true
        case .failed: false
        case .handshake, .authenticate: Self.beforeAuthentication.contains(apiKey)
        }
    }

    /// ApiVersions, SaslHandshake and SaslAuthenticate.
    static let beforeAuthentication: Set<Int16> = [ApiKey.apiVersions.rawValue, ApiKey.saslHandshake.rawValue, ApiKey.saslAuthenticate.rawValue]
}
