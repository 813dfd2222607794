@testable import BrookBroker
import Foundation
import Testing

/// The HTTP answers a key-set fetch accepts: a complete 200 answer, nothing else.
@Suite struct HttpsFetchTests {
    static let url = URL(string: "https://127.0.0.1/jwks.json")!

    static func answer(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func aCompleteOkAnswerGivesItsBody() throws {
        let body = try HttpsFetch.body(of: Self.answer("HTTP/1.0 200 OK\r\nContent-Length: 11\r\n\r\n{\"keys\":[]}"), from: Self.url)
        #expect(String(decoding: body, as: UTF8.self) == "{\"keys\":[]}")
        // Without a length the body ends with the connection.
        #expect(try HttpsFetch.body(of: Self.answer("HTTP/1.1 200 OK\r\n\r\n{}"), from: Self.url).count == 2)
    }

    @Test func anAnswerIsCompleteOnceItsContentLengthArrived() {
        #expect(HttpsFetch.isComplete(Self.answer("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}")))
        #expect(!HttpsFetch.isComplete(Self.answer("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\n{}")))
        #expect(!HttpsFetch.isComplete(Self.answer("HTTP/1.0 200 OK\r\n\r\n{}")), "without a length: read to the end")
        #expect(!HttpsFetch.isComplete(Self.answer("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n")))
    }

    @Test func failedFetchesBackOffExponentiallyUpToTheMaximum() {
        #expect(RefreshingKeySet.backoff(failures: 1, initialMs: 100, maximumMs: 10_000) == .milliseconds(100))
        #expect(RefreshingKeySet.backoff(failures: 3, initialMs: 100, maximumMs: 10_000) == .milliseconds(400))
        #expect(RefreshingKeySet.backoff(failures: 20, initialMs: 100, maximumMs: 10_000) == .milliseconds(10_000))
        #expect(RefreshingKeySet.backoff(failures: 500, initialMs: .max / 2, maximumMs: 10_000) == .milliseconds(10_000))
        #expect(RefreshingKeySet.backoff(failures: 1, initialMs: 0, maximumMs: 10_000) == .milliseconds(1))
    }

    @Test func otherStatusesTruncatedOrChunkedAnswersAreRefused() {
        #expect(throws: HttpsFetch.Failed.self) { try HttpsFetch.body(of: Self.answer("HTTP/1.0 404 Not Found\r\n\r\n"), from: Self.url) }
        #expect(throws: HttpsFetch.Failed.self) {
            try HttpsFetch.body(of: Self.answer("HTTP/1.0 200 OK\r\nContent-Length: 50\r\n\r\n{\"keys\":[]}"), from: Self.url)
        }
        #expect(throws: HttpsFetch.Failed.self) {
            try HttpsFetch.body(of: Self.answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nb\r\n{\"keys\":[]}\r\n0\r\n\r\n"), from: Self.url)
        }
        #expect(throws: HttpsFetch.Failed.self) { try HttpsFetch.body(of: Self.answer("HTTP/1.0 200 OK\r\n"), from: Self.url) }
        #expect(throws: HttpsFetch.Failed.self) { try HttpsFetch.body(of: [], from: Self.url) }
    }
}
