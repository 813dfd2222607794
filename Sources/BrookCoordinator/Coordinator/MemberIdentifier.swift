/// Member ids as Kafka makes them: for classic groups the client id, a dash and a random UUID
/// (`consumer-1-3f2a…`).
enum MemberIdentifier {
    static func make(clientId: String) -> String {
        clientId + "-" + uuid()
    }

    /// A random UUID in its 8-4-4-4-12 text form (KIP-848 member ids made by the broker).
    static func uuid() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        let hex = String(high, radix: 16).leftPadded(to: 16) + String(low, radix: 16).leftPadded(to: 16)
        let characters = Array(hex)
        let uuid = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }.joined(separator: "-")
        return uuid
    }
}

private extension String {
    func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
