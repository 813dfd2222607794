import Crypto
import CryptoExtras
import Foundation

/// The public keys a JWT issuer signs with (a JSON Web Key Set, RFC 7517): RSA keys for RS256 and
/// P-256 keys for ES256, by key id.
public struct JsonWebKeySet: Sendable {
    enum Key: Sendable {
        case rsa(_RSA.Signing.PublicKey)
        case p256(P256.Signing.PublicKey)
    }

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    let keys: [(id: String?, key: Key)]

    /// Reads a JWKS document (`{"keys": [...]}`); keys of other types are skipped.
    public init(json: Data) throws(Invalid) {
        guard let document = try? JSONSerialization.jsonObject(with: json) as? [String: Any], let entries = document["keys"] as? [[String: Any]] else {
            throw Invalid(description: "not a JSON Web Key Set: no \"keys\" array")
        }
        var keys: [(String?, Key)] = []
        for entry in entries {
            let id = entry["kid"] as? String
            switch entry["kty"] as? String {
            case "RSA":
                guard let n = (entry["n"] as? String).flatMap(Base64URL.decode), let e = (entry["e"] as? String).flatMap(Base64URL.decode),
                    let key = try? _RSA.Signing.PublicKey(n: n, e: e)
                else { throw Invalid(description: "RSA key \(id ?? "?") is not a valid public key of at least 2048 bits") }
                keys.append((id, .rsa(key)))
            case "EC" where entry["crv"] as? String == "P-256":
                guard let x = (entry["x"] as? String).flatMap(Base64URL.decode), let y = (entry["y"] as? String).flatMap(Base64URL.decode),
                    let key = try? P256.Signing.PublicKey(rawRepresentation: x + y)
                else { throw Invalid(description: "EC key \(id ?? "?") is not a valid P-256 public key") }
                keys.append((id, .p256(key)))
            default:
                continue
            }
        }
        self.keys = keys
    }

    /// The key a token's header names (`kid`), or the only key when it names none.
    func key(id: String?) -> Key? {
        if let id { return keys.first { $0.id == id }?.key }
        return keys.count == 1 ? keys[0].key : nil
    }
}

/// Checks signed JWTs as Kafka's OAuthBearerValidatorCallbackHandler does (KIP-768): the
/// signature against the key set (RS256 or ES256; unsigned tokens are refused), the expiry and
/// not-before times within a clock skew, the audience and issuer when expected, and the subject
/// and scope claims.
public struct JwtValidator: Sendable {
    public struct Refused: Error, CustomStringConvertible, Equatable {
        public let description: String
        /// The token is signed with a key the key set lacks (the issuer may have added it since
        /// the set was fetched).
        public var isUnknownKey = false

        init(description: String, isUnknownKey: Bool = false) {
            self.description = description
            self.isUnknownKey = isUnknownKey
        }
    }

    /// What a valid token says.
    public struct Claims: Sendable, Equatable {
        public var subject: String
        public var scopes: [String]
        public var expiresAt: Date
    }

    public var expectedAudiences: [String] = []
    public var expectedIssuer: String?
    public var subjectClaim = "sub"
    public var scopeClaim = "scope"
    public var clockSkew: TimeInterval = 30

    public init() {}

    public func validate(_ token: String, keys: JsonWebKeySet, now: Date = Date()) throws(Refused) -> Claims {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Base64URL.decode(String(parts[0])), let payloadBytes = Base64URL.decode(String(parts[1])),
            let signature = Base64URL.decode(String(parts[2])),
            let header = try? JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any],
            let claims = try? JSONSerialization.jsonObject(with: Data(payloadBytes)) as? [String: Any]
        else { throw Refused(description: "malformed JWT: expected three base64url parts holding JSON") }
        let signed = Array("\(parts[0]).\(parts[1])".utf8)
        let algorithm = header["alg"] as? String ?? "none"
        guard let key = keys.key(id: header["kid"] as? String) else {
            throw Refused(description: "no key in the key set for kid \(header["kid"] as? String ?? "(none)")", isUnknownKey: true)
        }
        switch (algorithm, key) {
        case ("RS256", .rsa(let key)):
            guard key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: signed, padding: .insecurePKCS1v1_5) else {
                throw Refused(description: "invalid JWT signature")
            }
        case ("ES256", .p256(let key)):
            guard let ecdsa = try? P256.Signing.ECDSASignature(rawRepresentation: signature), key.isValidSignature(ecdsa, for: signed) else {
                throw Refused(description: "invalid JWT signature")
            }
        default:
            throw Refused(description: "JWT algorithm \(algorithm) does not match the key or is not accepted (RS256, ES256)")
        }
        guard let expiry = claims["exp"] as? Double else { throw Refused(description: "the JWT has no exp claim") }
        guard now.timeIntervalSince1970 <= expiry + clockSkew else { throw Refused(description: "the JWT expired at \(Int(expiry))") }
        if let notBefore = claims["nbf"] as? Double, now.timeIntervalSince1970 + clockSkew < notBefore {
            throw Refused(description: "the JWT is not valid before \(Int(notBefore))")
        }
        if !expectedAudiences.isEmpty {
            let audiences = (claims["aud"] as? [String]) ?? (claims["aud"] as? String).map { [$0] } ?? []
            guard audiences.contains(where: expectedAudiences.contains) else {
                throw Refused(description: "the JWT's audience \(audiences) is not one of \(expectedAudiences)")
            }
        }
        if let expectedIssuer, claims["iss"] as? String != expectedIssuer {
            throw Refused(description: "the JWT's issuer is not \(expectedIssuer)")
        }
        guard let subject = claims[subjectClaim] as? String, !subject.isEmpty else {
            throw Refused(description: "the JWT has no \(subjectClaim) claim")
        }
        let scopes: [String]
        switch claims[scopeClaim] {
        case nil: scopes = []
        case let text as String: scopes = text.split(separator: " ").map(String.init)
        case let list as [String]: scopes = list
        default: throw Refused(description: "the JWT's \(scopeClaim) claim is neither a string nor a list of strings")
        }
        return Claims(subject: subject, scopes: scopes, expiresAt: Date(timeIntervalSince1970: expiry))
    }
}

/// Base64url without padding (RFC 4648, section 5), as JWTs and JWKs write it.
public enum Base64URL {
    public static func decode(_ text: String) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64).map(Array.init)
    }

    public static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// OAUTHBEARER's client message (RFC 7628): a GS2 header, then `auth=Bearer <token>` and any
/// extensions, each ended by 0x01.
public enum OAuthBearerMessage {
    public static func token(in message: [UInt8]) -> String? {
        guard let text = String(validating: message, as: UTF8.self), let start = text.firstIndex(of: "\u{01}") else { return nil }
        let header = text[..<start]
        guard header.hasPrefix("n,") || header.hasPrefix("y,") else { return nil }
        for pair in text[text.index(after: start)...].split(separator: "\u{01}") where pair.hasPrefix("auth=") {
            let value = pair.dropFirst("auth=".count)
            guard value.lowercased().hasPrefix("bearer ") else { return nil }
            return String(value.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    /// The message a client sends for `token`.
    public static func clientMessage(token: String) -> [UInt8] {
        Array("n,,\u{01}auth=Bearer \(token)\u{01}\u{01}".utf8)
    }
}
