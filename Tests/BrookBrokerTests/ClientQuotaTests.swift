@testable import BrookBroker
import BrookProtocol
import Testing

/// Client quotas: the sensor's rate and throttle, and which of Kafka's eight levels applies.
@Suite struct ClientQuotaTests {
    @Test func aSensorMeasuresOverItsLiveWindowsAndThrottlesTheExcess() {
        var sensor = RateSensor(windowMs: 1000, count: 11)
        sensor.record(500, now: 10_000)
        // Within the first window the rate counts one whole window.
        #expect(sensor.rate(now: 10_400).perSecond == 500)
        #expect(sensor.throttleMs(bound: 1000, now: 10_400) == 0)
        sensor.record(1500, now: 10_900)
        // 2000 in one window against 1000/s: wait (2000 - 1000) / 1000 * 1 s.
        #expect(sensor.throttleMs(bound: 1000, now: 10_900) == 1000)
        // Later samples spread it: 2000 over 5 s.
        #expect(sensor.rate(now: 15_000).perSecond == 400)
        // Samples older than the 11 windows are gone.
        #expect(sensor.rate(now: 30_000).perSecond == 0)
        // A throttle never exceeds the whole sampled time.
        sensor.record(1e12, now: 30_000)
        #expect(sensor.throttleMs(bound: 1, now: 30_000) == 11_000)
    }

    @Test func theFirstOfKafkasEightLevelsThatSetsTheKeyApplies() {
        let manager = ClientQuotaManager(windowMs: 1000, windowCount: 11)
        func entity(_ parts: [String: String?]) -> QuotaEntity { QuotaEntity(parts) }
        let none: String? = nil
        manager.update([
            entity(["user": "alice", "client-id": "app"]): ["producer_byte_rate": 10],
            entity(["user": "alice"]): ["producer_byte_rate": 20, "consumer_byte_rate": 21],
            entity(["user": none]): ["producer_byte_rate": 30],
            entity(["client-id": "tool"]): ["producer_byte_rate": 40],
            entity(["client-id": none]): ["consumer_byte_rate": 50],
        ])
        #expect(manager.isActive)
        // Each recording of 100 bytes in the first window throttles by (100 - bound) / bound s.
        func throttle(_ kind: ClientQuotaManager.Kind, user: String, client: String) -> Int64 {
            manager.record(kind, 100, user: user, clientId: client, now: 1_000_000)
        }
        #expect(throttle(.produce, user: "alice", client: "app") == 9000)  // user and client: 10
        #expect(throttle(.produce, user: "alice", client: "other") == 4000)  // user: 20
        #expect(throttle(.produce, user: "bob", client: "tool") == 2334)  // default user: 30
        #expect(throttle(.fetch, user: "bob", client: "x") == 1000)  // default client id: 50
        #expect(throttle(.fetch, user: "alice", client: "x") == 3762)  // user alice: 21
        #expect(throttle(.request, user: "alice", client: "x") == 0)  // no request quota
        // alice's other clients share her user-level sensor: 200 bytes now.
        #expect(manager.record(.produce, 100, user: "alice", clientId: "third", now: 1_000_000) == 9000)
        manager.update([:])
        #expect(!manager.isActive)
        #expect(throttle(.produce, user: "alice", client: "app") == 0)
    }

    @Test func alterClientQuotasChecksEntitiesKeysAndValues() {
        func entry(_ entity: [(String, String?)], _ ops: [(String, Double, Bool)]) -> AlterClientQuotasRequest.EntryData {
            .init(entity: entity.map { .init(entityType: $0.0, entityName: $0.1) }, ops: ops.map { .init(key: $0.0, value: $0.1, remove: $0.2) })
        }
        #expect(AlterClientQuotasHandler.problem(with: entry([("user", "a")], [("producer_byte_rate", 1024, false)])) == nil)
        #expect(AlterClientQuotasHandler.problem(with: entry([("user", nil), ("client-id", "c")], [("request_percentage", 12.5, false)])) == nil)
        #expect(AlterClientQuotasHandler.problem(with: entry([("ip", "10.0.0.1")], [("connection_creation_rate", 5, false)])) == nil)
        #expect(AlterClientQuotasHandler.problem(with: entry([("user", "a")], [("producer_byte_rate", 0, true)])) == nil)
        for bad in [
            entry([], [("producer_byte_rate", 1, false)]), entry([("group", "g")], [("producer_byte_rate", 1, false)]),
            entry([("user", "a"), ("user", "b")], [("producer_byte_rate", 1, false)]),
            entry([("ip", "1.2.3.4"), ("user", "a")], [("connection_creation_rate", 1, false)]),
            entry([("user", "a")], [("connection_creation_rate", 1, false)]), entry([("user", "a")], [("producer_byte_rate", -1, false)]),
            entry([("user", "a")], [("producer_byte_rate", 1.5, false)]), entry([("user", "a")], [("producer_byte_rate", .nan, false)]),
            entry([("user", "a")], [("producer_byte_rate", 1, false), ("producer_byte_rate", 2, false)]),
            entry([("user", "")], [("producer_byte_rate", 1, false)]),
        ] {
            #expect(AlterClientQuotasHandler.problem(with: bad) != nil, "\(bad)")
        }
    }
}

extension ClientQuotaTests {
    @Test func connectionCreationRatesRefuseOrDelayConnections() {
        let quotas = ClientQuotaManager(windowMs: 1000, windowCount: 11)
        let none: String? = nil
        quotas.update([QuotaEntity(["ip": "10.0.0.1"]): ["connection_creation_rate": 2], QuotaEntity(["ip": none]): ["connection_creation_rate": 100]])
        let limiter = ConnectionRateLimiter(quotas: quotas)
        let admitted = (0..<5).map { _ in limiter.admit(address: "10.0.0.1", now: 50_000) }
        #expect(admitted == [true, true, false, false, false])
        // Another address has the default IP's quota; a later window admits again.
        #expect(limiter.admit(address: "10.0.0.2", now: 50_000))
        #expect(limiter.admit(address: "10.0.0.1", now: 52_500))
        // The broker-wide rate: the sixth connection in a second at 5 per second waits.
        let delays = (0..<6).map { _ in limiter.acceptedDelay(maxRate: 5, now: 80_000) }
        #expect(delays.prefix(5).allSatisfy { $0 == 0 } && delays[5] > 0)
        #expect(limiter.acceptedDelay(maxRate: Int.max, now: 80_000) == 0)
    }
}
