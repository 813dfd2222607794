#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import Testing

/// The broker stopping while clients keep connecting: connections accepted but not yet served
/// when the listener closes must be dropped cleanly, not trap (apple/swift-nio#2813).
@Suite(.serialized) struct ServerShutdownTests {
    /// Opens and closes TCP connections to `port` as fast as it can until `stop` is set,
    /// counting those that connected. Each connect gives up after 100 ms.
    static func hammer(port: Int, stop: borrowing Atomic<Bool>, opened: borrowing Atomic<Int>) {
        while !stop.load(ordering: .relaxed) {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { continue }
            // A connect whose SYN met a full accept queue waits for the kernel's retransmits
            // (1, 2, 4, 8 s...): bound it, so the thread sees `stop` soon after it is set.
            var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if connected == 0 { opened.add(1, ordering: .relaxed) }
            close(fd)
        }
    }

    final class Hammer: Sendable {
        let stop = Atomic<Bool>(false)
        let opened = Atomic<Int>(0)
        let finished = Atomic<Bool>(false)
    }

    @Test(arguments: 0..<6) func stoppingWhileClientsConnectDoesNotTrap(round: Int) async throws {
        let hammer = Hammer()
        try await withBroker { bootstrap in
            let port = Int(bootstrap.split(separator: ":").last!)!
            // A thread of its own: blocking connects must not hold the concurrency pool.
            Thread.detachNewThread {
                Self.hammer(port: port, stop: hammer.stop, opened: hammer.opened)
                hammer.finished.store(true, ordering: .releasing)
            }
            // The harness shuts the broker down (and then cancels it) once connections stream
            // in; they keep coming while it stops.
            let deadline = ContinuousClock.now + .seconds(10)
            while hammer.opened.load(ordering: .relaxed) < 200 * (round + 1), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(1))
            }
        }
        hammer.stop.store(true, ordering: .relaxed)
        let deadline = ContinuousClock.now + .seconds(10)
        while !hammer.finished.load(ordering: .acquiring), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(1))
        }
        let finished = hammer.finished.load(ordering: .acquiring)
        #expect(finished)
        let opened = hammer.opened.load(ordering: .relaxed)
        #expect(opened >= 200 * (round + 1))
    }
}
