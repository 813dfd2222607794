import BrookProtocol
import BrookSecurity
import Foundation
import Synchronization

/// A SASL listener's mechanisms (`sasl.enabled.mechanisms`) and what checks a client's token.
/// PLAIN's users come from the listener's JAAS config, as Kafka's PlainLoginModule reads them
/// (`user_<name>="<password>"` entries); SCRAM's credentials from the cluster's metadata.
struct SaslAuthenticator: Sendable {
    /// The mechanisms Brook offers; a listener enables some of them.
    static let supported = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"]

    struct SettingsError: Error, CustomStringConvertible {
        let description: String
    }

    /// The outcome of one SaslAuthenticate token.
    enum Outcome: Sendable, Equatable {
        /// Authenticated; `reply` goes back to the client (SCRAM's server signature);
        /// `expiresAt`, when the credential (an OAUTHBEARER token) stops being valid.
        case authenticated(principal: String, reply: [UInt8], expiresAt: Date? = nil)
        /// The exchange goes on: send `reply` and wait for the client's next token.
        case challenge([UInt8])
        /// Refused: `reason` is logged, `message` is what the client is told.
        case refused(reason: String, message: String)
    }

    let mechanisms: [String]
    /// PLAIN: password by user name.
    let plainUsers: [String: String]
    /// SCRAM: the credentials the metadata holds.
    let scramCredentials: ScramCredentialSource
    /// OAUTHBEARER: how tokens are checked.
    let oauthBearer: OAuthBearerValidation?
    /// `connections.max.reauth.ms`: how long an authentication lasts before the client must
    /// authenticate again (KIP-368); 0 for ever (an OAUTHBEARER token still expires).
    var maxReauthMs: Int64 = 0

    init(
        mechanisms: [String], plainUsers: [String: String], scramCredentials: ScramCredentialSource = ScramCredentialSource(),
        oauthBearer: OAuthBearerValidation? = nil
    ) {
        self.mechanisms = mechanisms
        self.plainUsers = plainUsers
        self.scramCredentials = scramCredentials
        self.oauthBearer = oauthBearer
    }

