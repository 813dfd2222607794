import ArgumentParser
import BrookClient

/// `brook configs`: describe and alter topic and broker configs in the manner of
/// kafka-configs.sh (its `--describe` and `--alter`), through DescribeConfigs and
/// IncrementalAlterConfigs.
struct ConfigsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "configs",
        abstract: "Describe and alter the configs of topics and brokers.",
        subcommands: [DescribeConfigs.self, AlterConfigs.self]
    )
}

extension ConfigsCommand {
    /// `brook configs describe`: kafka-configs --describe's format, faithfully:
    ///
    ///     Dynamic configs for topic orders are:
    ///       cleanup.policy=compact sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:cleanup.policy=compact, DEFAULT_CONFIG:log.cleanup.policy=delete}
    ///
    /// Without `--all` only the dynamic values are listed (topic overrides, a broker's dynamic
    /// configs, or the cluster-wide broker defaults under "Default configs for brokers in the
    /// cluster are:"); with it every key ("All configs for ..."). Keys are sorted; a sensitive
    /// value prints as `null`. Without a name, every topic (internal ones included) or every
    /// broker followed by the broker defaults.
    struct DescribeConfigs: AsyncParsableCommand, Sendable {
        static let configuration = CommandConfiguration(commandName: "describe", abstract: "Describe the configs of topics or brokers.")

        @OptionGroup var connection: AdminOptions
        @OptionGroup var entityOptions: ConfigEntityOptions
        @Flag(name: .customLong("all"), help: "List every config, not only the dynamic ones.") var all = false

        func run() async throws {
            let entity = try entityOptions.entity()
            let describeAll = all
            if [.users, .clients, .ips].contains(entity.kind) {
                let quotaEntity = try entityOptions.quotaEntity()
                let listAll = entity.name == nil && !entityOptions.entityDefault && !entityOptions.userDefaults && !entityOptions.clientDefaults
                try await connection.withCluster { cluster in
                    try await QuotaConfigs.lines(cluster, entity: quotaEntity, listAll: listAll)
                }.forEach { print($0) }
                return
            }
            let output = try await connection.withCluster { cluster in
                let names: [String]
                if let name = entity.name {
                    names = [name]
                } else if entity.kind == .topics {
                    names = try await TopicAdmin(cluster: cluster).list(includeInternal: true).map(\.name)
                } else {
                    names = try await ClusterAdmin(cluster: cluster).describe().brokers.map { String($0.id) } + [""]
                }
                let admin = ConfigAdmin(cluster: cluster)
                var lines: [String] = []
                for name in names {
                    let entries = try await admin.describe(entity.kind.resource(name), includeSynonyms: true)
                    let wanted = entity.kind.dynamicSource(defaults: name.isEmpty)
                    lines.append(Self.heading(kind: entity.kind, name: name, all: describeAll))
                    lines += entries.filter { describeAll || $0.source == wanted }.sorted { $0.name < $1.name }.map(Self.render)
                }
                return lines
            }
            output.forEach { print($0) }
        }

        static func heading(kind: ConfigEntityOptions.Kind, name: String, all: Bool) -> String {
            if kind == .brokers && name.isEmpty { return "Default configs for brokers in the cluster are:" }
            return "\(all ? "All" : "Dynamic") configs for \(kind == .topics ? "topic" : "broker") \(name) are:"
        }

        static func render(_ entry: ConfigEntry) -> String {
            let synonyms = entry.synonyms.map { "\($0.source.kafkaName):\($0.name)=\($0.value ?? "null")" }.joined(separator: ", ")
            return "  \(entry.name)=\(entry.value ?? "null") sensitive=\(entry.isSensitive) synonyms={\(synonyms)}"
        }
    }

    /// `brook configs alter`: sets (`--add-config`) and removes (`--delete-config`) keys in one
    /// IncrementalAlterConfigs request, then prints kafka-configs' `Completed updating config
    /// for topic T.` As kafka-configs, deleting a key that holds no dynamic value fails with
    /// `Invalid config(s): k` before anything changes.
    struct AlterConfigs: AsyncParsableCommand, Sendable {
        static let configuration = CommandConfiguration(commandName: "alter", abstract: "Set or remove configs of a topic or broker.")

        @OptionGroup var connection: AdminOptions
        @OptionGroup var entityOptions: ConfigEntityOptions
        @Option(name: .customLong("add-config"), help: "Configs to set: k1=v1,k2=[v1,v2,v2],k3=v3 (a list value in brackets).")
        var addConfig: String?
        @Option(name: .customLong("delete-config"), help: "Config keys to remove: k1,k2 (repeatable).") var deleteConfig: [String] = []

        func run() async throws {
            let chosen = try entityOptions.entity()
            guard let name = chosen.name else {
                throw CommandFailure("An entity name must be specified with --entity-name or --entity-default to alter configs")
            }
            let entity = (kind: chosen.kind, name: name)
            let added = try addConfig.map(ConfigAssignments.parse) ?? []
            let deleted = ConfigAssignments.keys(deleteConfig)
            guard !added.isEmpty || !deleted.isEmpty else { throw CommandFailure("At least one of --add-config or --delete-config must be specified") }
            if [.users, .clients, .ips].contains(entity.kind) {
                let quotaEntity = try entityOptions.quotaEntity()
                try await connection.withCluster { cluster in
                    try await QuotaConfigs.alter(cluster, entity: quotaEntity, added: added, deleted: deleted)
                }
                print(quotaEntity.count == 1 && !entity.name.isEmpty
                    ? "Completed updating config for \(["users": "user", "clients": "client", "ips": "ip"][entity.kind.rawValue] ?? "") \(entity.name)."
                    : "Completed updating config for \(QuotaConfigs.describe(quotaEntity)).")
                return
            }
            let alterations = added.map { ConfigAlteration.set($0.key, $0.value) } + deleted.map(ConfigAlteration.delete)
            try await connection.withCluster { cluster in
                let admin = ConfigAdmin(cluster: cluster)
                let resource = entity.kind.resource(entity.name)
                let source = entity.kind.dynamicSource(defaults: entity.name.isEmpty)
                let current = Set(try await admin.describe(resource).filter { $0.source == source }.map(\.name))
                let missing = alterations.filter { $0.operation == .delete && !current.contains($0.name) }.map(\.name)
                guard missing.isEmpty else { throw CommandFailure("Invalid config(s): \(missing.joined(separator: ","))") }
                try await admin.incrementalAlter(resource, alterations)
            }
            print(entity.name.isEmpty
                ? "Completed updating default config for brokers in the cluster."
                : "Completed updating config for \(entity.kind == .topics ? "topic" : "broker") \(entity.name).")
        }
    }
}
