/// Where a config value comes from, with Kafka's `ConfigSource` ids (DescribeConfigs v1+,
/// CreateTopics v5+).
enum ConfigSource: Int8, Sendable, Equatable {
    case unknown = 0
    case topicConfig = 1
    case dynamicBrokerConfig = 2
    case dynamicDefaultBrokerConfig = 3
    case staticBrokerConfig = 4
    case defaultConfig = 5
    case dynamicBrokerLoggerConfig = 6
}

/// Kafka's `ConfigType` ids (DescribeConfigs v3+).
enum ConfigType: Int8, Sendable, Equatable {
    case unknown = 0, boolean, string, int, short, long, double, list, `class`, password

    init(_ type: ConfigDefinition.ValueType) {
        switch type {
        case .boolean: self = .boolean
        case .string: self = .string
        case .int: self = .int
        case .long: self = .long
        case .double: self = .double
        case .list: self = .list
        case .password: self = .password
        }
    }
}

/// One config key as DescribeConfigs and CreateTopics report it: the effective value, where it
/// comes from, and the chain of synonyms that could supply it, most specific first.
struct ConfigDescription: Sendable, Equatable {
    struct Synonym: Sendable, Equatable {
        var name: String
        /// Nil for sensitive keys.
        var value: String?
        var source: ConfigSource
    }

    var name: String
    /// Nil for sensitive keys and for keys with neither a value nor a default.
    var value: String?
    var source: ConfigSource
    var readOnly: Bool
    var isSensitive: Bool
    var type: ConfigType
    var documentation: String
    var synonyms: [Synonym]
}

/// Builds ``ConfigDescription``s for topics and for this broker.
///
/// Synonyms follow Kafka's order: a topic override, then the broker keys it falls back to, taken
/// level by level (dynamic per-broker, static, Kafka's default) and within a level in the order
/// the topic key lists them. The source of a value is that of its first synonym.
///
/// One deliberate difference from Kafka: for a topic key Kafka drops the synonyms before the
/// first one named like the primary broker key, so a topic whose `retention.ms` comes from a
/// static `log.retention.hours` is reported as DEFAULT_CONFIG with no synonyms. Brook reports
/// STATIC_BROKER_CONFIG with `log.retention.hours` as the synonym, which is what happened.
enum ConfigDescriber {
    /// Every topic config key with its effective value for a topic with `overrides`, sorted by name.
    static func topic(overrides: [String: String], broker: BrokerConfig) -> [ConfigDescription] {
        TopicConfigDefinitions.all.map { entry in
            let definition = entry.definition
            let name = definition.name
            let isSensitive = definition.type == .password
            var synonyms: [ConfigDescription.Synonym] = []
            if let value = overrides[name] {
                synonyms.append(.init(name: name, value: value, source: .topicConfig))
            }
            synonyms += brokerLevels(of: entry.brokerSynonyms, in: broker)
            let value = overrides[name] ?? broker.topicDefault(name)?.value
            return ConfigDescription(
                name: name, value: isSensitive ? nil : value, source: synonyms.first?.source ?? .defaultConfig,
                readOnly: false, isSensitive: isSensitive, type: ConfigType(definition.type),
                documentation: definition.documentation, synonyms: redacted(synonyms, isSensitive)
            )
        }.sorted { $0.name < $1.name }
    }

    /// Every broker config key with its effective value on this broker, sorted by name.
    ///
    /// As in Kafka, a key's synonyms start at the first one named like the key, so that
    /// `log.retention.hours` is not reported as coming from a `log.retention.ms` override.
    static func broker(_ config: BrokerConfig) -> [ConfigDescription] {
        BrokerConfigDefinitions.all.map { definition in
            let name = definition.name
            let isSensitive = definition.type == .password
            let synonyms = Array(brokerLevels(of: brokerSynonyms(of: name), in: config).drop { $0.name != name })
            return ConfigDescription(
                name: name, value: isSensitive ? nil : config.string(name), source: synonyms.first?.source ?? .defaultConfig,
                readOnly: !definition.isDynamic, isSensitive: isSensitive, type: ConfigType(definition.type),
                documentation: definition.documentation, synonyms: redacted(synonyms, isSensitive)
            )
        }.sorted { $0.name < $1.name }
    }

    /// The broker keys that can supply a broker key's value, most specific first (Kafka's
    /// `DynamicBrokerConfig.brokerConfigSynonyms`).
    static func brokerSynonyms(of name: String) -> [String] {
        switch name {
        case "log.roll.ms", "log.roll.hours":
            ["log.roll.ms", "log.roll.hours"]
        case "log.roll.jitter.ms", "log.roll.jitter.hours":
            ["log.roll.jitter.ms", "log.roll.jitter.hours"]
        case "log.flush.interval.ms":
            ["log.flush.interval.ms", "log.flush.scheduler.interval.ms"]
        case "log.retention.ms", "log.retention.minutes", "log.retention.hours":
            ["log.retention.ms", "log.retention.minutes", "log.retention.hours"]
        default:
            [name]
        }
    }

    /// The values `names` have at each broker level: dynamic, static, then Kafka's default.
    static func brokerLevels(of names: [String], in config: BrokerConfig) -> [ConfigDescription.Synonym] {
        var result: [ConfigDescription.Synonym] = []
        for name in names where config.source(of: name) == .dynamicBrokerConfig {
            if let value = config.values[name] { result.append(.init(name: name, value: value, source: .dynamicBrokerConfig)) }
        }
        for name in names where config.source(of: name) == .staticBrokerConfig {
            if let value = config.values[name] { result.append(.init(name: name, value: value, source: .staticBrokerConfig)) }
        }
        for name in names {
            if let value = BrokerConfigDefinitions.byName[name]?.defaultValue {
                result.append(.init(name: name, value: value, source: .defaultConfig))
            }
        }
        return result
    }

    private static func redacted(_ synonyms: [ConfigDescription.Synonym], _ isSensitive: Bool) -> [ConfigDescription.Synonym] {
        guard isSensitive else { return synonyms }
        return synonyms.map { .init(name: $0.name, value: nil, source: $0.source) }
    }
}
