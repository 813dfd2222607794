#if canImport(Glibc)
import Glibc
#endif

/// Raises the soft limit on open files to the hard limit, as brokers need one descriptor per
/// segment file and per connection (Kafka asks operators to do the same with `ulimit -n`).
enum FileDescriptorLimit {
    /// Returns the soft limit in force afterwards.
    @discardableResult
    static func raiseToMaximum() -> UInt64 {
        #if canImport(Glibc)
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return UInt64(limit.rlim_cur)
        #else
        return 0
        #endif
    }
}
