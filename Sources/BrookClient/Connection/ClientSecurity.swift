import BrookProtocol
import BrookSecurity
import Foundation
import NIOCore
import NIOSSL

/// How a client secures its connections, from the keys Kafka's clients take
/// (`security.protocol`, `ssl.*`, `sasl.*`): TLS with a CA to trust (and a certificate of its own
/// for mutual TLS), and SASL/PLAIN or SCRAM with a user name and password.
public struct ClientSecurity: Sendable {
    public enum SecurityProtocol: String, Sendable {
        case plaintext = "PLAINTEXT", ssl = "SSL", saslPlaintext = "SASL_PLAINTEXT", saslSsl = "SASL_SSL"

        var usesTLS: Bool { self == .ssl || self == .saslSsl }
        var usesSASL: Bool { self == .saslPlaintext || self == .saslSsl }
    }

    public struct InvalidSettings: Error, CustomStringConvertible {
        public let description: String
    }

    public var securityProtocol: SecurityProtocol
    /// The TLS context of an SSL or SASL_SSL connection.
    package var tls: NIOSSLContext?
    /// Whether the broker's certificate must name the host connected to
    /// (`ssl.endpoint.identification.algorithm=https`, the default).
    package var verifiesHostname: Bool
    /// The SASL mechanism, user and password.
    package var sasl: (mechanism: String, user: String, password: String)?
    /// OAUTHBEARER: the file holding the token (a JWT), read at each connection so that a
    /// renewed token is picked up (`sasl.oauthbearer.token.endpoint.url=file:...`, KIP-768).
    package var oauthBearerTokenFile: String?

    /// No encryption, no authentication.
    public static let plaintext = ClientSecurity(securityProtocol: .plaintext, tls: nil, verifiesHostname: false, sasl: nil)

    /// Security made of parts a broker reads from its own config (for the connections it opens
    /// to other nodes).
    package init(
        securityProtocol: SecurityProtocol, tls: NIOSSLContext?, verifiesHostname: Bool,
        sasl: (mechanism: String, user: String, password: String)?
    ) {
        self.securityProtocol = securityProtocol
        self.tls = tls
        self.verifiesHostname = verifiesHostname
        self.sasl = sasl
    }

    /// The security `properties` describe, as a Kafka client's config file holds them:
    /// `security.protocol`; `ssl.truststore.location` (PEM) or `ssl.ca.location`;
    /// `ssl.keystore.location` (PEM: key then chain) or `ssl.certificate.location` and
    /// `ssl.key.location`, with `ssl.key.password`; `ssl.endpoint.identification.algorithm`;
    /// `sasl.mechanism`, and the user and password in `sasl.jaas.config` (PlainLoginModule or
    /// ScramLoginModule) or `sasl.username` / `sasl.password`; for OAUTHBEARER, the token file
    /// `sasl.oauthbearer.token.endpoint.url` names (`file:/path`, as Kafka's clients take it).
    public init(properties: [String: String]) throws {
        let name = (properties["security.protocol"] ?? "PLAINTEXT").uppercased()
        guard let securityProtocol = SecurityProtocol(rawValue: name) else {
            throw InvalidSettings(description: "security.protocol \(name) is not PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL")
        }
        self.securityProtocol = securityProtocol
        verifiesHostname = (properties["ssl.endpoint.identification.algorithm"] ?? "https").lowercased() == "https"
        tls = securityProtocol.usesTLS ? try Self.tlsContext(properties) : nil
        if securityProtocol.usesSASL, Self.mechanism(properties) == "OAUTHBEARER" {
            oauthBearerTokenFile = try Self.tokenFile(properties)
        } else {
            sasl = securityProtocol.usesSASL ? try Self.saslCredentials(properties) : nil
        }
    }

    private static func mechanism(_ properties: [String: String]) -> String {
        (properties["sasl.mechanism"] ?? properties["sasl.mechanisms"] ?? "GSSAPI").uppercased()
    }

    /// The token file of `sasl.oauthbearer.token.endpoint.url`.
    private static func tokenFile(_ properties: [String: String]) throws -> String {
        guard let url = properties["sasl.oauthbearer.token.endpoint.url"], !url.isEmpty else {
            throw InvalidSettings(description: "sasl.mechanism OAUTHBEARER needs sasl.oauthbearer.token.endpoint.url, a file: URL of the token to send")
        }
        if url.hasPrefix("file:") { return URL(string: url)?.path ?? String(url.dropFirst("file:".count)) }
        if url.hasPrefix("/") { return url }
        throw InvalidSettings(description: "sasl.oauthbearer.token.endpoint.url \(url): Brook's client reads its token from a file (file:/path/token), it does not ask an identity provider for one")
    }

