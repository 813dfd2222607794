import BrookClient

/// Which topics a `brook topics` command acts on, as kafka-topics chooses them: `--topic` is an
/// include list, a regular expression that must match a whole name (commas mean "or", so
/// `a,b` names two topics); without `--topic` every topic. Internal topics are included unless
/// `--exclude-internal` is given.
struct TopicSelection {
    var pattern: String?
    var excludeInternal: Bool

    /// The matching topics, sorted. With `requireMatch` (no `--if-exists`), a `--topic` that
    /// matches nothing fails with kafka-topics' "Topic 'x' does not exist as expected".
    func topics(in cluster: Cluster, requireMatch: Bool) async throws -> [String] {
        let listed = try await TopicAdmin(cluster: cluster).list(includeInternal: !excludeInternal).map(\.name)
        guard let pattern, !pattern.isEmpty else { return listed }
        let expression = try Self.regex(pattern)
        let matched = listed.filter { (try? expression.wholeMatch(in: $0)) != nil }
        if matched.isEmpty && requireMatch {
            throw CommandFailure("Topic '\(pattern)' does not exist as expected")
        }
        return matched
    }

    /// Kafka's `IncludeList` clean-up: surrounding quotes and spaces dropped, commas as alternatives.
    static func regex(_ pattern: String) throws -> Regex<AnyRegexOutput> {
        var cleaned = pattern.filter { $0 != " " }.replacing(",", with: "|")
        while cleaned.first == "\"" || cleaned.first == "'" { cleaned.removeFirst() }
        while cleaned.last == "\"" || cleaned.last == "'" { cleaned.removeLast() }
        do {
            return try Regex(cleaned)
        } catch {
            throw CommandFailure("'\(pattern)' is not a valid topic name or regular expression")
        }
    }
}
