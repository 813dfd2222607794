import Foundation
import NIOSSL

/// The TLS server context of one SSL or SASL_SSL listener, from Kafka's `ssl.*` keys (each
/// may be given for the listener alone as `listener.name.<listener>.ssl.*`).
///
/// Kafka's PEM forms: `ssl.keystore.type=PEM` with `ssl.keystore.location` naming one file that
/// holds the private key followed by the certificate chain, or the inline
/// `ssl.keystore.key` and `ssl.keystore.certificate.chain`; `ssl.key.password` for an
/// encrypted key; `ssl.truststore.type=PEM` with `ssl.truststore.location` or the inline
/// `ssl.truststore.certificates`. PKCS12 keystores are read too; JKS is Java's own and is not.
enum ListenerTLS {
    /// Why a listener's TLS settings cannot be used; the message names the keys.
    struct SettingsError: Error, CustomStringConvertible {
        let description: String
    }

    /// The server context for `listener`.
    static func context(for listener: String, in config: BrokerConfig) throws -> NIOSSLContext {
        try NIOSSLContext(configuration: configuration(for: listener, in: config))
    }

    static func configuration(for listener: String, in config: BrokerConfig) throws -> TLSConfiguration {
        let value = settings(of: listener, in: config)
        let (chain, key) = try identity(listener, value)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        let trusted = try trustedCertificates(listener, value)
        switch value("ssl.client.auth")?.lowercased() ?? "none" {
        case "required":
            guard !trusted.isEmpty else { throw SettingsError(description: "\(listener): ssl.client.auth=required needs ssl.truststore.location or ssl.truststore.certificates") }
            tls.certificateVerification = .noHostnameVerification
        case "requested":
            tls.certificateVerification = .optionalVerification
        default:
            tls.certificateVerification = .none
        }
        if !trusted.isEmpty { tls.trustRoots = .certificates(trusted) }
        tls.sendCANameList = !trusted.isEmpty
        (tls.minimumTLSVersion, tls.maximumTLSVersion) = try versions(listener, value("ssl.enabled.protocols"))
        if let names = value("ssl.cipher.suites") {
            tls.cipherSuiteValues = try cipherSuites(listener, names)
        }
        return tls
    }

    /// The client side of `listener`'s TLS, for the connections this node opens to the other
    /// nodes on it, as Kafka's brokers make it: the listener's truststore to check the peer
    /// (its name or address too, unless `ssl.endpoint.identification.algorithm` is empty),
    /// its keystore, when set, as this node's certificate, its protocols and cipher suites.
    static func clientConfiguration(for listener: String, in config: BrokerConfig) throws -> TLSConfiguration {
        let value = settings(of: listener, in: config)
        var tls = TLSConfiguration.makeClientConfiguration()
        if value("ssl.keystore.key") != nil || value("ssl.keystore.location") != nil {
            let (chain, key) = try identity(listener, value)
            tls.certificateChain = chain.map { .certificate($0) }
            tls.privateKey = .privateKey(key)
        }
        let trusted = try trustedCertificates(listener, value)
        if !trusted.isEmpty { tls.trustRoots = .certificates(trusted) }
        tls.certificateVerification = checksNames(listener, in: config) ? .fullVerification : .noHostnameVerification
        (tls.minimumTLSVersion, tls.maximumTLSVersion) = try versions(listener, value("ssl.enabled.protocols"))
        if let names = value("ssl.cipher.suites") {
            tls.cipherSuiteValues = try cipherSuites(listener, names)
        }
        return tls
    }

    /// Whether a node connecting over `listener` checks the peer's name or address against its
    /// certificate: `ssl.endpoint.identification.algorithm=https` (the default), not when empty.
    static func checksNames(_ listener: String, in config: BrokerConfig) -> Bool {
        (config.string("ssl.endpoint.identification.algorithm", forListener: listener) ?? "https").lowercased() == "https"
    }

    /// The non-blank value of a key for `listener` (`listener.name.<listener>.<key>`, else `<key>`).
    private static func settings(of listener: String, in config: BrokerConfig) -> (String) -> String? {
        { key in
            config.string(key, forListener: listener).flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
        }
    }

