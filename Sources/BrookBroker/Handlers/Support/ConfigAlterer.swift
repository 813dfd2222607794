import BrookProtocol
import Synchronization

/// Kafka's config resource types (`ConfigResource.Type` ids).
enum ConfigResourceType: Int8, Sendable {
    case unknown = 0
    case topic = 2
    case broker = 4
    case brokerLogger = 8
    case clientMetrics = 16
    case group = 32
}

/// A config resource as Kafka keys them: type and name.
struct ResourceKey: Hashable {
    var type: Int8
    var name: String
}

/// Checks and applies config changes to topics and to this broker, for AlterConfigs and
/// IncrementalAlterConfigs, with Kafka's error codes and messages.
///
/// Topic overrides go through the ``MetadataStore``. Broker changes are dynamic per-broker
/// configs: they are written to the metadata log (ConfigRecords of resource type BROKER) and then
/// applied to the ``BrokerConfigStore``, one change at a time so that both see the same order.
final class ConfigAlterer: Sendable {
    let config: BrokerConfigStore
    let metadata: MetadataStore
    private let brokerChanges = Mutex(())

    init(config: BrokerConfigStore, metadata: MetadataStore) {
        self.config = config
        self.metadata = metadata
    }

    var nodeId: Int32 { metadata.nodeId }

    /// Kafka's broker-side checks of one resource before anything is applied: no key twice,
    /// no null value (except for deletions), a known resource type and, for a broker, this
    /// broker's id.
    func preflightProblem(type: Int8, name: String, keys: [String], nullKeys: [String]) -> MetadataError? {
        if Set(keys).count != keys.count { return MetadataError(.invalidRequest, "Error due to duplicate config keys") }
        if !nullKeys.isEmpty {
            return MetadataError(.invalidRequest, "Null value not supported for : \(nullKeys.joined(separator: ", "))")
        }
        switch ConfigResourceType(rawValue: type) {
        case .topic:
            return nil
        case .broker:
            if name.isEmpty {
                return MetadataError(.invalidRequest, "Cluster-wide default broker configs are not supported; name the broker (\(nodeId)) instead.")
            }
            guard let id = Int32(name), id >= 0 else { return MetadataError(.invalidRequest, "Node id must be an integer, but it is: \(name)") }
            // In a cluster the controller records any broker's configs; a single node only its own.
            if id != nodeId, metadata.replicated == nil {
                return MetadataError(.invalidRequest, "Unexpected broker id, expected \(nodeId), but received \(name)")
            }
            return nil
        default:
            return MetadataError(.invalidRequest, "Unknown resource type \(type)")
        }
    }

    /// The keys broker `broker` has dynamic values for: in a cluster as the metadata records
    /// them, on a single node as this broker's configuration holds them.
    func dynamicKeys(of broker: String, current: BrokerConfig) -> [String] {
        if metadata.replicated != nil { return Array((metadata.image.brokerConfigs[broker] ?? [:]).keys) }
        return current.sources.filter { $0.value == .dynamicBrokerConfig }.map(\.key)
    }

    /// Replaces a topic's overrides with `transform(current overrides)`, or only checks that it
    /// could (`validateOnly`).
    func alterTopic(
        _ name: String, validateOnly: Bool,
        transform: (_ overrides: [String: String], _ broker: BrokerConfig) throws(MetadataError) -> [String: String]
    ) throws(MetadataError) {
        if name.isEmpty { throw MetadataError(.invalidRequest, "Default topic resources are not allowed.") }
        if let problem = TopicName.problem(with: name) { throw MetadataError(.invalidTopicException, problem) }
        let current = metadata.image.topics[name]?.configs ?? [:]
        let updated = try transform(current, config.current)
        if let problem = TopicConfigDefinitions.problem(with: updated) { throw MetadataError(.invalidConfig, problem) }
        guard metadata.image.topics[name] != nil else {
            throw MetadataError(.unknownTopicOrPartition, "The topic '\(name)' does not exist.")
        }
        var changes: [String: String?] = [:]
        for (key, value) in updated where current[key] != value { changes[key] = .some(value) }
        for key in current.keys where updated[key] == nil { changes[key] = .some(nil) }
        if changes.isEmpty { return }
        try metadata.alterTopicConfigs(topic: name, changes, validateOnly: validateOnly)
    }

