import Foundation

/// How a listener's connections are secured (Kafka's `security.protocol` values), with Kafka's
/// ids as brokers register them.
public enum SecurityProtocol: Int16, Sendable, CaseIterable, CustomStringConvertible {
    case plaintext = 0
    case ssl = 1
    case saslPlaintext = 2
    case saslSsl = 3

    public init?(name: String) {
        guard let found = Self.allCases.first(where: { $0.description == name.uppercased() }) else { return nil }
        self = found
    }

    public var description: String {
        switch self {
        case .plaintext: "PLAINTEXT"
        case .ssl: "SSL"
        case .saslPlaintext: "SASL_PLAINTEXT"
        case .saslSsl: "SASL_SSL"
        }
    }

    /// Whether connections are encrypted with TLS.
    public var usesTLS: Bool { self == .ssl || self == .saslSsl }
    /// Whether clients authenticate with SASL.
    public var usesSASL: Bool { self == .saslPlaintext || self == .saslSsl }
}

extension BrokerConfig {
    /// `listener.security.protocol.map` as listener name to protocol. Kafka's defaults map
    /// each protocol's own name to itself; an unknown protocol is a configuration error.
    public var securityProtocolMap: [String: SecurityProtocol] {
        get throws(InvalidConfig) {
            var map: [String: SecurityProtocol] = [:]
            for entry in list("listener.security.protocol.map") {
                let parts = entry.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, !parts[0].isEmpty, let found = SecurityProtocol(name: parts[1]) else {
                    throw InvalidConfig(message: "invalid value for listener.security.protocol.map: '\(entry)' is not NAME:PROTOCOL with PROTOCOL one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL")
                }
                map[parts[0].uppercased()] = found
            }
            return map
        }
    }

    /// The protocol of the listener called `name`.
    public func securityProtocol(of name: String) throws(InvalidConfig) -> SecurityProtocol {
        guard let found = try securityProtocolMap[name.uppercased()] else {
            throw InvalidConfig(message: "listener \(name) has no security protocol: add it to listener.security.protocol.map (e.g. \(name):SSL)")
        }
        return found
    }

    /// The value of `key` for the listener `name`: `listener.name.<name>.<key>` (the name in
    /// lower case, as Kafka writes it) when set, else `key`.
    public func string(_ key: String, forListener name: String) -> String? {
        values["listener.name.\(name.lowercased()).\(key)"] ?? string(key)
    }
}
