import BrookProtocol
import BrookSecurity
import Foundation
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
        /// v0 handshake) as a bare size-prefixed frame; `scram`, a SCRAM exchange under way;
        /// `previous`, the principal a re-authentication (KIP-368) must keep.
        case authenticate(mechanism: String, raw: Bool, scram: ScramServerExchange? = nil, previous: String? = nil)
        /// Authenticated as `principal`.
        case authenticated(principal: String)
        /// Authentication failed; the connection closes once the answer is sent.
        case failed
    }

    /// The listener's mechanisms and credentials.
    let authenticator: SaslAuthenticator
    private let stage = Mutex(Stage.handshake)
    /// When the current authentication expires (KIP-368); nil for never.
    private let expiry = Mutex<ContinuousClock.Instant?>(nil)
    /// The mechanism the connection authenticated with (a re-authentication must use it).
    private let authenticatedMechanism = Mutex<String?>(nil)

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
        /// Send these bytes back (a challenge, or the last reply of a successful exchange, with
        /// the authentication's lifetime in milliseconds, 0 for no limit).
        case reply([UInt8], sessionLifetimeMs: Int64 = 0)
        /// Refused: tell the client `message`, then close the connection.
        case refused(message: String)
    }

    /// Whether the authentication has expired: the connection must re-authenticate (KIP-368)
    /// before anything else, else it is closed.
    var isExpired: Bool {
        guard case .authenticated = current, let deadline = expiry.withLock({ $0 }) else { return false }
        return ContinuousClock.now >= deadline
    }

    /// Starts a re-authentication of an authenticated connection with `mechanism` (the one it
    /// authenticated with); false when the connection may not.
    func beginReauthentication(mechanism: String) -> Bool {
        guard case .authenticated(let principal) = current, authenticatedMechanism.withLock({ $0 }) == mechanism else { return false }
        move(to: .authenticate(mechanism: mechanism, raw: false, previous: principal))
        return true
    }

    /// Checks a client's token: an exchange goes on, succeeds (the session is authenticated)
    /// or fails (the session is failed, and the reason logged as Kafka logs it).
    func authenticate(_ token: [UInt8], peer: String, logger: Logger) -> Answer {
        guard case .authenticate(let mechanism, let raw, var scram, let previous) = current else {
            move(to: .failed)
            return .refused(message: "Unexpected SASL token: no SaslHandshake chose a mechanism")
        }
        switch authenticator.authenticate(token, mechanism: mechanism, scram: &scram) {
        case .authenticated(let principal, let reply, let expiresAt):
            if let previous, previous != principal {
                move(to: .failed)
                logger.info("failed re-authentication with \(peer) (cannot change principals from \(previous) to \(principal))")
                return .refused(message: "Cannot change principals during re-authentication from \(previous) to \(principal)")
            }
            // The session lasts connections.max.reauth.ms, and no longer than the token.
            var lifetimeMs = authenticator.maxReauthMs
            if let expiresAt {
                let tokenMs = Int64(max(0, expiresAt.timeIntervalSinceNow) * 1000)
                lifetimeMs = lifetimeMs > 0 ? min(lifetimeMs, tokenMs) : tokenMs
            }
            expiry.withLock { $0 = lifetimeMs > 0 || expiresAt != nil ? ContinuousClock.now + .milliseconds(lifetimeMs) : nil }
            if previous != nil { logger.info("\(peer) re-authenticated as \(principal) with \(mechanism)") }
            authenticatedMechanism.withLock { $0 = mechanism }
            move(to: .authenticated(principal: principal))
            return .reply(reply, sessionLifetimeMs: lifetimeMs)
        case .challenge(let reply):
            move(to: .authenticate(mechanism: mechanism, raw: raw, scram: scram, previous: previous))
            return .reply(reply)
        case .refused(let reason, let message):
            move(to: .failed)
            logger.info("failed authentication with \(peer) (\(reason))")
            return .refused(message: message)
        }
    }

    /// Whether the next frame is a raw token (after a v0 handshake) rather than a request.
    var expectsRawToken: Bool {
        if case .authenticate(_, raw: true, _, _) = current { true } else { false }
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
