import Foundation

/// The messages of a SCRAM exchange (RFC 5802, section 7), as Kafka's clients and servers write
/// them: parsed strictly, since a client's token is untrusted input.
public enum ScramMessages {
    public struct Malformed: Error, CustomStringConvertible, Equatable {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// `gs2-header client-first-message-bare`: `n,[a=authzid],n=user,r=nonce[,ext=value...]`.
    public struct ClientFirst: Equatable, Sendable {
        public var authorizationId: String
        public var user: String
        public var nonce: String
        /// Extensions after the nonce (Kafka's `tokenauth=true` for delegation tokens).
        public var extensions: [String: String]
        /// `n,,` or `n,a=...,` (or `y,...`): repeated, base64, in the final message.
        public var gs2Header: String
        /// The message without its GS2 header, part of the AuthMessage.
        public var bare: String

        public init(user: String, nonce: String) {
            authorizationId = ""
            self.user = user
            self.nonce = nonce
            extensions = [:]
            gs2Header = "n,,"
            bare = "n=\(ScramMessages.saslName(user)),r=\(nonce)"
        }

        public init(parsing bytes: [UInt8]) throws(Malformed) {
            guard let text = String(validating: bytes, as: UTF8.self) else { throw Malformed("client-first-message is not UTF-8") }
            let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count >= 4 else { throw Malformed("Invalid SCRAM client first message format: \(parts.count) parts") }
            switch parts[0] {
            case "n", "y": break
            default: throw Malformed("Invalid SCRAM client first message: channel binding \(parts[0]) is not supported")
            }
            if parts[1].isEmpty {
                authorizationId = ""
            } else if parts[1].hasPrefix("a=") {
                authorizationId = try ScramMessages.decodeSaslName(parts[1].dropFirst(2))
            } else {
                throw Malformed("Invalid SCRAM client first message: bad authorization id \(parts[1])")
            }
            guard parts[2].hasPrefix("n="), parts[3].hasPrefix("r=") else {
                throw Malformed("Invalid SCRAM client first message: expected n=<user>,r=<nonce>")
            }
            user = try ScramMessages.decodeSaslName(parts[2].dropFirst(2))
            nonce = String(parts[3].dropFirst(2))
            guard !user.isEmpty, ScramMessages.isValidNonce(nonce) else {
                throw Malformed("Invalid SCRAM client first message: empty user name or invalid nonce")
            }
            var extensions: [String: String] = [:]
            for part in parts.dropFirst(4) {
                guard let equals = part.firstIndex(of: "="), equals != part.startIndex else {
                    throw Malformed("Invalid SCRAM extension \(part)")
                }
                extensions[String(part[..<equals])] = String(part[part.index(after: equals)...])
            }
            self.extensions = extensions
            gs2Header = parts[0] + "," + parts[1] + ","
            bare = parts[2...].joined(separator: ",")
        }

        public var bytes: [UInt8] { Array((gs2Header + bare).utf8) }
    }

    /// `r=nonce,s=salt,i=iterations`.
    public struct ServerFirst: Equatable, Sendable {
        public var nonce: String
        public var salt: [UInt8]
        public var iterations: Int32

        public init(nonce: String, salt: [UInt8], iterations: Int32) {
            self.nonce = nonce
            self.salt = salt
            self.iterations = iterations
        }

        public init(parsing bytes: [UInt8]) throws(Malformed) {
            guard let text = String(validating: bytes, as: UTF8.self) else { throw Malformed("server-first-message is not UTF-8") }
            let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count >= 3, parts[0].hasPrefix("r="), parts[1].hasPrefix("s="), parts[2].hasPrefix("i="),
                let salt = Data(base64Encoded: String(parts[1].dropFirst(2))), let iterations = Int32(parts[2].dropFirst(2)),
                iterations > 0
            else { throw Malformed("Invalid SCRAM server first message \(text)") }
            nonce = String(parts[0].dropFirst(2))
            self.salt = Array(salt)
            self.iterations = iterations
        }

        public var text: String { "r=\(nonce),s=\(Data(salt).base64EncodedString()),i=\(iterations)" }
    }

    /// `c=base64(gs2-header),r=nonce[,ext...],p=proof`.
    public struct ClientFinal: Equatable, Sendable {
        public var channelBinding: String
        public var nonce: String
        public var proof: [UInt8]
        /// The message up to its proof, part of the AuthMessage.
        public var withoutProof: String

        public init(gs2Header: String, nonce: String, proof: [UInt8]) {
            channelBinding = Data(gs2Header.utf8).base64EncodedString()
            self.nonce = nonce
            self.proof = proof
            withoutProof = "c=\(channelBinding),r=\(nonce)"
        }

        public init(parsing bytes: [UInt8]) throws(Malformed) {
            guard let text = String(validating: bytes, as: UTF8.self) else { throw Malformed("client-final-message is not UTF-8") }
            guard let proofStart = text.range(of: ",p=", options: .backwards) else {
                throw Malformed("Invalid SCRAM client final message: no proof")
            }
            withoutProof = String(text[..<proofStart.lowerBound])
            let parts = withoutProof.split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count >= 2, parts[0].hasPrefix("c="), parts[1].hasPrefix("r="),
                let proof = Data(base64Encoded: String(text[proofStart.upperBound...]))
            else { throw Malformed("Invalid SCRAM client final message format") }
            channelBinding = String(parts[0].dropFirst(2))
            nonce = String(parts[1].dropFirst(2))
            self.proof = Array(proof)
        }

        public var bytes: [UInt8] { Array("\(withoutProof),p=\(Data(proof).base64EncodedString())".utf8) }
    }

    /// A user name as SCRAM writes it: `,` as `=2C` and `=` as `=3D`.
    public static func saslName(_ user: String) -> String {
        user.replacingOccurrences(of: "=", with: "=3D").replacingOccurrences(of: ",", with: "=2C")
    }

    static func decodeSaslName(_ name: Substring) throws(Malformed) -> String {
        var result = ""
        var rest = name
        while let character = rest.first {
            rest = rest.dropFirst()
            guard character == "=" else {
                result.append(character)
                continue
            }
            switch rest.prefix(2) {
            case "2C": result.append(",")
            case "3D": result.append("=")
            default: throw Malformed("Invalid SCRAM user name: '=' must be written =2C or =3D")
            }
            rest = rest.dropFirst(2)
        }
        return result
    }

    /// RFC 5802's printable characters except ','.
    static func isValidNonce(_ nonce: String) -> Bool {
        !nonce.isEmpty && nonce.utf8.allSatisfy { $0 >= 0x21 && $0 <= 0x7E && $0 != UInt8(ascii: ",") }
    }

    /// A fresh nonce: 24 random bytes, base64 (printable, no ',').
    public static func randomNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<24).map { _ in UInt8.random(in: 0...255, using: &generator) }).base64EncodedString()
    }

    /// `length` random bytes for a salt.
    public static func randomSalt(length: Int = 32) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}
