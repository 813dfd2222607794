@testable import BrookBroker
import BrookSecurity
import Logging
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
        #expect(JaasOptions.values(#"M required a=1 b="2" a="3";"#) == ["a": "3", "b": "2"], "the last of an option given twice")
        #expect(throws: SaslAuthenticator.SettingsError.self) {
            try SaslAuthenticator.plainUsers(#"org.example.OtherModule required user_a="b";"#, key: "k")
        }
        #expect(throws: SaslAuthenticator.SettingsError.self) {
            try SaslAuthenticator.plainUsers("org.apache.kafka.common.security.plain.PlainLoginModule required;", key: "k")
        }
    }

    @Test func plainTokensAuthenticateOnlyTheRightUserAndPassword() throws {
        let authenticator = SaslAuthenticator(mechanisms: ["PLAIN"], plainUsers: try SaslAuthenticator.plainUsers(Self.jaas, key: "k"))
        func plain(_ token: [UInt8], mechanism: String = "PLAIN") -> SaslAuthenticator.Outcome {
            var scram: ScramServerExchange?
            return authenticator.authenticate(token, mechanism: mechanism, scram: &scram)
        }
        func refused(_ reason: String) -> SaslAuthenticator.Outcome { .refused(reason: reason, message: reason) }
        #expect(plain(Self.token("", "admin", "admin-secret")) == .authenticated(principal: "User:admin", reply: []))
        #expect(plain(Self.token("alice", "alice", #"al"ice;"#)) == .authenticated(principal: "User:alice", reply: []))
        let wrong = refused("Authentication failed: Invalid username or password")
        #expect(plain(Self.token("", "admin", "admin-secreT")) == wrong)
        #expect(plain(Self.token("", "admin", "admin-secret-and-more")) == wrong)
        #expect(plain(Self.token("", "mallory", "admin-secret")) == wrong)
        #expect(plain(Self.token("admin", "alice", #"al"ice;"#))
            == refused("Authentication failed: Client requested an authorization id that is different from username"))
        for malformed in [Self.token("admin", "admin-secret"), Self.token("", "", "x"), Self.token("", "admin", ""), [], [0xFF, 0, 0x61, 0, 0x62]] {
            guard case .refused = plain(malformed) else {
                Issue.record("a malformed token authenticated: \(malformed)")
                continue
            }
        }
        #expect(plain(Self.token("", "admin", "admin-secret"), mechanism: "GSSAPI") == refused("Unsupported SASL mechanism GSSAPI"))
    }

    @Test func scramSessionsChallengeThenAuthenticateWithTheMetadatasCredential() throws {
        let salt = ScramMessages.randomSalt()
        let credential = ScramMechanism.sha512.credential(
            saltedPassword: try ScramMechanism.sha512.saltedPassword("s3cret", salt: salt, iterations: 4096), salt: salt, iterations: 4096)
        let source = ScramCredentialSource()
        source.attach { user, mechanism in user == "bob" && mechanism == .sha512 ? credential : nil }
        let authenticator = SaslAuthenticator(mechanisms: ["SCRAM-SHA-512"], plainUsers: [:], scramCredentials: source)
        for (password, succeeds) in [("s3cret", true), ("guess", false)] {
            let session = SaslSession(authenticator: authenticator)
            session.move(to: .authenticate(mechanism: "SCRAM-SHA-512", raw: false))
            var client = ScramClientExchange(mechanism: .sha512, user: "bob", password: password)
            guard case .reply(let challenge, _) = session.authenticate(client.firstMessage, peer: "test", logger: .init(label: "test")) else {
                Issue.record("no challenge")
                return
            }
            let answer = session.authenticate(try client.finalMessage(answering: challenge), peer: "test", logger: .init(label: "test"))
            if succeeds {
                guard case .reply(let signature, _) = answer else {
                    Issue.record("the right password was refused: \(answer)")
                    return
                }
                try client.verify(serverFinal: signature)
                #expect(session.principal == "User:bob")
            } else {
                #expect(answer == .refused(message: "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512"))
                #expect(session.current == .failed)
            }
        }
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

    /// KIP-368: an authentication lasts connections.max.reauth.ms; the client authenticates
    /// again with the same mechanism and as the same principal, or the session fails.
    @Test func sessionsExpireAndReauthenticateAsTheSamePrincipal() {
        var authenticator = SaslAuthenticator(mechanisms: ["PLAIN"], plainUsers: ["a": "pa", "b": "pb"])
        authenticator.maxReauthMs = 60_000
        let session = SaslSession(authenticator: authenticator)
        let logger = Logger(label: "test")
        session.move(to: .authenticate(mechanism: "PLAIN", raw: false))
        #expect(session.authenticate(Self.token("", "a", "pa"), peer: "p", logger: logger) == .reply([], sessionLifetimeMs: 60_000))
        #expect(!session.isExpired)
        #expect(!session.beginReauthentication(mechanism: "SCRAM-SHA-256"))
        #expect(session.beginReauthentication(mechanism: "PLAIN"))
        #expect(session.allows(apiKey: 36) && !session.allows(apiKey: 0))
        #expect(session.authenticate(Self.token("", "a", "pa"), peer: "p", logger: logger) == .reply([], sessionLifetimeMs: 60_000))
        #expect(session.principal == "User:a")
        #expect(session.beginReauthentication(mechanism: "PLAIN"))
        #expect(session.authenticate(Self.token("", "b", "pb"), peer: "p", logger: logger)
            == .refused(message: "Cannot change principals during re-authentication from User:a to User:b"))
        #expect(session.current == .failed)
        // A zero lifetime: expired at once.
        authenticator.maxReauthMs = 0
        let forever = SaslSession(authenticator: authenticator)
        forever.move(to: .authenticate(mechanism: "PLAIN", raw: false))
        _ = forever.authenticate(Self.token("", "a", "pa"), peer: "p", logger: logger)
        #expect(!forever.isExpired)
    }
}
