import BrookProtocol

/// Who a client quota applies to, as Kafka names it: a user, a client id, both (a client id of
/// one user), or an IP address; a nil name is the default for that type (`<default>`).
public struct QuotaEntity: Sendable, Hashable {
    public static let user = "user"
    public static let clientId = "client-id"
    public static let ip = "ip"

    /// Entity type to name (nil: the default).
    public var parts: [String: String?]

    public init(_ parts: [String: String?]) {
        self.parts = parts
    }

    init(_ record: [ClientQuotaRecord.EntityData]) {
        var parts: [String: String?] = [:]
        for entry in record { parts[entry.entityType] = .some(entry.entityName) }
        self.init(parts)
    }

    var recordEntity: [ClientQuotaRecord.EntityData] {
        parts.sorted { $0.key < $1.key }.map { .init(entityType: $0.key, entityName: $0.value) }
    }

    /// Why Kafka would refuse this entity in AlterClientQuotas, or nil.
    var invalidReason: String? {
        guard !parts.isEmpty else { return "Invalid empty client quota entity" }
        for type in parts.keys where ![Self.user, Self.clientId, Self.ip].contains(type) {
            return "Unhandled client quota entity type: \(type)"
        }
        if parts[Self.ip] != nil, parts.count > 1 { return "Invalid quota entity combination: an ip entity cannot be combined with others" }
        if case .some(.some(let name)) = parts[Self.user], name.isEmpty { return "Empty user entity name" }
        if case .some(.some(let name)) = parts[Self.ip], name.isEmpty { return "Empty ip entity name" }
        return nil
    }

    /// The keys this entity takes.
    var validKeys: Set<String> {
        parts[Self.ip] != nil
            ? ["connection_creation_rate"]
            : ["producer_byte_rate", "consumer_byte_rate", "request_percentage", "controller_mutation_rate"]
    }
}
