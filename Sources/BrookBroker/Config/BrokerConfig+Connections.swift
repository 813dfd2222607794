extension BrokerConfig {
    /// `queued.max.request.bytes`; zero or negative for no bound.
    public var queuedMaxRequestBytes: Int { Int(clamping: int64("queued.max.request.bytes") ?? -1) }

    /// `max.connections`, `max.connections.per.ip` and `max.connections.per.ip.overrides`.
    public var connectionLimits: ConnectionLimits {
        get throws(InvalidConfig) {
            var limits = ConnectionLimits(
                maxConnections: int("max.connections"), maxConnectionsPerIp: int("max.connections.per.ip"),
                perIpOverrides: try Self.parsePerIpOverrides(string("max.connections.per.ip.overrides") ?? ""))
            limits.maxConnectionCreationRate = int("max.connection.creation.rate")
            return limits
        }
    }

    /// ``connectionLimits``, or, when the overrides do not parse (a dynamic update can store
    /// them), the numeric limits alone.
    var connectionLimitsKeepingNumericOnes: ConnectionLimits {
        (try? connectionLimits) ?? {
            var limits = ConnectionLimits(maxConnections: int("max.connections"), maxConnectionsPerIp: int("max.connections.per.ip"))
            limits.maxConnectionCreationRate = int("max.connection.creation.rate")
            return limits
        }()
    }

    /// Parses Kafka's `address:limit,address:limit` (the last colon separates, so IPv6 works).
    static func parsePerIpOverrides(_ text: String) throws(InvalidConfig) -> [String: Int] {
        var overrides: [String: Int] = [:]
        for entry in text.split(separator: ",") {
            let trimmed = String(entry).trimmingCharacters(in: " \t")
            guard !trimmed.isEmpty else { continue }
            guard let colon = trimmed.lastIndex(of: ":"), let limit = Int32(trimmed[trimmed.index(after: colon)...]), limit >= 0,
                  colon != trimmed.startIndex
            else {
                throw InvalidConfig(message: "max.connections.per.ip.overrides: '\(trimmed)' is not address:limit")
            }
            overrides[String(trimmed[..<colon])] = Int(limit)
        }
        return overrides
    }
}
