@testable import BrookBroker
import BrookModel
import BrookProtocol
import Testing

@Suite struct FetchSessionCacheTests {
    @Test func epochZeroCreatesSessionsAndEpochsMustFollow() {
        let cache = FetchSessionCache(capacity: 10)
        guard case .session(let id, let isFull) = cache.resolve(sessionId: 0, epoch: 0) else {
            Issue.record("expected a new session")
            return
        }
        #expect(isFull)
        guard case .session(id, false) = cache.resolve(sessionId: id, epoch: 1) else {
            Issue.record("expected the session to continue")
            return
        }
        guard case .error(.invalidFetchSessionEpoch) = cache.resolve(sessionId: id, epoch: 1) else {
            Issue.record("a repeated epoch must be refused")
            return
        }
        guard case .session(id, false) = cache.resolve(sessionId: id, epoch: 2) else {
            Issue.record("the expected epoch continues")
            return
        }
    }

    @Test func unknownSessionsAreReported() {
        let cache = FetchSessionCache(capacity: 10)
        guard case .error(.fetchSessionIdNotFound) = cache.resolve(sessionId: 42, epoch: 3) else {
            Issue.record("expected FETCH_SESSION_ID_NOT_FOUND")
            return
        }
    }

    @Test func finalEpochClosesTheSessionAndFetchesWithoutOne() {
        let cache = FetchSessionCache(capacity: 10)
        guard case .session(let id, _) = cache.resolve(sessionId: 0, epoch: 0) else { return }
        guard case .sessionless = cache.resolve(sessionId: id, epoch: -1) else {
            Issue.record("epoch -1 is sessionless")
            return
        }
        guard case .error(.fetchSessionIdNotFound) = cache.resolve(sessionId: id, epoch: 1) else {
            Issue.record("the closed session is gone")
            return
        }
    }

    @Test func leastRecentlyUsedSessionsAreEvicted() {
        let cache = FetchSessionCache(capacity: 2)
        guard case .session(let first, _) = cache.resolve(sessionId: 0, epoch: 0),
              case .session(let second, _) = cache.resolve(sessionId: 0, epoch: 0) else { return }
        _ = cache.resolve(sessionId: first, epoch: 1)  // first is now the most recent
        _ = cache.resolve(sessionId: 0, epoch: 0)  // evicts second
        guard case .error(.fetchSessionIdNotFound) = cache.resolve(sessionId: second, epoch: 1) else {
            Issue.record("second should have been evicted")
            return
        }
        guard case .session = cache.resolve(sessionId: first, epoch: 2) else {
            Issue.record("first should survive")
            return
        }
    }

    @Test func sessionsRememberPartitionsAndReportChanges() {
        var session = FetchSession(id: 1)
        let partition = TopicPartition(topic: "t", partition: 0)
        session.upsert(partition, .init(topicId: .zero, fetchOffset: 5, partitionMaxBytes: 100, currentLeaderEpoch: 0))
        let first = session.noteSent(partition, highWatermark: 10, logStartOffset: 0, lastStableOffset: 10)
        let unchanged = session.noteSent(partition, highWatermark: 10, logStartOffset: 0, lastStableOffset: 10)
        let grown = session.noteSent(partition, highWatermark: 11, logStartOffset: 0, lastStableOffset: 11)
        #expect(first)
        #expect(!unchanged)
        #expect(grown)
        session.remove(partition)
        #expect(session.partitions.isEmpty)
    }
}

/// Outcomes are checked, not wall time: the suite runs beside busy tests on two cores.
@Suite struct FetchWaiterTests {
    @Test func fireWakesAWaiter() async {
        let waiter = FetchWaiter()
        let waiters = PartitionWaiters()
        waiters.add(waiter)
        async let woken = waiter.wait(timeout: .seconds(60))
        waiters.notifyAll()
        #expect(await woken)
    }

    @Test func aFireBeforeTheWaitIsNotLost() async {
        let waiter = FetchWaiter()
        waiter.fire()
        #expect(await waiter.wait(timeout: .seconds(60)))
    }

    @Test func theDeadlineEndsTheWait() async {
        let waiter = FetchWaiter()
        #expect(await waiter.wait(timeout: .milliseconds(10)) == false)
        // A fire after the deadline changes nothing.
        waiter.fire()
        #expect(await waiter.wait(timeout: .milliseconds(10)) == false)
    }

    @Test func removedWaitersAreNotWoken() async {
        let waiter = FetchWaiter()
        let waiters = PartitionWaiters()
        waiters.add(waiter)
        waiters.remove(waiter)
        waiters.notifyAll()
        #expect(await waiter.wait(timeout: .milliseconds(10)) == false)
    }
}
