@testable import BrookBroker
import BrookProtocol
import Testing

/// A client is told the brokers' addresses on the listener its request came in on, in a
/// cluster too before any broker registered (a client on an SSL listener must never be sent to
/// a PLAINTEXT port).
@Suite struct MetadataListenersTests {
    static let plain = MetadataImage.Broker(nodeId: 1, host: "127.0.0.1", port: 9092, rack: nil)
    static let tls = MetadataImage.Broker(nodeId: 1, host: "127.0.0.1", port: 9093, rack: nil)

    @Test func beforeRegistrationsTheNodeAnswersItsOwnEndpointOnTheListenerAsked() {
        var image = MetadataImage(clusterId: "c", controllerId: -1, brokers: [Self.plain])
        image.localListeners = ["PLAINTEXT": Self.plain, "INTERNAL": Self.tls]
        #expect(image.brokers(on: "INTERNAL") == [Self.tls])
        #expect(image.brokers(on: "PLAINTEXT") == [Self.plain])
        #expect(image.broker(1, on: "INTERNAL") == Self.tls)
    }

    @Test func registeredBrokersAreAnsweredOnTheListenerAsked() {
        var image = MetadataImage(clusterId: "c", controllerId: -1, brokers: [Self.plain])
        image.localListeners = ["PLAINTEXT": Self.plain, "INTERNAL": Self.tls]
        for id: Int32 in 1...2 {
            image.apply(.registerBroker(RegisterBrokerRecord(
                brokerId: id, incarnationId: Uuid(mostSignificantBits: 1, leastSignificantBits: UInt64(id)), brokerEpoch: 1,
                endPoints: [
                    .init(name: "PLAINTEXT", host: "10.0.0.\(id)", port: 9092, securityProtocol: 0),
                    .init(name: "INTERNAL", host: "10.0.0.\(id)", port: 9093, securityProtocol: 3),
                ], fenced: false)))
        }
        #expect(image.brokers(on: "INTERNAL").map(\.port) == [9093, 9093])
        #expect(image.brokers(on: "INTERNAL").map(\.host) == ["10.0.0.1", "10.0.0.2"])
        #expect(image.broker(2, on: "INTERNAL")?.port == 9093)
    }
}
