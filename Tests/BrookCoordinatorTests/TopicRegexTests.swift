@testable import BrookCoordinator
import Foundation
import Testing

@Suite struct TopicRegexTests {
    private func matches(_ pattern: String, _ topic: String) throws -> Bool {
        try TopicRegex(pattern).wholeMatch(topic)
    }

    @Test(arguments: [
        ("orders.*", "orders-eu", true), ("orders.*", "audit", false), ("orders", "orders-eu", false),
        ("^orders$", "orders", true), ("a|b|", "", true), ("a|b", "b", true), ("(ab)+", "ababab", true), ("(ab)+", "aba", false),
        ("[a-c]{2,3}", "abc", true), ("[a-c]{2,3}", "abcd", false), ("[a-c]{2}", "a", false), ("x{2,}", "xxxxx", true),
        ("[^.]+", "a.b", false), ("[^.]+", "ab", true), ("\\d+-\\w+", "12-ab_c", true), ("\\.", ".", true), ("\\.", "a", false),
        ("(?i)ORDERS", "orders", true), ("(?i:O)rders", "orders", true), ("O(?i)rders", "oRDERS", false),
        ("[[:alpha:]]+", "abc", true), ("[[:digit:]]", "a", false), ("(?P<name>a)b", "ab", true), ("(?:a|b)*c", "ababc", true),
        ("a{", "a{", true), ("a{,2}", "a{,2}", true), ("\\Qa.b\\E", "a.b", true), ("\\Qa.b\\E", "axb", false),
        ("\\x41", "A", true), ("a*?b", "aab", true), ("\\bab\\b", "ab", true), ("[a\\-z]", "-", true), ("[]a]", "]", true),
        ("(a*)*", "aaa", true), ("(a|)+b", "b", true), ("^*a", "a", true), ("\\S+", "a b", false),
    ]) func matchesAsRE2Does(pattern: String, topic: String, expected: Bool) throws {
        #expect(try matches(pattern, topic) == expected)
    }

    @Test(arguments: [
        "(", ")", "a)", "[a", "[z-a]", "*a", "a**", "a*+", "a++", "+", "?", "{2}", "a{1001}", "a{3,2}", "\\", "\\1",
        "(?=a)", "(?!a)", "(?<=a)", "(?<!a)", "(?x)a", "(?P<>a)", "\\pL", "[[:foo:]]", "\\y", "((a)",
    ]) func refusesWhatRE2Refuses(pattern: String) {
        #expect(throws: TopicRegexError.self) { try TopicRegex(pattern) }
    }

    @Test func refusesPatternsThatCompileTooLarge() {
        #expect(throws: TopicRegexError.self) { try TopicRegex("(a{1000}){1000}") }
        #expect(throws: TopicRegexError.self) { try TopicRegex(String(repeating: "a", count: TopicRegex.maximumPatternLength + 1)) }
    }

    /// `(a+)+$` against a long name that almost matches makes a backtracking matcher take
    /// exponential time; this one is linear.
    @Test func catastrophicPatternsMatchInLinearTime() throws {
        let patterns = ["(a+)+$", "(a|a)+$", "(a*)*b", "(.*a){20}", "(a|aa)+c", "([a-z]+)*[0-9]"]
        let name = String(repeating: "a", count: 249) + "!"
        let start = ContinuousClock.now
        for pattern in patterns {
            #expect(try matches(pattern, name) == false)
        }
        let elapsed = ContinuousClock.now - start
        // Backtracking would take longer than the age of the universe on 249 characters; the
        // bound is loose because a loaded machine may deschedule this test for seconds.
        #expect(elapsed < .seconds(10), "took \(elapsed)")
    }
}