    /// The authenticator of the SASL listener `listener`.
    static func of(listener: String, in config: BrokerConfig) throws(SettingsError) -> SaslAuthenticator {
        let enabled = (config.string("sasl.enabled.mechanisms", forListener: listener) ?? "GSSAPI")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).uppercased() }.filter { !$0.isEmpty }
        let unsupported = enabled.filter { !supported.contains($0) }
        guard unsupported.isEmpty, !enabled.isEmpty else {
            throw SettingsError(description: "listener \(listener): sasl.enabled.mechanisms is \(enabled.joined(separator: ",")); Brook offers \(supported.joined(separator: ", ")) (set sasl.enabled.mechanisms, e.g. to PLAIN,SCRAM-SHA-256)")
        }
        var users: [String: String] = [:]
        if enabled.contains("PLAIN") {
            let key = "listener.name.\(listener.lowercased()).plain.sasl.jaas.config"
            guard let jaas = config.values[key] ?? config.string("sasl.jaas.config", forListener: listener) else {
                throw SettingsError(description: "listener \(listener) enables PLAIN: set \(key) to PlainLoginModule's users (user_<name>=\"<password>\")")
            }
            users = try plainUsers(jaas, key: key)
        }
        let oauthBearer = enabled.contains("OAUTHBEARER") ? try OAuthBearerValidation.of(listener: listener, in: config) : nil
        var authenticator = SaslAuthenticator(mechanisms: enabled, plainUsers: users, oauthBearer: oauthBearer)
        let reauth = config.string("connections.max.reauth.ms", forListener: listener) ?? "0"
        guard let maxReauthMs = Int64(reauth), maxReauthMs >= 0 else {
            throw SettingsError(description: "connections.max.reauth.ms \(reauth) is not a number of milliseconds")
        }
        authenticator.maxReauthMs = maxReauthMs
        return authenticator
    }

    /// The `user_<name>="<password>"` options of a JAAS config.
    static func plainUsers(_ jaas: String, key: String) throws(SettingsError) -> [String: String] {
        guard jaas.contains("PlainLoginModule") else {
            throw SettingsError(description: "\(key) must name org.apache.kafka.common.security.plain.PlainLoginModule")
        }
        var users: [String: String] = [:]
        for option in JaasOptions.parse(jaas) where option.name.hasPrefix("user_") {
            users[String(option.name.dropFirst("user_".count))] = option.value
        }
        guard !users.isEmpty else {
            throw SettingsError(description: "\(key) names no user: add user_<name>=\"<password>\" entries")
        }
        return users
    }

    /// Checks one token of `mechanism`; `scram` is the connection's SCRAM exchange so far.
    func authenticate(_ token: [UInt8], mechanism: String, scram: inout ScramServerExchange?) -> Outcome {
        if mechanism == "OAUTHBEARER", let oauthBearer {
            switch oauthBearer.authenticate(token) {
            case .success(let (principal, expiry)): return .authenticated(principal: principal, reply: [], expiresAt: expiry)
            case .failure(let reason):
                return .refused(reason: reason.description, message: "Authentication failed: \(reason.description)")
            }
        }
        if mechanism == "PLAIN" {
            switch plain(token) {
            case .success(let principal): return .authenticated(principal: principal, reply: [])
            case .failure(let reason): return .refused(reason: reason.description, message: reason.description)
            }
        }
        guard let scramMechanism = ScramMechanism(name: mechanism) else {
            let reason = "Unsupported SASL mechanism \(mechanism)"
            return .refused(reason: reason, message: reason)
        }
        var exchange = scram ?? ScramServerExchange(mechanism: scramMechanism)
        defer { scram = exchange }
        switch exchange.receive(token, credential: { scramCredentials.credential(user: $0, mechanism: scramMechanism) }) {
        case .challenge(let reply): return .challenge(reply)
        case .authenticated(let user, let reply): return .authenticated(principal: "User:\(user)", reply: reply)
        case .refused(let reason):
            return .refused(
                reason: reason,
                message: "Authentication failed during authentication due to invalid credentials with SASL mechanism \(mechanism)")
        }
    }

    struct Refusal: Error, CustomStringConvertible {
        let description: String
    }

    /// PLAIN (RFC 4616): `[authzid] NUL authcid NUL passwd`; an authorization id other than the
    /// user itself is refused, as Kafka refuses it.
    private func plain(_ token: [UInt8]) -> Result<String, Refusal> {
        let parts = token.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3,
            let authorizationId = String(validating: parts[0], as: UTF8.self),
            let user = String(validating: parts[1], as: UTF8.self),
            let password = String(validating: parts[2], as: UTF8.self),
            !user.isEmpty, !password.isEmpty
        else { return .failure(Refusal(description: "Invalid SASL/PLAIN response: expected 3 tokens with a user name and a password")) }
        guard authorizationId.isEmpty || authorizationId == user else {
            return .failure(Refusal(description: "Authentication failed: Client requested an authorization id that is different from username"))
        }
        guard let expected = plainUsers[user], constantTimeEqual(Array(expected.utf8), Array(password.utf8)) else {
            return .failure(Refusal(description: "Authentication failed: Invalid username or password"))
        }
        return .success("User:\(user)")
    }
}

/// Where SCRAM credentials come from: the cluster metadata, once the broker has opened it.
final class ScramCredentialSource: Sendable {
    typealias Lookup = @Sendable (_ user: String, _ mechanism: ScramMechanism) -> ScramCredential?
    private let lookup = Mutex<Lookup?>(nil)

    init() {}

    /// Reads credentials with `lookup` from now on.
    func attach(_ lookup: @escaping Lookup) {
        self.lookup.withLock { $0 = lookup }
    }

    func credential(user: String, mechanism: ScramMechanism) -> ScramCredential? {
        lookup.withLock { $0 }?(user, mechanism)
    }
}
