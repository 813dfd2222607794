import BrookProtocol
import Foundation

/// A SASL listener's mechanisms (`sasl.enabled.mechanisms`) and what checks a client's token.
/// PLAIN's users come from the listener's JAAS config, as Kafka's PlainLoginModule reads them
/// (`user_<name>="<password>"` entries).
struct SaslAuthenticator: Sendable {
    /// The mechanisms Brook offers; a listener enables some of them.
    static let supported = ["PLAIN"]

    struct SettingsError: Error, CustomStringConvertible {
        let description: String
    }

    /// The outcome of one SaslAuthenticate token.
    enum Outcome: Sendable, Equatable {
        case authenticated(principal: String)
        case refused(String)
    }

    let mechanisms: [String]
    /// PLAIN: password by user name.
    let plainUsers: [String: String]

    init(mechanisms: [String], plainUsers: [String: String]) {
        self.mechanisms = mechanisms
        self.plainUsers = plainUsers
    }

    /// The authenticator of the SASL listener `listener`.
    static func of(listener: String, in config: BrokerConfig) throws(SettingsError) -> SaslAuthenticator {
        let enabled = (config.string("sasl.enabled.mechanisms", forListener: listener) ?? "GSSAPI")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).uppercased() }.filter { !$0.isEmpty }
        let unsupported = enabled.filter { !supported.contains($0) }
        guard unsupported.isEmpty, !enabled.isEmpty else {
            throw SettingsError(description: "listener \(listener): sasl.enabled.mechanisms is \(enabled.joined(separator: ",")); Brook offers \(supported.joined(separator: ", ")) (set sasl.enabled.mechanisms=PLAIN)")
        }
        var users: [String: String] = [:]
        if enabled.contains("PLAIN") {
            let key = "listener.name.\(listener.lowercased()).plain.sasl.jaas.config"
            guard let jaas = config.values[key] ?? config.string("sasl.jaas.config", forListener: listener) else {
                throw SettingsError(description: "listener \(listener) enables PLAIN: set \(key) to PlainLoginModule's users (user_<name>=\"<password>\")")
            }
            users = try plainUsers(jaas, key: key)
        }
        return SaslAuthenticator(mechanisms: enabled, plainUsers: users)
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

    /// Checks one token of `mechanism`.
    func authenticate(_ token: [UInt8], mechanism: String) -> Outcome {
        switch mechanism {
        case "PLAIN": plain(token)
        default: .refused("Unsupported SASL mechanism \(mechanism)")
        }
    }

    /// PLAIN (RFC 4616): `[authzid] NUL authcid NUL passwd`; an authorization id other than the
    /// user itself is refused, as Kafka refuses it.
    private func plain(_ token: [UInt8]) -> Outcome {
        let parts = token.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3,
            let authorizationId = String(validating: parts[0], as: UTF8.self),
            let user = String(validating: parts[1], as: UTF8.self),
            let password = String(validating: parts[2], as: UTF8.self),
            !user.isEmpty, !password.isEmpty
        else { return .refused("Invalid SASL/PLAIN response: expected 3 tokens with a user name and a password") }
        guard authorizationId.isEmpty || authorizationId == user else {
            return .refused("Authentication failed: Client requested an authorization id that is different from username")
        }
        guard let expected = plainUsers[user], Self.constantTimeEqual(expected, password) else {
            return .refused("Authentication failed: Invalid username or password")
        }
        return .authenticated(principal: "User:\(user)")
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8), right = Array(b.utf8)
        var difference = UInt8(left.count == right.count ? 0 : 1)
        for index in 0..<max(left.count, right.count) {
            difference |= (index < left.count ? left[index] : 0) ^ (index < right.count ? right[index] : 0)
        }
        return difference == 0
    }
}

/// The `name="value"` options of a JAAS login module entry
/// (`LoginModule required a="1" b="2";`).
enum JaasOptions {
    struct Option: Equatable {
        let name: String
        let value: String
    }

    static func parse(_ text: String) -> [Option] {
        var options: [Option] = []
        var rest = Substring(text)
        while let equals = rest.firstIndex(of: "=") {
            let name = rest[..<equals].split(whereSeparator: { $0.isWhitespace }).last.map(String.init) ?? ""
            rest = rest[rest.index(after: equals)...].drop { $0.isWhitespace }
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if escaped { value.append(character); escaped = false } else if character == "\\" { escaped = true } else if character == "\"" { break } else { value.append(character) }
                }
            } else {
                let end = rest.firstIndex(where: { $0.isWhitespace || $0 == ";" }) ?? rest.endIndex
                value = String(rest[..<end])
                rest = rest[end...]
            }
            if !name.isEmpty { options.append(Option(name: name, value: value)) }
        }
        return options
    }
}
