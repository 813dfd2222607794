#if canImport(Glibc)
import Glibc
#endif

/// Raises the soft limit on open files to the hard limit, as brokers need one descriptor per
/// segment (its `.log`; index files are opened only while used) and per connection (Kafka asks
/// operators to do the same with `ulimit -n`), and counts the descriptors in use.
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

    /// How many descriptors the process has open (entries of /proc/self/fd); nil where that
    /// directory does not exist.
    static func openCount() -> Int? {
        #if canImport(Glibc)
        guard let directory = opendir("/proc/self/fd") else { return nil }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let isDot = withUnsafeBytes(of: entry.pointee.d_name) { $0[0] == UInt8(ascii: ".") }
            if !isDot { count += 1 }
        }
        // The descriptor opendir itself holds.
        return count - 1
        #else
        return nil
        #endif
    }
}
