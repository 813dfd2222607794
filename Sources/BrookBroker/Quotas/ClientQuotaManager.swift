import Foundation
import Synchronization

/// Kafka's client quotas: produce and fetch byte rates and request time, per user and client id
/// (and their defaults), as AlterClientQuotas sets them. A client over its quota is told how long
/// to wait (throttle_time_ms) and its connection is muted for that long.
///
/// The quota that applies to a (user, client id) is the first of Kafka's eight levels that sets
/// the key: user and client id, user and default client id, user, default user and client id,
/// both defaults, default user, client id, default client id. Clients sharing that level share
/// one sensor (all of alice's clients, for a quota on alice). With no quota set, a check is one
/// atomic load.
public final class ClientQuotaManager: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case produce = "producer_byte_rate"
        case fetch = "consumer_byte_rate"
        case request = "request_percentage"
    }

    private struct SensorKey: Hashable {
        var kind: Kind
        var user: String
        var clientId: String
    }

    let windowMs: Int64
    let windowCount: Int
    private let quotas = Mutex<[QuotaEntity: [String: Double]]>([:])
    private let sensors = Mutex<[SensorKey: RateSensor]>([:])
    private let anySet = Atomic<Bool>(false)

    init(windowMs: Int64 = 1000, windowCount: Int = 11) {
        self.windowMs = windowMs
        self.windowCount = windowCount
    }

    /// The quota settings (from the metadata image).
    func update(_ quotas: [QuotaEntity: [String: Double]]) {
        self.quotas.withLock { $0 = quotas }
        anySet.store(quotas.values.contains { values in Kind.allCases.contains { values[$0.rawValue] != nil } }, ordering: .releasing)
    }

    /// Whether any client quota is set.
    var isActive: Bool { anySet.load(ordering: .acquiring) }

    /// The value of `key` set on the entity `parts`.
    func quotaValue(_ key: String, _ parts: [String: String?]) -> Double? {
        quotas.withLock { $0[QuotaEntity(parts)]?[key] }
    }

    /// The bound on `kind` for `user` and `clientId`, and the sensor it is measured with.
    private func bound(_ kind: Kind, user: String, clientId: String) -> (Double, SensorKey)? {
        let key = kind.rawValue
        let named: String? = user, client: String? = clientId, byDefault: String? = nil
        let levels: [([String: String?], user: Bool, client: Bool)] = [
            ([QuotaEntity.user: named, QuotaEntity.clientId: client], true, true),
            ([QuotaEntity.user: named, QuotaEntity.clientId: byDefault], true, true),
            ([QuotaEntity.user: named], true, false),
            ([QuotaEntity.user: byDefault, QuotaEntity.clientId: client], true, true),
            ([QuotaEntity.user: byDefault, QuotaEntity.clientId: byDefault], true, true),
            ([QuotaEntity.user: byDefault], true, false),
            ([QuotaEntity.clientId: client], false, true),
            ([QuotaEntity.clientId: byDefault], false, true),
        ]
        let settings = quotas.withLock { $0 }
        for level in levels {
            if let value = settings[QuotaEntity(level.0)]?[key] {
                return (value, SensorKey(kind: kind, user: level.user ? user : "", clientId: level.client ? clientId : ""))
            }
        }
        return nil
    }

    /// Records `value` (bytes, or for requests the percentage-seconds of handler time) for the
    /// client and returns how long it must be throttled (ms); 0 without a quota.
    func record(_ kind: Kind, _ value: Double, user: String, clientId: String, now: Int64 = ClientQuotaManager.now()) -> Int64 {
        guard isActive, let (limit, key) = bound(kind, user: user, clientId: clientId) else { return 0 }
        return sensors.withLock { sensors in
            var sensor = sensors[key] ?? RateSensor(windowMs: windowMs, count: windowCount)
            sensor.record(value, now: now)
            let throttle = sensor.throttleMs(bound: limit, now: now)
            sensors[key] = sensor
            return throttle
        }
    }

    /// Takes back a recorded `value` (a fetch answered empty because it was throttled).
    func unrecord(_ kind: Kind, _ value: Double, user: String, clientId: String, now: Int64 = ClientQuotaManager.now()) {
        guard isActive, let (_, key) = bound(kind, user: user, clientId: clientId) else { return }
        sensors.withLock { sensors in sensors[key]?.record(-value, now: now) }
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// One connection's quota state: who it is (user and client id) and how long it must stay muted
/// after its current answer.
final class ConnectionQuotas: Sendable {
    let manager: ClientQuotaManager
    private let throttle = Atomic<Int64>(0)

    init(manager: ClientQuotaManager) {
        self.manager = manager
    }

    /// Records for the request of `context`; returns the throttle time (ms) to answer with and
    /// notes it so the connection is muted that long.
    func record(_ kind: ClientQuotaManager.Kind, _ value: Double, context: RequestContext) -> Int32 {
        guard manager.isActive else { return 0 }
        let wait = manager.record(kind, value, user: Self.user(of: context.principal), clientId: context.clientId ?? "")
        if wait > 0 { mute(for: wait) }
        return Int32(clamping: wait)
    }

    func unrecord(_ kind: ClientQuotaManager.Kind, _ value: Double, context: RequestContext) {
        manager.unrecord(kind, value, user: Self.user(of: context.principal), clientId: context.clientId ?? "")
    }

    /// Mutes the connection for at least `milliseconds` after the current answer.
    func mute(for milliseconds: Int64) {
        _ = throttle.max(milliseconds, ordering: .relaxed)
    }

    /// The mute the last answers asked for, reset to none.
    func takeMute() -> Int64 {
        throttle.exchange(0, ordering: .relaxed)
    }

    /// A principal's user name (`User:alice` is alice).
    static func user(of principal: String) -> String {
        principal.hasPrefix("User:") ? String(principal.dropFirst(5)) : principal
    }
}

extension RequestContext {
    /// Records `value` against the client's quota of `kind`; the throttle time to answer with.
    func recordQuota(_ kind: ClientQuotaManager.Kind, _ value: Double) -> Int32 {
        quotas?.record(kind, value, context: self) ?? 0
    }

}