    /// Reads a Kafka client properties file (`--command-config`).
    public init(propertiesFile path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw InvalidSettings(description: "cannot read the config file \(path)")
        }
        var properties: [String: String] = [:]
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#"), !line.hasPrefix("!"), let equals = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else { continue }
            properties[line[..<equals].trimmingCharacters(in: .whitespaces)] = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        }
        try self.init(properties: properties)
    }

    private static func tlsContext(_ properties: [String: String]) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let ca = properties["ssl.truststore.location"] ?? properties["ssl.ca.location"] {
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
        }
        let password = properties["ssl.key.password"]
        if let keystore = properties["ssl.keystore.location"] {
            configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(keystore).map { .certificate($0) }
            configuration.privateKey = .privateKey(try privateKey(file: keystore, password: password))
        } else if let certificate = properties["ssl.certificate.location"], let key = properties["ssl.key.location"] {
            configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
            configuration.privateKey = .privateKey(try privateKey(file: key, password: password))
        }
        if (properties["ssl.endpoint.identification.algorithm"] ?? "https").lowercased() != "https" {
            configuration.certificateVerification = .noHostnameVerification
        }
        return try NIOSSLContext(configuration: configuration)
    }

    private static func privateKey(file: String, password: String?) throws -> NIOSSLPrivateKey {
        guard let password else { return try NIOSSLPrivateKey(file: file, format: .pem) }
        return try NIOSSLPrivateKey(file: file, format: .pem) { provide in provide(Array(password.utf8)) }
    }

    private static func saslCredentials(_ properties: [String: String]) throws -> (mechanism: String, user: String, password: String) {
        let mechanism = Self.mechanism(properties)
        guard mechanism == "PLAIN" || ScramMechanism(name: mechanism) != nil else {
            throw InvalidSettings(description: "sasl.mechanism \(mechanism): Brook's client speaks PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER")
        }
        var user = properties["sasl.username"], password = properties["sasl.password"]
        if let jaas = properties["sasl.jaas.config"] {
            let options = JaasOptions.values(jaas)
            user = options["username"] ?? user
            password = options["password"] ?? password
        }
        guard let user, let password else {
            throw InvalidSettings(description: "SASL needs a user and a password: sasl.jaas.config with username and password (or sasl.username and sasl.password)")
        }
        return (mechanism, user, password)
    }
}

extension ClientSecurity {
    /// The SASL exchange a new connection makes, if any: the mechanism and what it sends (for
    /// OAUTHBEARER, the token read from its file now, in place of the password).
    func saslExchange() throws -> (mechanism: String, user: String, password: String)? {
        guard let file = oauthBearerTokenFile else { return sasl }
        guard let contents = FileManager.default.contents(atPath: file) else {
            throw InvalidSettings(description: "cannot read the OAUTHBEARER token file \(file)")
        }
        let token = String(decoding: contents, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return ("OAUTHBEARER", "", token)
    }
}

extension BrokerConnection {
    /// SaslHandshake and SaslAuthenticate with `sasl`'s mechanism: one token for PLAIN and
    /// OAUTHBEARER (whose token travels as the password), two for SCRAM (whose server signature
    /// is checked). Throws ``ClientError/broker(_:_:)`` with the
    /// broker's refusal.
    func authenticate(_ sasl: (mechanism: String, user: String, password: String)) async throws {
        let handshake = try await send(SaslHandshakeRequest(mechanism: sasl.mechanism), version: 1)
        try throwIfKafkaError(handshake.errorCode, "the broker offers \(handshake.mechanisms.joined(separator: ", "))")
        let version = try negotiatedVersion(of: SaslAuthenticateRequest.self)
        func exchange(_ token: [UInt8]) async throws -> [UInt8] {
            let answer = try await send(SaslAuthenticateRequest(authBytes: ByteBuffer(bytes: token)), version: version)
            try throwIfKafkaError(answer.errorCode, answer.errorMessage)
            var bytes = answer.authBytes
            return bytes.readBytes(length: bytes.readableBytes) ?? []
        }
        if sasl.mechanism == "OAUTHBEARER" {
            _ = try await exchange(OAuthBearerMessage.clientMessage(token: sasl.password))
        } else if let mechanism = ScramMechanism(name: sasl.mechanism) {
            var scram = ScramClientExchange(mechanism: mechanism, user: sasl.user, password: sasl.password)
            let serverFirst = try await exchange(scram.firstMessage)
            let serverFinal = try await exchange(try scram.finalMessage(answering: serverFirst))
            try scram.verify(serverFinal: serverFinal)
        } else {
            _ = try await exchange(Array("\0\(sasl.user)\0\(sasl.password)".utf8))
        }
    }
}
