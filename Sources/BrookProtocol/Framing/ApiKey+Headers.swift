/// Which header versions frame each API version.
///
/// Requests use header v2 in flexible versions and v1 otherwise (ControlledShutdown v0 alone
/// uses v0). Responses use header v1 in flexible versions and v0 otherwise, except ApiVersions,
/// whose response always uses v0 so that a client that does not yet know the broker's versions
/// can read it.
extension ApiKey {
    /// Whether `version` of this API uses the flexible encoding.
    public func isFlexible(_ version: Int16) -> Bool {
        guard let lowest = lowestFlexibleVersion else { return false }
        return version >= lowest
    }

    /// The request header version that frames `version` of this API.
    public func requestHeaderVersion(_ version: Int16) -> Int16 {
        if self == .controlledShutdown && version == 0 { return 0 }
        return isFlexible(version) ? 2 : 1
    }

    /// The response header version that frames `version` of this API.
    public func responseHeaderVersion(_ version: Int16) -> Int16 {
        if self == .apiVersions { return 0 }
        return isFlexible(version) ? 1 : 0
    }
}