    /// Applies dynamic config changes to this broker (nil removes a dynamic value), or only
    /// checks that it could. `changes` computes them from the current configuration.
    ///
    /// As in Kafka: a key Brook does not know fails with INVALID_CONFIG; a key that cannot change
    /// at run time, or a bad value, with INVALID_REQUEST ("Cannot update these configs
    /// dynamically: Set(...)"); removing a key that has no dynamic value does nothing.
    ///
    /// In a cluster (this node the controller) `broker` may be any node: the change is recorded
    /// in the metadata log, and that broker applies it once committed (``BrokerConfigStore``
    /// `follow`). Another broker's static configuration is not known here, so only the keys and
    /// values are checked; that broker refuses, with a warning, what its own settings reject.
    func alterBroker(
        _ broker: String? = nil, validateOnly: Bool,
        changes: (BrokerConfig) throws(MetadataError) -> [String: String?]
    ) throws(MetadataError) {
        let target = broker ?? String(nodeId)
        let result: Result<Void, MetadataError> = brokerChanges.withLock { _ in
            do throws(MetadataError) {
                let current = config.current
                let isReplicated = metadata.replicated != nil
                let recorded = metadata.image.brokerConfigs[target] ?? [:]
                var effective: [String: String?] = [:]
                var nonDynamic: [String] = []
                for (key, value) in try changes(current) {
                    guard let definition = BrokerConfigDefinitions.definition(of: key) else {
                        if value == nil { continue }
                        throw MetadataError(.invalidConfig, "Unknown config name: \(key)")
                    }
                    guard let value else {
                        let isDynamic = isReplicated ? recorded[key] != nil : current.source(of: key) == .dynamicBrokerConfig
                        if isDynamic { effective[key] = .some(nil) }
                        continue
                    }
                    if !definition.isDynamic { nonDynamic.append(key); continue }
                    if let problem = definition.validate(value) {
                        throw MetadataError(.invalidRequest, "Invalid value for \(problem)")
                    }
                    effective[key] = .some(value)
                }
                if !nonDynamic.isEmpty {
                    throw MetadataError(.invalidRequest, "Cannot update these configs dynamically: Set(\(nonDynamic.sorted().joined(separator: ", ")))")
                }
                if target == String(nodeId) {
                    do throws(BrokerConfig.InvalidConfig) {
                        try config.update(effective, validateOnly: true)
                    } catch {
                        throw MetadataError(.invalidRequest, error.message)
                    }
                    // A new keystore or truststore must make a working TLS context, as Kafka
                    // checks before it reconfigures its SSL factory.
                    if effective.keys.contains(where: { $0.contains("ssl.") }) {
                        var updated = current
                        do {
                            for (key, value) in effective { try updated.setDynamic(key, value) }
                            for listener in try updated.listeners where try updated.securityProtocol(of: listener.name).usesTLS {
                                _ = try ListenerTLS.context(for: listener.name, in: updated)
                            }
                        } catch {
                            throw MetadataError(.invalidRequest, "Validation of dynamic config update of SSLFactory failed: \(error)")
                        }
                    }
                }
                if validateOnly || effective.isEmpty { return .success(()) }
                try metadata.recordBrokerConfigs(broker: target, effective)
                // A cluster's brokers apply their configs as the quorum commits them.
                if isReplicated { return .success(()) }
                do throws(BrokerConfig.InvalidConfig) {
                    try config.update(effective)
                } catch {
                    throw MetadataError(.invalidRequest, error.message)
                }
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }
}

extension ConfigResourceType {
    /// With ACLs, the refusal of `operation` (DESCRIBE_CONFIGS or ALTER_CONFIGS) on the config
    /// resource `name` of type `rawType`, as Kafka answers it; nil when allowed.
    static func authorizationError(_ rawType: Int8, _ name: String, _ operation: AclOperation, context: RequestContext) -> MetadataError? {
        switch ConfigResourceType(rawValue: rawType) {
        case .topic:
            context.authorized(operation, .topic, name)
                ? nil : MetadataError(.topicAuthorizationFailed, "Authorization failed.")
        case .group:
            context.authorized(operation, .group, name)
                ? nil : MetadataError(.groupAuthorizationFailed, "Authorization failed.")
        case .broker, .brokerLogger, .clientMetrics:
            context.authorizedOnCluster(operation)
                ? nil : MetadataError(.clusterAuthorizationFailed, "Cluster authorization failed.")
        default:
            nil
        }
    }
}
