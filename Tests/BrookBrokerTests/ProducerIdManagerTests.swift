@testable import BrookBroker
import Synchronization
import Testing

@Suite struct ProducerIdManagerTests {
    @Test func idsComeFromReservedBlocksInOrder() throws {
        let reservations = Mutex<[Int64]>([])
        let manager = ProducerIdManager { count in
            reservations.withLock { reserved in
                let start = (reserved.last ?? 0)
                reserved.append(start + count)
                return start..<(start + count)
            }
        }
        var ids: [Int64] = []
        for _ in 0..<(Int(ProducerIdManager.blockSize) + 2) { ids.append(try manager.next()) }
        #expect(ids == Array(0..<(ProducerIdManager.blockSize + 2)))
        #expect(reservations.withLock { $0 } == [ProducerIdManager.blockSize, 2 * ProducerIdManager.blockSize])
    }

    @Test func aFailedReservationIsReportedAndRetried() throws {
        struct Unavailable: Error {}
        let fail = Mutex(true)
        let manager = ProducerIdManager { count in
            if fail.withLock({ $0 }) { throw Unavailable() }
            return 100..<(100 + count)
        }
        #expect(throws: Unavailable.self) { try manager.next() }
        fail.withLock { $0 = false }
        #expect(try manager.next() == 100)
    }
}
