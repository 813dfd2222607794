import ArgumentParser
import BrookClient

/// Which entity `brook configs` describes or alters, named as kafka-configs names them:
/// `--entity-type topics|brokers|users` with `--entity-name NAME` or `--entity-default` (the
/// cluster-wide broker defaults), or the shortcuts `--topic T`, `--broker ID`,
/// `--broker-defaults` and `--user NAME`.
struct ConfigEntityOptions: ParsableArguments, Sendable {
    @Option(name: .customLong("entity-type"), help: "The entity type: topics, brokers or users.") var entityType: String?
    @Option(name: .customLong("entity-name"), help: "The topic name, the broker id or the user name.") var entityName: String?
    @Flag(name: .customLong("entity-default"), help: "The default configs of all brokers (with --entity-type brokers).") var entityDefault = false
    @Option(name: .customLong("topic"), help: "Shortcut for --entity-type topics --entity-name TOPIC.") var topic: String?
    @Option(name: .customLong("broker"), help: "Shortcut for --entity-type brokers --entity-name ID.") var broker: String?
    @Flag(name: .customLong("broker-defaults"), help: "Shortcut for --entity-type brokers --entity-default.") var brokerDefaults = false
    @Option(name: .customLong("user"), help: "Shortcut for --entity-type users --entity-name USER.") var user: String?
    @Flag(name: .customLong("user-defaults"), help: "Shortcut for --entity-type users --entity-default.") var userDefaults = false
    @Option(name: .customLong("client"), help: "Shortcut for --entity-type clients --entity-name CLIENT (with --user: that user's client).")
    var client: String?
    @Flag(name: .customLong("client-defaults"), help: "Shortcut for --entity-type clients --entity-default.") var clientDefaults = false

    /// The entity kind the options name.
    enum Kind: String, Sendable {
        case topics, brokers, users, clients, ips
    }

    /// The kind and, when one is named, the entity: a topic name, a broker id, or "" for the
    /// broker defaults. Throws ``CommandFailure`` for a missing or unknown type, a type named
    /// twice, or a broker id that is not a number.
    func entity() throws -> (kind: Kind, name: String?) {
        var chosen: [(Kind, String?)] = []
        if let entityType {
            guard let kind = Kind(rawValue: entityType) else {
                throw CommandFailure("Invalid entity type \(entityType), the entity type must be one of topics, brokers, users, clients, ips")
            }
            if entityDefault && kind == .topics { throw CommandFailure("--entity-default is not for --entity-type topics") }
            chosen.append((kind, entityDefault ? "" : entityName))
        } else if entityName != nil || entityDefault {
            throw CommandFailure("--entity-name and --entity-default need --entity-type")
        }
        if let topic { chosen.append((.topics, topic)) }
        if let broker { chosen.append((.brokers, broker)) }
        if brokerDefaults { chosen.append((.brokers, "")) }
        if let user { chosen.append((.users, user)) }
        if userDefaults { chosen.append((.users, "")) }
        if let client { chosen.append((.clients, client)) }
        if clientDefaults { chosen.append((.clients, "")) }
        // A user's client id: one quota entity of both.
        if chosen.count == 2, Set(chosen.map(\.0)) == [.users, .clients] {
            return (.users, chosen.first { $0.0 == .users }?.1)
        }
        guard chosen.count == 1, let (kind, name) = chosen.first else {
            throw CommandFailure(chosen.isEmpty
                ? "Give the entity: --entity-type topics|brokers|users (with --entity-name or --entity-default), --topic, --broker, --broker-defaults or --user"
                : "Give only one entity: --entity-type, --topic, --broker, --broker-defaults or --user")
        }
        if kind == .brokers, let name, !name.isEmpty, Int32(name) == nil {
            throw CommandFailure("The entity name for brokers must be a valid integer broker id, found: \(name)")
        }
        return (kind, name)
    }
}

extension ConfigEntityOptions.Kind {
    /// The resource `name` denotes.
    func resource(_ name: String) -> ConfigResource {
        ConfigResource(kind: self == .topics ? .topic : .broker, name: name)
    }

    /// The source of the values kafka-configs calls dynamic for this kind: topic overrides,
    /// per-broker dynamic configs, or the cluster-wide broker defaults.
    func dynamicSource(defaults: Bool) -> ConfigEntry.Source {
        switch self {
        case .topics: .dynamicTopicConfig
        case .brokers, .users, .clients, .ips: defaults ? .dynamicDefaultBrokerConfig : .dynamicBrokerConfig
        }
    }
}

extension ConfigEntityOptions {
    /// The client quota entity the options name (users, clients or a user's client); "" or
    /// `--entity-default` is the default (nil name).
    func quotaEntity() throws -> [String: String?] {
        func name(_ text: String?) -> String? { text.flatMap { $0.isEmpty ? nil : $0 } }
        var entity: [String: String?] = [:]
        if let entityType {
            switch entityType {
            case "users": entity["user"] = .some(entityDefault ? nil : name(entityName))
            case "clients": entity["client-id"] = .some(entityDefault ? nil : name(entityName))
            case "ips": entity["ip"] = .some(entityDefault ? nil : name(entityName))
            default: break
            }
        }
        if user != nil || userDefaults { entity["user"] = .some(name(user)) }
        if client != nil || clientDefaults { entity["client-id"] = .some(name(client)) }
        return entity
    }
}
