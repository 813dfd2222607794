import BrookSecurity
import Foundation
import NIOSSL
import Synchronization

/// OAUTHBEARER on a SASL listener (KIP-768): tokens are JWTs checked against the key set that
/// `sasl.oauthbearer.jwks.endpoint.url` names and the expected audience and issuer. An `https:`
/// key set is fetched again periodically and when a token names a key it lacks
/// (``RefreshingKeySet``), over TLS as the listener's OAUTHBEARER JAAS options say
/// (`ssl.truststore.location` of a PEM file, `ssl.endpoint.identification.algorithm`), as
/// Kafka's do; a `file:` one (or a path) is read again when the file changes. Either way keys
/// rotate without a restart.
final class OAuthBearerValidation: Sendable {
    enum Source: Sendable {
        case file(String)
        case https(RefreshingKeySet)
    }

    let validator: JwtValidator
    let source: Source
    private let cached = Mutex<(modified: Date?, keys: JsonWebKeySet?)>((nil, nil))

    init(validator: JwtValidator, source: Source) {
        self.validator = validator
        self.source = source
    }

    /// The validation `config` sets for `listener`; throws a settings error naming the key.
    static func of(listener: String, in config: BrokerConfig) throws(SaslAuthenticator.SettingsError) -> OAuthBearerValidation {
        func value(_ key: String) -> String? {
            config.values["listener.name.\(listener.lowercased()).oauthbearer.\(key)"] ?? config.string(key, forListener: listener)
        }
        guard let url = value("sasl.oauthbearer.jwks.endpoint.url"), !url.isEmpty else {
            throw SaslAuthenticator.SettingsError(description: "listener \(listener) enables OAUTHBEARER: set sasl.oauthbearer.jwks.endpoint.url to the key set (an https: or file: URL) tokens are checked against")
        }
        let source: Source
        if url.hasPrefix("https:") {
            source = .https(try keySet(at: url, jaas: value("sasl.jaas.config") ?? "", value: value))
        } else if url.hasPrefix("file:") {
            source = .file(URL(string: url)?.path ?? String(url.dropFirst("file:".count)))
        } else if url.hasPrefix("/") {
            source = .file(url)
        } else {
            throw SaslAuthenticator.SettingsError(description: "sasl.oauthbearer.jwks.endpoint.url \(url): Brook reads key sets from https: URLs and files (file:/path/jwks.json)")
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
        let validation = OAuthBearerValidation(validator: validator, source: source)
        switch source {
        case .file:
            do {
                _ = try validation.keys()
            } catch {
                throw SaslAuthenticator.SettingsError(description: "sasl.oauthbearer.jwks.endpoint.url \(url): \(error)")
            }
        case .https(let keySet):
            keySet.start()
        }
        return validation
    }

    /// The `https:` key set at `url`, fetched with the TLS settings of the JAAS options.
    private static func keySet(
        at url: String, jaas: String, value: (String) -> String?
    ) throws(SaslAuthenticator.SettingsError) -> RefreshingKeySet {
        guard let parsed = URL(string: url), parsed.host?.isEmpty == false else {
            throw SaslAuthenticator.SettingsError(description: "sasl.oauthbearer.jwks.endpoint.url \(url) is not a URL")
        }
        let options = JaasOptions.values(jaas)
        var tls = TLSConfiguration.makeClientConfiguration()
        if let truststore = options["ssl.truststore.location"] {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(truststore))
            } catch {
                throw SaslAuthenticator.SettingsError(description: "the OAUTHBEARER JAAS option ssl.truststore.location \(truststore) is not a readable PEM file: \(error)")
            }
        }
        let verifiesHostname = (options["ssl.endpoint.identification.algorithm"] ?? "https").lowercased() == "https"
        if !verifiesHostname { tls.certificateVerification = .noHostnameVerification }
        func milliseconds(_ key: String, _ fallback: Int64) throws(SaslAuthenticator.SettingsError) -> Int64 {
            guard let text = value(key) else { return fallback }
            guard let number = Int64(text), number >= 0 else { throw SaslAuthenticator.SettingsError(description: "\(key) \(text) is not a number of milliseconds") }
            return number
        }
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: tls)
        } catch {
            throw SaslAuthenticator.SettingsError(description: "sasl.oauthbearer.jwks.endpoint.url \(url): cannot make a TLS context: \(error)")
        }
        return RefreshingKeySet(
            url: parsed, tls: context, verifiesHostname: verifiesHostname,
            refreshMs: max(1, try milliseconds("sasl.oauthbearer.jwks.endpoint.refresh.ms", 3_600_000)),
            retryBackoffMs: try milliseconds("sasl.oauthbearer.jwks.endpoint.retry.backoff.ms", 100),
            retryBackoffMaxMs: try milliseconds("sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms", 10_000))
    }

    /// The key set: an https: one as last fetched, a file read again when it changed.
    func keys() throws -> JsonWebKeySet {
        switch source {
        case .https(let keySet): try keySet.keys()
        case .file(let path): try fileKeys(path)
        }
    }

    private func fileKeys(_ path: String) throws -> JsonWebKeySet {
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
        } catch let refused as JwtValidator.Refused where refused.isUnknownKey {
            // A key the issuer added since the last fetch: fetch again for the next attempt.
            if case .https(let keySet) = source { keySet.refreshSoon() }
            return .failure(.init(description: "OAUTHBEARER token refused: \(refused)"))
        } catch {
            return .failure(.init(description: "OAUTHBEARER token refused: \(error)"))
        }
    }
}
