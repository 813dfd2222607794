import BrookSecurity
import Foundation
import Synchronization

/// OAUTHBEARER on a SASL listener (KIP-768): tokens are JWTs checked against the key set that
/// `sasl.oauthbearer.jwks.endpoint.url` names (a `file:` URL or a path, read again when the file
/// changes, so keys rotate without a restart) and the expected audience and issuer.
final class OAuthBearerValidation: Sendable {
    let validator: JwtValidator
    let path: String
    private let cached = Mutex<(modified: Date?, keys: JsonWebKeySet?)>((nil, nil))

    init(validator: JwtValidator, path: String) {
        self.validator = validator
        self.path = path
    }

    /// The validation `config` sets for `listener`; throws a settings error naming the key.
    static func of(listener: String, in config: BrokerConfig) throws(SaslAuthenticator.SettingsError) -> OAuthBearerValidation {
        func value(_ key: String) -> String? {
            config.values["listener.name.\(listener.lowercased()).oauthbearer.\(key)"] ?? config.string(key, forListener: listener)
        }
        guard let url = value("sasl.oauthbearer.jwks.endpoint.url"), !url.isEmpty else {
            throw SaslAuthenticator.SettingsError(description: "listener \(listener) enables OAUTHBEARER: set sasl.oauthbearer.jwks.endpoint.url to the key set (a file: URL) tokens are checked against")
        }
        let path: String
        if url.hasPrefix("file:") {
            path = URL(string: url)?.path ?? String(url.dropFirst("file:".count))
        } else if url.hasPrefix("/") {
            path = url
        } else {
            throw SaslAuthenticator.SettingsError(description: "sasl.oauthbearer.jwks.endpoint.url \(url): Brook reads key sets from files (file:/path/jwks.json)")
        }
        var validator = JwtValidator()
        validator.expectedAudiences = (value("sasl.oauthbearer.expected.audience") ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        validator.expectedIssuer = value("sasl.oauthbearer.expected.issuer").flatMap { $0.isEmpty ? nil : $0 }
        validator.subjectClaim = value("sasl.oauthbearer.sub.claim.name") ?? "sub"
        validator.scopeClaim = value("sasl.oauthbearer.scope.claim.name") ?? "scope"
        if let skew = value("sasl.oauthbearer.clock.skew.seconds") {
            guard let seconds = Double(skew), seconds >= 0 else {
                throw SaslAuthenticator.SettingsError(description: "sasl.oauthbearer.clock.skew.seconds \(skew) is not a number of seconds")
            }
            validator.clockSkew = seconds
        }
        let validation = OAuthBearerValidation(validator: validator, path: path)
        do {
            _ = try validation.keys()
        } catch {
            throw SaslAuthenticator.SettingsError(description: "sasl.oauthbearer.jwks.endpoint.url \(url): \(error)")
        }
        return validation
    }

    /// The key set, read again when its file changed.
    func keys() throws -> JsonWebKeySet {
        let modified = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate]) as? Date
        if let keys = cached.withLock({ $0.modified == modified ? $0.keys : nil }) { return keys }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SaslAuthenticator.SettingsError(description: "cannot read the key set \(path)")
        }
        let keys = try JsonWebKeySet(json: data)
        cached.withLock { $0 = (modified, keys) }
        return keys
    }

    /// The principal of a client's OAUTHBEARER message and when its token expires, or why it is
    /// refused.
    func authenticate(_ message: [UInt8]) -> Result<(String, Date), SaslAuthenticator.Refusal> {
        guard let token = OAuthBearerMessage.token(in: message) else {
            return .failure(.init(description: "Invalid OAUTHBEARER client message: no auth=Bearer token"))
        }
        do {
            let claims = try validator.validate(token, keys: try keys())
            return .success(("User:\(claims.subject)", claims.expiresAt))
        } catch {
            return .failure(.init(description: "OAUTHBEARER token refused: \(error)"))
        }
    }
}
