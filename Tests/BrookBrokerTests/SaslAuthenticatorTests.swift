@testable import BrookBroker
import Testing

/// SASL/PLAIN: the users of a listener's JAAS config and the checks on a client's token.
@Suite struct SaslAuthenticatorTests {
    static let jaas = #"org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="al\"ice;";"#

    static func token(_ parts: String...) -> [UInt8] {
        Array(parts.joined(separator: "\0").utf8)
    }

    @Test func jaasOptionsAreReadAsPlainLoginModuleReadsThem() throws {
        let users = try SaslAuthenticator.plainUsers(Self.jaas, key: "sasl.jaas.config")
        #expect(users == ["admin": "admin-secret", "alice": #"al"ice;"#])
        #expect(JaasOptions.parse(#"M required a=1 b="two words";"#) == [.init(name: "a", value: "1"), .init(name: "b", value: "two words")])
        #expect(throws: SaslAuthenticator.SettingsError.self) {
            try SaslAuthenticator.plainUsers(#"org.example.OtherModule required user_a="b";"#, key: "k")
        }
        #expect(throws: SaslAuthenticator.SettingsError.self) {
            try SaslAuthenticator.plainUsers("org.apache.kafka.common.security.plain.PlainLoginModule required;", key: "k")
        }
    }

    @Test func plainTokensAuthenticateOnlyTheRightUserAndPassword() throws {
        let authenticator = SaslAuthenticator(mechanisms: ["PLAIN"], plainUsers: try SaslAuthenticator.plainUsers(Self.jaas, key: "k"))
        #expect(authenticator.authenticate(Self.token("", "admin", "admin-secret"), mechanism: "PLAIN") == .authenticated(principal: "User:admin"))
        #expect(authenticator.authenticate(Self.token("alice", "alice", #"al"ice;"#), mechanism: "PLAIN") == .authenticated(principal: "User:alice"))
        let wrong = SaslAuthenticator.Outcome.refused("Authentication failed: Invalid username or password")
        #expect(authenticator.authenticate(Self.token("", "admin", "admin-secreT"), mechanism: "PLAIN") == wrong)
        #expect(authenticator.authenticate(Self.token("", "admin", "admin-secret-and-more"), mechanism: "PLAIN") == wrong)
        #expect(authenticator.authenticate(Self.token("", "mallory", "admin-secret"), mechanism: "PLAIN") == wrong)
        #expect(authenticator.authenticate(Self.token("admin", "alice", #"al"ice;"#), mechanism: "PLAIN")
            == .refused("Authentication failed: Client requested an authorization id that is different from username"))
        for malformed in [Self.token("admin", "admin-secret"), Self.token("", "", "x"), Self.token("", "admin", ""), [], [0xFF, 0, 0x61, 0, 0x62]] {
            guard case .refused = authenticator.authenticate(malformed, mechanism: "PLAIN") else {
                Issue.record("a malformed token authenticated: \(malformed)")
                continue
            }
        }
        #expect(authenticator.authenticate(Self.token("", "admin", "admin-secret"), mechanism: "SCRAM-SHA-256")
            == .refused("Unsupported SASL mechanism SCRAM-SHA-256"))
    }

    @Test func aSessionAllowsOnlyTheExchangeUntilItAuthenticates() throws {
        let session = SaslSession(authenticator: SaslAuthenticator(mechanisms: ["PLAIN"], plainUsers: ["a": "b"]))
        #expect(session.allows(apiKey: 18) && session.allows(apiKey: 17) && session.allows(apiKey: 36))
        #expect(!session.allows(apiKey: 3) && !session.allows(apiKey: 0))
        session.move(to: .authenticated(principal: "User:a"))
        #expect(session.allows(apiKey: 0) && session.principal == "User:a")
        session.move(to: .failed)
        #expect(!session.allows(apiKey: 18))
    }
}
