import BrookProtocol
import Logging

extension BrokerConfigStore {
    /// In a cluster: applies this broker's dynamic configs (ConfigRecords of resource type
    /// BROKER naming `broker`) as the metadata quorum commits them, starting with those the
    /// image already holds (a loaded snapshot). Each key is applied alone: one this broker's own
    /// settings reject is skipped with a warning, as Kafka skips invalid dynamic configs.
    func follow(dynamicConfigsOf broker: String, in metadata: MetadataStore, logger: Logger) {
        apply((metadata.image.brokerConfigs[broker] ?? [:]).mapValues { .some($0) }, logger: logger)
        metadata.addListener { [weak self] records, _ in
            var changes: [String: String?] = [:]
            for record in records {
                guard case .config(let change) = record,
                      change.resourceType == MetadataRecord.ConfigResourceType.broker.rawValue,
                      change.resourceName == broker else { continue }
                changes[change.name] = .some(change.value)
            }
            self?.apply(changes, logger: logger)
        }
    }

    private func apply(_ changes: [String: String?], logger: Logger) {
        for (key, value) in changes.sorted(by: { $0.key < $1.key }) {
            do {
                try update([key: value])
            } catch {
                logger.warning("ignoring dynamic config \(key)=\(value ?? "(removed)"): \(error)")
            }
        }
    }
}
