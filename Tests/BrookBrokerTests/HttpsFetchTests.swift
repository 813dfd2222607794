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
