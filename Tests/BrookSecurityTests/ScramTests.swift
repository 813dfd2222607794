import BrookSecurity
import Foundation
import Testing

@Suite struct ScramTests {
    /// RFC 7677, section 3: user "user", password "pencil", 4096 iterations.
    @Test func rfc7677ExchangeMatchesTheTestVector() throws {
        let salt = Array(Data(base64Encoded: "W22ZaJ0SNY7soEsUEjb6gQ==")!)
        let salted = try ScramMechanism.sha256.saltedPassword("pencil", salt: salt, iterations: 4096)
        let credential = ScramMechanism.sha256.credential(saltedPassword: salted, salt: salt, iterations: 4096)
        var server = ScramServerExchange(mechanism: .sha256, serverNonce: "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0")
        var client = ScramClientExchange(mechanism: .sha256, user: "user", password: "pencil", nonce: "rOprNGfwEbeRWgbNEkqO")
        #expect(String(decoding: client.firstMessage, as: UTF8.self) == "n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
        guard case .challenge(let serverFirst) = server.receive(client.firstMessage, credential: { $0 == "user" ? credential : nil }) else {
            Issue.record("no challenge")
            return
        }
        #expect(String(decoding: serverFirst, as: UTF8.self)
            == "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
        let final = try client.finalMessage(answering: serverFirst)
        #expect(String(decoding: final, as: UTF8.self)
            == "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
        guard case .authenticated(let user, let reply) = server.receive(final, credential: { _ in nil }) else {
            Issue.record("not authenticated")
            return
        }
        #expect(user == "user")
        #expect(String(decoding: reply, as: UTF8.self) == "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
        try client.verify(serverFinal: reply)
    }

    @Test(arguments: ScramMechanism.allCases)
    func aWrongPasswordIsRefused(mechanism: ScramMechanism) throws {
        let salt = ScramMessages.randomSalt()
        let credential = mechanism.credential(
            saltedPassword: try mechanism.saltedPassword("right", salt: salt, iterations: 4096), salt: salt, iterations: 4096)
        var server = ScramServerExchange(mechanism: mechanism)
        var client = ScramClientExchange(mechanism: mechanism, user: "alice", password: "wrong")
        guard case .challenge(let first) = server.receive(client.firstMessage, credential: { _ in credential }) else {
            Issue.record("no challenge")
            return
        }
        guard case .refused(let reason) = server.receive(try client.finalMessage(answering: first), credential: { _ in credential }) else {
            Issue.record("a wrong password was accepted")
            return
        }
        #expect(reason.contains("Invalid client credentials"))
        // The exchange is over: nothing more is accepted.
        guard case .refused = server.receive(client.firstMessage, credential: { _ in credential }) else {
            Issue.record("a finished exchange accepted another message")
            return
        }
    }

    @Test func anUnknownUserIsRefusedAtTheFirstMessage() {
        var server = ScramServerExchange(mechanism: .sha512)
        let client = ScramClientExchange(mechanism: .sha512, user: "mallory", password: "x")
        guard case .refused(let reason) = server.receive(client.firstMessage, credential: { _ in nil }) else {
            Issue.record("an unknown user got a challenge")
            return
        }
        #expect(reason.contains("Invalid user credentials"))
    }

    @Test(arguments: [
        "", "n,,", "p=tls-unique,,n=u,r=abc", "n,,n=,r=abc", "n,,n=u,r=", "n,,n=u=2X,r=abc", "n,,r=abc,n=u",
        "n,,n=u,r=a\u{7F}b", "n,x,n=u,r=abc", "n,,n=u,r=abc,=v", "n,,n=u,r=abc,tokenauth=true",
        "n,a=other,n=u,r=abc",
    ])
    func malformedClientFirstMessagesAreRefused(message: String) {
        var server = ScramServerExchange(mechanism: .sha256)
        let credential = ScramCredential(salt: [1], storedKey: [2], serverKey: [3], iterations: 4096)
        guard case .refused = server.receive(Array(message.utf8), credential: { _ in credential }) else {
            Issue.record("accepted \(message)")
            return
        }
    }

