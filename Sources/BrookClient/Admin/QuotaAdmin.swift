import BrookProtocol

/// Client quota administration (Kafka's `Admin.describeClientQuotas` and `alterClientQuotas`;
/// kafka-configs' quota configs of users and clients).
public struct QuotaAdmin: Sendable {
    public let cluster: Cluster

    public init(cluster: Cluster) {
        self.cluster = cluster
    }

    /// An entity: entity type (`user`, `client-id`, `ip`) to name, nil for the default.
    public typealias Entity = [String: String?]

    /// The quotas of the entities matching `components` (type to name, nil for the default);
    /// with `strict`, only entities of exactly those types.
    public func describe(_ components: Entity, strict: Bool = true) async throws -> [(entity: Entity, values: [String: Double])] {
        let connection = try await cluster.controllerConnection()
        let response = try await connection.send(DescribeClientQuotasRequest(
            components: components.sorted { $0.key < $1.key }.map {
                .init(entityType: $0.key, matchType: $0.value == nil ? 1 : 0, match: $0.value)
            }, strict: strict))
        try throwIfKafkaError(response.errorCode, response.errorMessage)
        return (response.entries ?? []).map { entry in
            var entity: Entity = [:]
            for part in entry.entity { entity[part.entityType] = .some(part.entityName) }
            return (entity, Dictionary(entry.values.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last }))
        }
    }

    /// Sets `set` and removes `remove` on `entity`, in one step.
    public func alter(_ entity: Entity, set: [String: Double], remove: [String]) async throws {
        let connection = try await cluster.controllerConnection()
        let response = try await connection.send(AlterClientQuotasRequest(entries: [
            .init(
                entity: entity.sorted { $0.key < $1.key }.map { .init(entityType: $0.key, entityName: $0.value) },
                ops: set.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: $0.value, remove: false) }
                    + remove.map { .init(key: $0, value: 0, remove: true) })
        ]))
        for entry in response.entries {
            try throwIfKafkaError(entry.errorCode, entry.errorMessage)
        }
    }
}
