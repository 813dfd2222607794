import Synchronization

/// The broker's configuration as it changes at run time (dynamic broker configs set through
/// AlterConfigs / IncrementalAlterConfigs). Readers take a snapshot.
public final class BrokerConfigStore: Sendable {
    private let state: Mutex<BrokerConfig>

    public init(_ config: BrokerConfig) {
        state = Mutex(config)
    }

    /// The current configuration.
    public var current: BrokerConfig { state.withLock { $0 } }

    /// Applies dynamic changes atomically: all or none. A nil value removes the dynamic value.
    public func update(_ changes: [String: String?], validateOnly: Bool = false) throws(BrokerConfig.InvalidConfig) {
        let result: Result<Void, BrokerConfig.InvalidConfig> = state.withLock { config in
            var updated = config
            do {
                for (key, value) in changes.sorted(by: { $0.key < $1.key }) {
                    try updated.setDynamic(key, value)
                }
            } catch let error as BrokerConfig.InvalidConfig {
                return .failure(error)
            } catch {
                return .failure(BrokerConfig.InvalidConfig(message: "\(error)"))
            }
            if !validateOnly { config = updated }
            return .success(())
        }
        try result.get()
    }
}