    @Test(arguments: [
        "c=biws,r=NONCE", "c=biws,r=other,p=AAAA", "c=eSws,r=NONCE,p=AAAA", "c=biws,r=NONCE,p=!!!", "x",
        "c=biws,r=NONCE,p=",
    ])
    func malformedClientFinalMessagesAreRefused(message: String) {
        var server = ScramServerExchange(mechanism: .sha256, serverNonce: "S")
        let credential = ScramCredential(salt: [1], storedKey: [2], serverKey: [3], iterations: 4096)
        _ = server.receive(Array("n,,n=u,r=C".utf8), credential: { _ in credential })
        let text = message.replacingOccurrences(of: "NONCE", with: "CS")
        guard case .refused = server.receive(Array(text.utf8), credential: { _ in credential }) else {
            Issue.record("accepted \(text)")
            return
        }
    }

    @Test func userNamesWithCommasAndEqualsSignsSurviveTheExchange() throws {
        let salt = ScramMessages.randomSalt()
        let credential = ScramMechanism.sha256.credential(
            saltedPassword: try ScramMechanism.sha256.saltedPassword("pw", salt: salt, iterations: 4096), salt: salt, iterations: 4096)
        var server = ScramServerExchange(mechanism: .sha256)
        var client = ScramClientExchange(mechanism: .sha256, user: "a,b=c", password: "pw")
        var asked: String?
        guard case .challenge(let first) = server.receive(client.firstMessage, credential: { asked = $0; return credential }) else {
            Issue.record("no challenge")
            return
        }
        #expect(asked == "a,b=c")
        guard case .authenticated(let user, _) = server.receive(try client.finalMessage(answering: first), credential: { _ in nil }) else {
            Issue.record("not authenticated")
            return
        }
        #expect(user == "a,b=c")
    }

    @Test func theClientRefusesAForgedServerSignature() throws {
        let salt = ScramMessages.randomSalt()
        let credential = ScramMechanism.sha256.credential(
            saltedPassword: try ScramMechanism.sha256.saltedPassword("pw", salt: salt, iterations: 4096), salt: salt, iterations: 4096)
        var server = ScramServerExchange(mechanism: .sha256)
        var client = ScramClientExchange(mechanism: .sha256, user: "u", password: "pw")
        guard case .challenge(let first) = server.receive(client.firstMessage, credential: { _ in credential }) else { return }
        _ = try client.finalMessage(answering: first)
        #expect(throws: ScramClientExchange.Failed.self) { try client.verify(serverFinal: Array("v=AAAA".utf8)) }
    }
}

extension ScramTests {
    /// librdkafka before 2.2 (Debian's kcat) repeats its own nonce before the combined one; Kafka
    /// accepted that, and so does Brook, but no other prefix.
    @Test func theOldLibrdkafkaNonceFormIsAcceptedAndNoOtherPrefix() throws {
        let salt = ScramMessages.randomSalt()
        let salted = try ScramMechanism.sha256.saltedPassword("pw", salt: salt, iterations: 4096)
        let credential = ScramMechanism.sha256.credential(saltedPassword: salted, salt: salt, iterations: 4096)
        for (prefix, accepted) in [("CLIENT", true), ("OTHER", false), ("", true)] {
            var server = ScramServerExchange(mechanism: .sha256, serverNonce: "SERVER")
            _ = server.receive(Array("n,,n=u,r=CLIENT".utf8), credential: { _ in credential })
            let serverFirst = "r=CLIENTSERVER,s=\(Data(salt).base64EncodedString()),i=4096"
            let withoutProof = "c=biws,r=\(prefix)CLIENTSERVER"
            let authMessage = Array("n=u,r=CLIENT,\(serverFirst),\(withoutProof)".utf8)
            let clientKey = ScramMechanism.sha256.clientKey(saltedPassword: salted)
            let signature = ScramMechanism.sha256.hmac(key: ScramMechanism.sha256.hash(clientKey), authMessage)
            let proof = zip(clientKey, signature).map { $0 ^ $1 }
            let step = server.receive(Array("\(withoutProof),p=\(Data(proof).base64EncodedString())".utf8), credential: { _ in nil })
            if case .authenticated = step { #expect(accepted, "prefix \(prefix)") } else { #expect(!accepted, "prefix \(prefix)") }
        }
    }
}
