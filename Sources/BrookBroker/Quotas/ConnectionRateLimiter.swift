import Synchronization

/// Connection creation rates (KIP-612): `max.connection.creation.rate` over the whole broker
/// (new connections wait until the rate is back within it) and the `connection_creation_rate`
/// quota of an IP address or the default IP (connections over it are closed at once).
final class ConnectionRateLimiter: Sendable {
    private struct Sensors {
        var broker: RateSensor
        var byAddress: [String: RateSensor] = [:]
    }

    private let quotas: ClientQuotaManager?
    private let sensors: Mutex<Sensors>
    private let windowMs: Int64
    private let windowCount: Int

    init(quotas: ClientQuotaManager?, windowMs: Int64 = 1000, windowCount: Int = 11) {
        self.quotas = quotas
        self.windowMs = windowMs
        self.windowCount = windowCount
        sensors = Mutex(Sensors(broker: RateSensor(windowMs: windowMs, count: windowCount)))
    }

    /// Records a new connection against `maxRate` (per second); how long to wait before
    /// accepting the next one (ms).
    func acceptedDelay(maxRate: Int, now: Int64 = ClientQuotaManager.now()) -> Int64 {
        guard maxRate < Int(Int32.max) else { return 0 }
        return sensors.withLock { sensors in
            sensors.broker.record(1, now: now)
            return sensors.broker.throttleMs(bound: Double(maxRate), now: now)
        }
    }

    /// Records a new connection from `address`; false when it is over its IP's quota.
    func admit(address: String, now: Int64 = ClientQuotaManager.now()) -> Bool {
        guard let quotas, let rate = quotas.connectionCreationRate(ip: address) else { return true }
        return sensors.withLock { sensors in
            var sensor = sensors.byAddress[address] ?? RateSensor(windowMs: windowMs, count: windowCount)
            sensor.record(1, now: now)
            let admitted = sensor.rate(now: now).perSecond <= rate
            // A refused connection was not created: it does not count.
            if !admitted { sensor.record(-1, now: now) }
            sensors.byAddress[address] = sensor
            return admitted
        }
    }
}

extension ClientQuotaManager {
    /// The `connection_creation_rate` quota of `ip`: its own, else the default IP's.
    func connectionCreationRate(ip: String) -> Double? {
        let named: String? = ip, byDefault: String? = nil
        return quotaValue("connection_creation_rate", [QuotaEntity.ip: named]) ?? quotaValue("connection_creation_rate", [QuotaEntity.ip: byDefault])
    }
}
