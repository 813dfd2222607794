import BrookClient
import BrookSecurity

/// kafka-configs' configs of users and clients: quotas (`producer_byte_rate`,
/// `consumer_byte_rate`, `request_percentage`, ...) through DescribeClientQuotas and
/// AlterClientQuotas, and a user's SCRAM credentials (``UserScramConfigs``).
enum QuotaConfigs {
    typealias Entity = QuotaAdmin.Entity

    /// kafka-configs' name of an entity: `user-principal 'alice', client-id 'app'`, or `the
    /// default user-principal`.
    static func describe(_ entity: Entity) -> String {
        ["user": "user-principal", "client-id": "client-id", "ip": "ip"].compactMap { type, label -> (Int, String)? in
            guard let name = entity[type] else { return nil }
            let order = ["user", "client-id", "ip"].firstIndex(of: type) ?? 0
            return (order, name.map { "\(label) '\($0)'" } ?? "the default \(label)")
        }.sorted { $0.0 < $1.0 }.map(\.1).joined(separator: ", ")
    }

    /// The quota lines (and, for users, the SCRAM lines) of `entity`; a type without a name or
    /// default lists every entity of that type.
    static func lines(_ cluster: Cluster, entity: Entity, listAll: Bool) async throws -> [String] {
        var lines: [String] = []
        let quotas = QuotaAdmin(cluster: cluster)
        let found = listAll
            ? try await quotas.describe([:], strict: false).filter { found in
                Set(found.entity.keys) == Set(entity.keys)
            }
            : try await quotas.describe(entity)
        for (described, values) in found.sorted(by: { describe($0.entity) < describe($1.entity) }) {
            let rendered = values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
            lines.append("Quota configs for \(describe(described)) are \(rendered)")
        }
        if entity.keys.sorted() == ["user"] {
            let user = entity["user"] ?? nil
            if listAll || user != nil {
                let scram = ScramAdmin(cluster: cluster)
                if let user {
                    // A user without credentials has no SCRAM line (and is no error here).
                    if let credentials = try? await scram.describe(users: [user]) {
                        lines += UserScramConfigs.render(credentials)
                    }
                } else {
                    lines += UserScramConfigs.render(try await scram.describe())
                }
            }
        }
        return lines
    }

    /// Applies `added` and `deleted` to `entity`: SCRAM keys as credentials, the rest as quotas.
    static func alter(_ cluster: Cluster, entity: Entity, added: [(key: String, value: String)], deleted: [String]) async throws {
        let isScram = { (key: String) in ScramMechanism(name: key) != nil }
        let scramAdded = added.filter { isScram($0.key) }, scramDeleted = deleted.filter(isScram)
        if !scramAdded.isEmpty || !scramDeleted.isEmpty {
            guard entity.keys.sorted() == ["user"], let user = entity["user"] ?? nil else {
                throw CommandFailure("SCRAM credentials are set for one user: --entity-type users --entity-name USER")
            }
            try await ScramAdmin(cluster: cluster).alter(UserScramConfigs.alterations(user: user, added: scramAdded, deleted: scramDeleted))
        }
        let quotaAdded = added.filter { !isScram($0.key) }, quotaDeleted = deleted.filter { !isScram($0) }
        guard !quotaAdded.isEmpty || !quotaDeleted.isEmpty else { return }
        var values: [String: Double] = [:]
        for (key, text) in quotaAdded {
            guard let value = Double(text) else { throw CommandFailure("Invalid value \(text) for \(key): a number is expected") }
            values[key] = value
        }
        try await QuotaAdmin(cluster: cluster).alter(entity, set: values, remove: quotaDeleted)
    }
}
