import BrookSecurity

extension FuzzTarget {
    /// SCRAM's server side on untrusted tokens: `[mechanism & 1][stage][message]`. Stage 0 feeds
    /// the message as the client's first; otherwise a valid first message goes first and the
    /// bytes are the client's final message. Random bytes must never authenticate, and a
    /// refused exchange must refuse everything after. Accepted: the message parses.
    public static let saslToken = FuzzTarget(
        name: "sasl-token", summary: "SCRAM client-first and client-final messages through the server's exchange"
    ) { raw throws(FuzzFailure) in
        guard raw.count >= 2 else { return .rejected }
        let mechanism: ScramMechanism = raw[0] & 1 == 0 ? .sha256 : .sha512
        let message = Array(raw[2...])
        let credential = ScramCredential(salt: [1, 2, 3, 4], storedKey: Array(repeating: 7, count: 32), serverKey: [9], iterations: 4096)
        var exchange = ScramServerExchange(mechanism: mechanism, serverNonce: "fuzz")
        if raw[1] != 0 {
            guard case .challenge = exchange.receive(Array("n,,n=user,r=client".utf8), credential: { _ in credential }) else {
                throw FuzzFailure("a valid client-first message was refused")
            }
        }
        let parses = raw[1] == 0
            ? (try? ScramMessages.ClientFirst(parsing: message)) != nil
            : (try? ScramMessages.ClientFinal(parsing: message)) != nil
        switch exchange.receive(message, credential: { _ in credential }) {
        case .authenticated:
            throw FuzzFailure("a SCRAM exchange authenticated without the password")
        case .challenge:
            try fuzzCheck(raw[1] == 0 && parses, "a message that does not parse got a challenge")
        case .refused:
            guard case .refused = exchange.receive(message, credential: { _ in credential }) else {
                throw FuzzFailure("a refused exchange accepted another message")
            }
        }
        return parses ? .accepted : .rejected
    }
}
