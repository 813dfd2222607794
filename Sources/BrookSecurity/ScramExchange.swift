import Foundation

/// The server's side of one SCRAM exchange: the client's first message is answered with a
/// nonce, the salt and the iteration count; its final message's proof is checked against the
/// stored credential and answered with the server's signature.
public struct ScramServerExchange: Sendable, Equatable {
    /// What the server does with a client message.
    public enum Step: Sendable, Equatable {
        /// Send this challenge and wait for the client's next message.
        case challenge([UInt8])
        /// The client proved it knows `user`'s password; send `reply` (the server's signature).
        case authenticated(user: String, reply: [UInt8])
        /// Refuse the client, for this reason (logged; the client sees a generic message).
        case refused(String)
    }

    private enum State: Sendable, Equatable {
        case awaitingClientFirst
        case awaitingClientFinal(first: ScramMessages.ClientFirst, serverFirst: ScramMessages.ServerFirst, credential: ScramCredential)
        case finished
    }

    public let mechanism: ScramMechanism
    private var state = State.awaitingClientFirst
    private let serverNonce: String

    public init(mechanism: ScramMechanism, serverNonce: String = ScramMessages.randomNonce()) {
        self.mechanism = mechanism
        self.serverNonce = serverNonce
    }

    /// Handles the client's next message; `credential` looks up a user's stored credential.
    public mutating func receive(_ message: [UInt8], credential: (String) -> ScramCredential?) -> Step {
        switch state {
        case .awaitingClientFirst:
            state = .finished
            let first: ScramMessages.ClientFirst
            do {
                first = try ScramMessages.ClientFirst(parsing: message)
            } catch {
                return .refused(error.description)
            }
            guard first.authorizationId.isEmpty || first.authorizationId == first.user else {
                return .refused("Authentication failed: Client requested an authorization id that is different from username")
            }
            if first.extensions["tokenauth"]?.lowercased() == "true" {
                return .refused("Authentication failed: delegation tokens are not supported")
            }
            guard let stored = credential(first.user) else {
                return .refused("Authentication failed: Invalid user credentials (no \(mechanism.name) credential for \(first.user))")
            }
            let serverFirst = ScramMessages.ServerFirst(nonce: first.nonce + serverNonce, salt: stored.salt, iterations: stored.iterations)
            state = .awaitingClientFinal(first: first, serverFirst: serverFirst, credential: stored)
            return .challenge(Array(serverFirst.text.utf8))
        case .awaitingClientFinal(let first, let serverFirst, let stored):
            state = .finished
            let final: ScramMessages.ClientFinal
            do {
                final = try ScramMessages.ClientFinal(parsing: message)
            } catch {
                return .refused(error.description)
            }
            // The combined nonce, exactly; or, as librdkafka before 2.2 writes it (Debian's kcat),
            // the client's nonce followed by the combined one, which Kafka's servers accepted.
            guard final.nonce == serverFirst.nonce || final.nonce == first.nonce + serverFirst.nonce else {
                return .refused("Invalid SCRAM client final message: the nonce is not the one the server sent")
            }
            guard Data(base64Encoded: final.channelBinding).map(Array.init) == Array(first.gs2Header.utf8) else {
                return .refused("Invalid SCRAM client final message: the channel binding does not repeat the GS2 header")
            }
            let authMessage = Array("\(first.bare),\(serverFirst.text),\(final.withoutProof)".utf8)
            let clientSignature = mechanism.hmac(key: stored.storedKey, authMessage)
            guard final.proof.count == clientSignature.count,
                constantTimeEqual(mechanism.hash(final.proof.xor(clientSignature)), stored.storedKey)
            else { return .refused("Authentication failed: Invalid client credentials for \(first.user)") }
            let serverSignature = mechanism.hmac(key: stored.serverKey, authMessage)
            return .authenticated(user: first.user, reply: Array("v=\(Data(serverSignature).base64EncodedString())".utf8))
        case .finished:
            return .refused("Unexpected SCRAM message: the exchange is over")
        }
    }
}

/// The client's side of a SCRAM exchange (Brook's client, and tests).
public struct ScramClientExchange: Sendable {
    public struct Failed: Error, CustomStringConvertible {
        public let description: String
    }

    public let mechanism: ScramMechanism
    private let first: ScramMessages.ClientFirst
    private let password: String
    private var expectedServerSignature: [UInt8] = []

    public init(mechanism: ScramMechanism, user: String, password: String, nonce: String = ScramMessages.randomNonce()) {
        self.mechanism = mechanism
        self.password = password
        first = ScramMessages.ClientFirst(user: user, nonce: nonce)
    }

    /// The client-first message.
    public var firstMessage: [UInt8] { first.bytes }

    /// The client-final message answering the server's first message.
    public mutating func finalMessage(answering serverFirstBytes: [UInt8]) throws -> [UInt8] {
        let serverFirst = try ScramMessages.ServerFirst(parsing: serverFirstBytes)
        guard serverFirst.nonce.hasPrefix(first.nonce), serverFirst.nonce.count > first.nonce.count else {
            throw Failed(description: "the server's nonce does not extend the client's")
        }
        guard serverFirst.iterations >= ScramMechanism.minimumIterations else {
            throw Failed(description: "the server asks for \(serverFirst.iterations) iterations, fewer than \(ScramMechanism.minimumIterations)")
        }
        let salted = try mechanism.saltedPassword(password, salt: serverFirst.salt, iterations: serverFirst.iterations)
        let withoutProof = ScramMessages.ClientFinal(gs2Header: first.gs2Header, nonce: serverFirst.nonce, proof: []).withoutProof
        let authMessage = Array("\(first.bare),\(serverFirst.text),\(withoutProof)".utf8)
        let clientKey = mechanism.clientKey(saltedPassword: salted)
        let proof = clientKey.xor(mechanism.hmac(key: mechanism.hash(clientKey), authMessage))
        expectedServerSignature = mechanism.hmac(key: mechanism.serverKey(saltedPassword: salted), authMessage)
        return ScramMessages.ClientFinal(gs2Header: first.gs2Header, nonce: serverFirst.nonce, proof: proof).bytes
    }

    /// Checks the server's final message (`v=signature`): the server knew the credential.
    public func verify(serverFinal: [UInt8]) throws {
        guard let text = String(validating: serverFinal, as: UTF8.self) else { throw Failed(description: "server-final-message is not UTF-8") }
        if text.hasPrefix("e=") { throw Failed(description: "the server refused: \(text.dropFirst(2))") }
        guard text.hasPrefix("v="), let signature = Data(base64Encoded: String(text.dropFirst(2))),
            constantTimeEqual(Array(signature), expectedServerSignature)
        else { throw Failed(description: "the server's signature is wrong") }
    }
}

/// Compares two byte strings in time that depends only on their lengths.
public func constantTimeEqual(_ left: [UInt8], _ right: [UInt8]) -> Bool {
    var difference = UInt8(left.count == right.count ? 0 : 1)
    for index in 0..<max(left.count, right.count) {
        difference |= (index < left.count ? left[index] : 0) ^ (index < right.count ? right[index] : 0)
    }
    return difference == 0
}
