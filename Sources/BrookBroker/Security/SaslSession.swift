import BrookProtocol
import BrookSecurity
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
        /// v0 handshake) as a bare size-prefixed frame; `scram`, a SCRAM exchange under way.
        case authenticate(mechanism: String, raw: Bool, scram: ScramServerExchange? = nil)
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

    /// What a client's token leads to.
    enum Answer: Sendable, Equatable {
        /// Send these bytes back (a challenge, or the last reply of a successful exchange).
        case reply([UInt8])
        /// Refused: tell the client `message`, then close the connection.
        case refused(message: String)
    }

    /// Checks a client's token: an exchange goes on, succeeds (the session is authenticated)
    /// or fails (the session is failed, and the reason logged as Kafka logs it).
    func authenticate(_ token: [UInt8], peer: String, logger: Logger) -> Answer {
        guard case .authenticate(let mechanism, let raw, var scram) = current else {
            move(to: .failed)
            return .refused(message: "Unexpected SASL token: no SaslHandshake chose a mechanism")
        }
        switch authenticator.authenticate(token, mechanism: mechanism, scram: &scram) {
        case .authenticated(let principal, let reply):
            move(to: .authenticated(principal: principal))
            return .reply(reply)
        case .challenge(let reply):
            move(to: .authenticate(mechanism: mechanism, raw: raw, scram: scram))
            return .reply(reply)
        case .refused(let reason, let message):
            move(to: .failed)
            logger.info("failed authentication with \(peer) (\(reason))")
            return .refused(message: message)
        }
    }

    /// Whether the next frame is a raw token (after a v0 handshake) rather than a request.
    var expectsRawToken: Bool {
        if case .authenticate(_, raw: true, _) = current { true } else { false }
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
