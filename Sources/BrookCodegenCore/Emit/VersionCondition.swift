/// Turns a version range into the simplest Swift condition that is true for exactly those
/// versions of a context range: "true" when it covers the context, "false" when disjoint, else a
/// comparison on `version` with the bounds the context does not already imply.
struct VersionCondition {
    /// The versions the surrounding code can be reached with.
    let context: Versions

    func condition(for versions: Versions) -> String {
        let effective = versions.intersecting(context)
        if effective.isEmpty { return "false" }
        if effective.contains(context) && context.contains(effective) { return "true" }
        let needsLower = effective.lowest > context.lowest
        let needsUpper = effective.highest < context.highest
        if needsLower && needsUpper && effective.lowest == effective.highest {
            return "version == \(effective.lowest)"
        }
        var parts: [String] = []
        if needsLower { parts.append("version >= \(effective.lowest)") }
        if needsUpper { parts.append("version <= \(effective.highest)") }
        return parts.joined(separator: " && ")
    }

    /// A context narrowed to `versions`.
    func narrowed(to versions: Versions) -> VersionCondition {
        VersionCondition(context: context.intersecting(versions))
    }
}
