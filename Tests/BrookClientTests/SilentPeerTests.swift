#if canImport(Glibc)
import Glibc
#endif
import BrookClient
import Foundation
import Testing

/// A peer whose kernel accepts connections for it but that never answers (a SIGSTOPped broker):
/// connecting gives up after the timeout instead of waiting forever for ApiVersions.
@Suite struct SilentPeerTests {
    /// A listening socket on 127.0.0.1 that never accepts; returns its descriptor and port.
    static func silentListener() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        try #require(bound && listen(fd, 8) == 0)
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    @Test func aPeerThatNeverAnswersIsUnreachableAfterTheTimeout() async throws {
        let (fd, port) = try Self.silentListener()
        defer { close(fd) }
        let started = ContinuousClock.now
        await #expect(throws: ClientError.self) {
            _ = try await BrokerConnection.connect(host: "127.0.0.1", port: port, timeout: .milliseconds(300))
        }
        // Without the timeout it never returns; the bound is loose for a loaded machine whose
        // cooperative pool may run the timer late.
        #expect(ContinuousClock.now - started < .seconds(120), "it gave up instead of waiting for an answer")
    }
}
