import BrookSecurity
import Crypto
import Foundation
import Testing

/// JWT checks as KIP-768's validator makes them, with ES256 tokens signed here.
@Suite struct JwtValidatorTests {
    static let key = P256.Signing.PrivateKey()

    static func keySet(_ key: P256.Signing.PrivateKey = key, kid: String = "k") throws -> JsonWebKeySet {
        let raw = Array(key.publicKey.rawRepresentation)
        let jwk: [String: Any] = ["kty": "EC", "crv": "P-256", "kid": kid, "x": Base64URL.encode(Array(raw[..<32])), "y": Base64URL.encode(Array(raw[32...]))]
        return try JsonWebKeySet(json: JSONSerialization.data(withJSONObject: ["keys": [jwk, ["kty": "oct", "k": "c2VjcmV0"]]]))
    }

    static func token(_ claims: [String: Any], key: P256.Signing.PrivateKey = key, alg: String = "ES256", kid: String = "k") throws -> String {
        let header = Base64URL.encode(Array(try JSONSerialization.data(withJSONObject: ["alg": alg, "kid": kid])))
        let payload = Base64URL.encode(Array(try JSONSerialization.data(withJSONObject: claims)))
        let signature = try key.signature(for: Array("\(header).\(payload)".utf8))
        return "\(header).\(payload).\(Base64URL.encode(Array(signature.rawRepresentation)))"
    }

    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static var good: [String: Any] { ["sub": "alice", "exp": 1_800_000_600, "aud": ["brook", "other"], "iss": "me", "scope": "a b"] }

    @Test func aGoodTokenGivesItsSubjectAndScopes() throws {
        var validator = JwtValidator()
        validator.expectedAudiences = ["brook"]
        validator.expectedIssuer = "me"
        let claims = try validator.validate(try Self.token(Self.good), keys: try Self.keySet(), now: Self.now)
        #expect(claims.subject == "alice" && claims.scopes == ["a", "b"])
    }

    @Test func badTokensAreRefusedWithTheReason() throws {
        var validator = JwtValidator()
        validator.expectedAudiences = ["brook"]
        validator.expectedIssuer = "me"
        let keys = try Self.keySet()
        func refusal(_ token: String) -> String? {
            do {
                _ = try validator.validate(token, keys: keys, now: Self.now)
                return nil
            } catch {
                return error.description
            }
        }
        var claims = Self.good
        claims["exp"] = 1_799_999_000
        #expect(refusal(try Self.token(claims))?.contains("expired") == true)
        claims = Self.good
        claims["exp"] = 1_799_999_990  // within the 30 s clock skew
        #expect(refusal(try Self.token(claims)) == nil)
        claims = Self.good
        claims["aud"] = "elsewhere"
        #expect(refusal(try Self.token(claims))?.contains("audience") == true)
        claims = Self.good
        claims["iss"] = "mallory"
        #expect(refusal(try Self.token(claims))?.contains("issuer") == true)
        claims = Self.good
        claims["nbf"] = 1_800_001_000
        #expect(refusal(try Self.token(claims))?.contains("not valid before") == true)
        claims = Self.good
        claims["sub"] = nil
        #expect(refusal(try Self.token(claims))?.contains("sub") == true)
        claims = Self.good
        claims["scope"] = 5
        #expect(refusal(try Self.token(claims))?.contains("scope") == true)
        #expect(refusal(try Self.token(Self.good, key: P256.Signing.PrivateKey()))?.contains("signature") == true)
        #expect(refusal(try Self.token(Self.good, kid: "other"))?.contains("no key") == true)
        #expect(refusal(try Self.token(Self.good, alg: "RS256"))?.contains("algorithm") == true)
        let unsigned = try Self.token(Self.good).split(separator: ".").prefix(2).joined(separator: ".") + "."
        #expect(refusal(unsigned) != nil)
        for garbage in ["", "a.b", "a.b.c", "....", "eyJ9.eyJ9.AA"] { #expect(refusal(garbage) != nil, "\(garbage)") }
    }

    @Test func theOAuthBearerMessageCarriesTheToken() {
        #expect(OAuthBearerMessage.token(in: OAuthBearerMessage.clientMessage(token: "abc.def.ghi")) == "abc.def.ghi")
        #expect(OAuthBearerMessage.token(in: Array("n,a=alice,\u{01}host=x\u{01}auth=Bearer t.o.k\u{01}\u{01}".utf8)) == "t.o.k")
        #expect(OAuthBearerMessage.token(in: Array("n,,\u{01}auth=Basic xyz\u{01}\u{01}".utf8)) == nil)
        #expect(OAuthBearerMessage.token(in: Array("garbage".utf8)) == nil)
        #expect(OAuthBearerMessage.token(in: [0x01]) == nil)
    }
}
