#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The wall clock a log reads for LogAppendTime, `segment.ms`, `flush.ms` and
/// `file.delete.delay.ms`. Tests inject a manual one; nothing in the log sleeps.
public protocol LogClock: Sendable {
    /// Milliseconds since the Unix epoch.
    func nowMilliseconds() -> Int64
}

/// The system's real-time clock (`clock_gettime(CLOCK_REALTIME)`).
public struct SystemLogClock: LogClock {
    public init() {}

    public func nowMilliseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }
}
