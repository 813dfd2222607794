@testable import BrookBroker
import Testing

/// Replication throttles: the measured rate over its windows, the throttled replica lists, and
/// the quota that holds throttled replicas back once the rate is over the limit.
@Suite struct ReplicationQuotaTests {
    @Test func theRateCountsAtLeastAllButOneWindowOfTime() {
        var rate = ByteRate(windows: 11, windowMs: 1000)
        rate.record(10_000, nowMs: 0)
        #expect(rate.bytesPerSecond(nowMs: 0) == 1000, "a first burst counts over ten seconds")
        rate.record(10_000, nowMs: 5000)
        #expect(rate.bytesPerSecond(nowMs: 5000) == 2000)
        // Later, the elapsed time itself is longer than ten windows.
        #expect(rate.bytesPerSecond(nowMs: 10_500) == 20_000 / 10.5)
        // Windows older than eleven drop out.
        #expect(rate.bytesPerSecond(nowMs: 11_000) == 10_000 / 10.0)
        #expect(rate.bytesPerSecond(nowMs: 16_001) == 0)
    }

    @Test func aQuotaIsExceededOnlyOverItsLimitAndOnlyWhenSet() {
        let quota = ReplicationQuota(windows: 2, windowMs: 1000)
        #expect(!quota.isLimited)
        quota.record(1_000_000, nowMs: 0)
        #expect(!quota.isExceeded(nowMs: 0), "no limit, nothing recorded")
        quota.setLimit(1000)
        #expect(quota.isLimited)
        quota.record(900, nowMs: 0)
        #expect(!quota.isExceeded(nowMs: 0), "900 B over at least one second")
        quota.record(200, nowMs: 500)
        #expect(quota.isExceeded(nowMs: 500))
        #expect(!quota.isExceeded(nowMs: 2500), "the windows passed")
        quota.setLimit(.max)
        #expect(!quota.isLimited)
    }

    @Test func throttledReplicaListsAreKafkas() {
        let listed = ThrottledReplicas("0:101, 1:102,0:103")
        #expect(listed.contains(partition: 0, broker: 101))
        #expect(listed.contains(partition: 1, broker: 102))
        #expect(!listed.contains(partition: 1, broker: 101))
        #expect(ThrottledReplicas("*").contains(partition: 7, broker: 9))
        #expect(!ThrottledReplicas("").contains(partition: 0, broker: 1))
    }
}
