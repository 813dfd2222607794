import Synchronization

/// The broker's configuration as it changes at run time (dynamic broker configs set through
/// AlterConfigs / IncrementalAlterConfigs). Readers take a snapshot; observers are told about
/// each applied change after it took effect (so that what they read is already the new value).
public final class BrokerConfigStore: Sendable {
    private let state: Mutex<BrokerConfig>
    private let observers = Mutex<[@Sendable (BrokerConfig) -> Void]>([])

    public init(_ config: BrokerConfig) {
        state = Mutex(config)
    }

    /// The current configuration.
    public var current: BrokerConfig { state.withLock { $0 } }

    /// Registers a function told about every applied change, with the new configuration. It runs
    /// on the updating caller's task, outside the store's lock.
    func addObserver(_ observer: @escaping @Sendable (BrokerConfig) -> Void) {
        observers.withLock { $0.append(observer) }
    }

    /// Applies dynamic changes atomically: all or none. A nil value removes the dynamic value.
    public func update(_ changes: [String: String?], validateOnly: Bool = false) throws(BrokerConfig.InvalidConfig) {
        let result: Result<BrokerConfig, BrokerConfig.InvalidConfig> = state.withLock { config in
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
            return .success(updated)
        }
        let updated = try result.get()
        guard !validateOnly, !changes.isEmpty else { return }
        for observer in observers.withLock({ $0 }) { observer(updated) }
    }
}
