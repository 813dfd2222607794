/// Arithmetic on numbers a client chose. Swift traps on overflow where Java wraps, so a sum that
/// involves a client-supplied timestamp, retention or offset saturates at the type's bounds
/// instead: a retention of `Int64.max` means "never", not a crash.
extension FixedWidthInteger {
    /// `self + other`, clamped to `Self.min...Self.max`.
    @inlinable
    public func saturatingAdd(_ other: Self) -> Self {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other > 0 ? .max : .min
    }
}
