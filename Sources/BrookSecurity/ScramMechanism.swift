import Crypto
import CryptoExtras

/// SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) with Kafka's type ids and iteration
/// bounds: the functions of RFC 5802's section 3, which both ends of an exchange compute.
public enum ScramMechanism: Int8, Sendable, CaseIterable, Hashable {
    case sha256 = 1
    case sha512 = 2

    /// Kafka's bounds for a credential's iteration count.
    public static let minimumIterations: Int32 = 4096
    public static let maximumIterations: Int32 = 16384

    /// The SASL mechanism name, `SCRAM-SHA-256` or `SCRAM-SHA-512`.
    public var name: String {
        switch self {
        case .sha256: "SCRAM-SHA-256"
        case .sha512: "SCRAM-SHA-512"
        }
    }

    /// The mechanism named `name` (any case).
    public init?(name: String) {
        guard let found = Self.allCases.first(where: { $0.name == name.uppercased() }) else { return nil }
        self = found
    }

    /// H(data).
    public func hash(_ data: [UInt8]) -> [UInt8] {
        switch self {
        case .sha256: Array(SHA256.hash(data: data))
        case .sha512: Array(SHA512.hash(data: data))
        }
    }

    /// HMAC(key, data).
    public func hmac(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        let key = SymmetricKey(data: key)
        switch self {
        case .sha256: return Array(HMAC<SHA256>.authenticationCode(for: data, using: key))
        case .sha512: return Array(HMAC<SHA512>.authenticationCode(for: data, using: key))
        }
    }

    /// SaltedPassword := Hi(password, salt, i), PBKDF2 with this mechanism's HMAC. Kafka uses
    /// the password's UTF-8 bytes as they are (no SASLprep), and so does Brook.
    public func saltedPassword(_ password: String, salt: [UInt8], iterations: Int32) throws -> [UInt8] {
        let function: KDF.Insecure.PBKDF2.HashFunction = self == .sha256 ? .sha256 : .sha512
        let key = try KDF.Insecure.PBKDF2.deriveKey(
            from: Array(password.utf8), salt: salt, using: function, outputByteCount: self == .sha256 ? 32 : 64,
            unsafeUncheckedRounds: Int(iterations))
        return key.withUnsafeBytes { Array($0) }
    }

    /// ClientKey := HMAC(SaltedPassword, "Client Key").
    public func clientKey(saltedPassword: [UInt8]) -> [UInt8] {
        hmac(key: saltedPassword, Array("Client Key".utf8))
    }

    /// ServerKey := HMAC(SaltedPassword, "Server Key").
    public func serverKey(saltedPassword: [UInt8]) -> [UInt8] {
        hmac(key: saltedPassword, Array("Server Key".utf8))
    }

    /// The credential a server stores for `saltedPassword`.
    public func credential(saltedPassword: [UInt8], salt: [UInt8], iterations: Int32) -> ScramCredential {
        ScramCredential(
            salt: salt, storedKey: hash(clientKey(saltedPassword: saltedPassword)),
            serverKey: serverKey(saltedPassword: saltedPassword), iterations: iterations)
    }
}

/// What a server keeps of a SCRAM password (Kafka's ScramCredential): never the password.
public struct ScramCredential: Sendable, Equatable {
    public var salt: [UInt8]
    /// H(ClientKey): checks a client's proof.
    public var storedKey: [UInt8]
    /// Signs the server's final message, proving to the client that the server knows it.
    public var serverKey: [UInt8]
    public var iterations: Int32

    public init(salt: [UInt8], storedKey: [UInt8], serverKey: [UInt8], iterations: Int32) {
        self.salt = salt
        self.storedKey = storedKey
        self.serverKey = serverKey
        self.iterations = iterations
    }
}

extension Array where Element == UInt8 {
    /// The bytes XOR `other`'s (of the same length).
    func xor(_ other: [UInt8]) -> [UInt8] {
        zip(self, other).map { $0 ^ $1 }
    }
}