    /// The certificate chain and private key of the keystore.
    private static func identity(_ listener: String, _ value: (String) -> String?) throws -> ([NIOSSLCertificate], NIOSSLPrivateKey) {
        let password = value("ssl.key.password")
        let inlineKey = value("ssl.keystore.key"), location = value("ssl.keystore.location")
        guard inlineKey != nil || location != nil else {
            throw SettingsError(description: "\(listener) is an SSL listener: set ssl.keystore.location (or ssl.keystore.key and ssl.keystore.certificate.chain)")
        }
        let type = value("ssl.keystore.type")?.uppercased() ?? (inlineKey != nil ? "PEM" : "JKS")
        switch type {
        case "PEM":
            var inline: String?
            if let inlineKey {
                guard let chain = value("ssl.keystore.certificate.chain") else {
                    throw SettingsError(description: "\(listener): ssl.keystore.key needs ssl.keystore.certificate.chain")
                }
                inline = inlineKey + "\n" + chain
            }
            let pem = try pemBytes(inline: inline, fileAt: location, fileKey: "ssl.keystore.location", listener) ?? []
            let chain = (try? NIOSSLCertificate.fromPEMBytes(pem)) ?? []
            guard !chain.isEmpty else { throw SettingsError(description: "\(listener): the keystore holds no PEM certificate") }
            do {
                // Always a passphrase callback: without one the TLS library would prompt on the
                // terminal for an encrypted key's password.
                let key = try NIOSSLPrivateKey(bytes: pem, format: .pem) { provide in provide(Array((password ?? "").utf8)) }
                return (chain, key)
            } catch {
                throw SettingsError(description: "\(listener): the keystore's private key cannot be read\(password == nil ? " (an encrypted key needs ssl.key.password)" : " with ssl.key.password"): \(error)")
            }
        case "PKCS12":
            guard let location else {
                throw SettingsError(description: "\(listener): ssl.keystore.type=PKCS12 needs ssl.keystore.location")
            }
            do {
                let bundle = try NIOSSLPKCS12Bundle(file: location, passphrase: value("ssl.keystore.password").map { Array($0.utf8) })
                return (bundle.certificateChain, bundle.privateKey)
            } catch {
                throw SettingsError(description: "\(listener): cannot read the PKCS12 keystore \(location) with ssl.keystore.password: \(error)")
            }
        default:
            throw SettingsError(description: "\(listener): ssl.keystore.type \(type) is not supported: Brook reads PEM (ssl.keystore.type=PEM) and PKCS12 keystores")
        }
    }

    /// The certificates of the truststore, none when it is not set.
    private static func trustedCertificates(_ listener: String, _ value: (String) -> String?) throws -> [NIOSSLCertificate] {
        guard let pem = try pemBytes(
            inline: value("ssl.truststore.certificates"), fileAt: value("ssl.truststore.location"), fileKey: "ssl.truststore.location", listener)
        else { return [] }
        if let type = value("ssl.truststore.type")?.uppercased(), type != "PEM" {
            throw SettingsError(description: "\(listener): ssl.truststore.type \(type) is not supported: Brook reads PEM truststores (ssl.truststore.type=PEM)")
        }
        guard let certificates = try? NIOSSLCertificate.fromPEMBytes(pem), !certificates.isEmpty else {
            throw SettingsError(description: "\(listener): the truststore holds no PEM certificate")
        }
        return certificates
    }

    /// PEM text given inline, else read from the file at `location` (the value of `fileKey`);
    /// nil when neither is set.
    private static func pemBytes(inline: String?, fileAt location: String?, fileKey: String, _ listener: String) throws -> [UInt8]? {
        if let inline { return Array(inline.utf8) }
        guard let location else { return nil }
        guard let contents = FileManager.default.contents(atPath: location) else {
            throw SettingsError(description: "\(listener): cannot read \(fileKey) \(location)")
        }
        return Array(contents)
    }

    /// The lowest and highest of `ssl.enabled.protocols`.
    static func versions(_ listener: String, _ list: String?) throws -> (TLSVersion, TLSVersion?) {
        let known: [(String, TLSVersion)] = [("TLSv1", .tlsv1), ("TLSv1.1", .tlsv11), ("TLSv1.2", .tlsv12), ("TLSv1.3", .tlsv13)]
        var enabled: [Int] = []
        for name in (list ?? "TLSv1.2,TLSv1.3").split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let index = known.firstIndex(where: { $0.0.lowercased() == name.lowercased() }) else {
                throw SettingsError(description: "\(listener): ssl.enabled.protocols names \(name); known: \(known.map(\.0).joined(separator: ", "))")
            }
            enabled.append(index)
        }
        guard let lowest = enabled.min(), let highest = enabled.max() else {
            throw SettingsError(description: "\(listener): ssl.enabled.protocols is empty")
        }
        return (known[lowest].1, known[highest].1)
    }

    /// `ssl.cipher.suites` (IANA names, as Java writes them) as the TLS library's values.
    static func cipherSuites(_ listener: String, _ list: String) throws -> [NIOTLSCipher] {
        var suites: [NIOTLSCipher] = []
        for name in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let suite = knownCipherSuites[name.uppercased()] else {
                throw SettingsError(description: "\(listener): ssl.cipher.suites names \(name), which Brook does not offer; known: \(knownCipherSuites.keys.sorted().joined(separator: ", "))")
            }
            suites.append(suite)
        }
        return suites
    }

    static let knownCipherSuites: [String: NIOTLSCipher] = [
        "TLS_AES_128_GCM_SHA256": .TLS_AES_128_GCM_SHA256,
        "TLS_AES_256_GCM_SHA384": .TLS_AES_256_GCM_SHA384,
        "TLS_CHACHA20_POLY1305_SHA256": .TLS_CHACHA20_POLY1305_SHA256,
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ]
}

extension ListenerTLS {
    /// What the TLS contexts are made of: every `ssl.*` setting, and the modification time of
    /// each file they name, so that a keystore rewritten in place and set again is reloaded.
    static func fingerprint(of config: BrokerConfig) -> [String: String] {
        var fingerprint: [String: String] = [:]
        for (key, value) in config.values where key.contains("ssl.") {
            fingerprint[key] = value
            if key.hasSuffix(".location"),
                let modified = (try? FileManager.default.attributesOfItem(atPath: value))?[.modificationDate] as? Date {
                fingerprint[key + "#modified"] = "\(modified.timeIntervalSince1970)"
            }
        }
        return fingerprint
    }
}
