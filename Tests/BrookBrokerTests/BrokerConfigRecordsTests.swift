@testable import BrookBroker
import BrookProtocol
import Testing

@Suite struct BrokerConfigRecordsTests {
    @Test func dynamicBrokerConfigsAreReplayedFromTheLog() throws {
        let log = InMemoryMetadataLog()
        let store = try MetadataStore(log: log, clusterId: "c", nodeId: 1, brokers: [])
        try store.recordBrokerConfigs(broker: "1", ["message.max.bytes": "5000", "log.cleaner.threads": "2"])
        try store.recordBrokerConfigs(broker: "1", ["log.cleaner.threads": String?.none])
        try store.recordBrokerConfigs(broker: "2", ["message.max.bytes": "7"])
        let reopened = try MetadataStore(log: log, clusterId: "c", nodeId: 1, brokers: [])
        #expect(try reopened.dynamicBrokerConfigs(broker: "1") == ["message.max.bytes": "5000"])
        #expect(reopened.image.topics.isEmpty)
    }
}
