import NIOSSL
import Synchronization

/// How one listener secures its connections: its protocol, the TLS context of an SSL or
/// SASL_SSL listener, and how a client certificate becomes a principal.
public struct ListenerSecurity: Sendable {
    public let securityProtocol: SecurityProtocol
    /// The TLS context new connections use; replaced when the keystore or truststore changes.
    let tlsReference: TLSContextReference?
    /// The current TLS context.
    var tls: NIOSSLContext? { tlsReference?.current }
    let principals: SSLPrincipalMapper
    /// A SASL listener's mechanisms and credentials.
    let sasl: SaslAuthenticator?

    /// PLAINTEXT: no encryption, every client is `User:ANONYMOUS`.
    public static let plaintext = ListenerSecurity(securityProtocol: .plaintext, tls: nil, principals: SSLPrincipalMapper.keepingNames, sasl: nil)

    init(securityProtocol: SecurityProtocol, tls: NIOSSLContext?, principals: SSLPrincipalMapper, sasl: SaslAuthenticator?) {
        self.securityProtocol = securityProtocol
        self.tlsReference = tls.map(TLSContextReference.init)
        self.principals = principals
        self.sasl = sasl
    }

    /// The security of the listener `name` as `config` sets it.
    static func of(listener name: String, in config: BrokerConfig) throws -> ListenerSecurity {
        let securityProtocol = try config.securityProtocol(of: name)
        let sasl = securityProtocol.usesSASL ? try SaslAuthenticator.of(listener: name, in: config) : nil
        guard securityProtocol.usesTLS else {
            return ListenerSecurity(securityProtocol: securityProtocol, tls: nil, principals: .keepingNames, sasl: sasl)
        }
        let principals = try SSLPrincipalMapper(rules: config.string("ssl.principal.mapping.rules", forListener: name) ?? "DEFAULT")
        return ListenerSecurity(
            securityProtocol: securityProtocol, tls: try ListenerTLS.context(for: name, in: config), principals: principals, sasl: sasl)
    }
}

extension SSLPrincipalMapper {
    static let keepingNames = SSLPrincipalMapper(keep: ())

    private init(keep: Void) {
        rules = [.keep]
    }
}

/// Kafka's principals: `User:` and a name.
enum Principal {
    static let anonymous = "User:ANONYMOUS"

    /// The principal of a TLS client: its certificate's subject mapped by `mapper`, or
    /// ANONYMOUS without a certificate (or when no rule maps the name).
    static func of(certificate: NIOSSLCertificate?, mapper: SSLPrincipalMapper) -> String {
        guard let certificate else { return anonymous }
        let name = distinguishedName(certificate.subjectName)
        return mapper.name(for: name).map { "User:\($0)" } ?? anonymous
    }

    /// An X.509 subject as RFC 2253 writes it (and Java's `getName()`): most specific part first.
    static func distinguishedName(_ parts: [SSLCertificateName]) -> String {
        let labels: [(SSLCertificateNameType, String)] = [
            (.commonName, "CN"), (.organizationalUnit, "OU"), (.organization, "O"), (.city, "L"), (.state, "ST"),
            (.country, "C"), (.emailAddress, "EMAILADDRESS"), (.userId, "UID"),
        ]
        return parts.reversed().compactMap { part -> String? in
            guard let label = labels.first(where: { $0.0 == part.type })?.1 else { return nil }
            return "\(label)=\(escaped(part.value))"
        }.joined(separator: ",")
    }

    /// A name's value with RFC 2253's special characters escaped.
    static func escaped(_ value: String) -> String {
        var result = ""
        for (index, character) in value.enumerated() {
            let special = ",+\"\\<>;".contains(character)
                || (index == 0 && (character == "#" || character == " "))
                || (index == value.count - 1 && character == " ")
            if special { result.append("\\") }
            result.append(character)
        }
        return result
    }
}

/// A listener's TLS context, swapped whole when a dynamic config changes its keystore or
/// truststore: connections already open keep theirs, new ones get the new one.
final class TLSContextReference: Sendable {
    private let context: Mutex<NIOSSLContext>

    init(_ context: NIOSSLContext) {
        self.context = Mutex(context)
    }

    var current: NIOSSLContext { context.withLock { $0 } }

    func replace(with context: NIOSSLContext) {
        self.context.withLock { $0 = context }
    }
}
