import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// One HTTPS GET (HTTP/1.0: the body is as long as its Content-Length says, or ends with the
/// connection), for the key sets OAUTHBEARER checks tokens against. Bodies over
/// `maximumBytes` are refused.
enum HttpsFetch {
    struct Failed: Error, CustomStringConvertible {
        let description: String
    }

    static let maximumBytes = 1 << 20

    /// The body of a 200 answer to GET `url`; throws ``Failed`` with what went wrong.
    static func get(_ url: URL, tls: NIOSSLContext, verifiesHostname: Bool, timeout: Duration = .seconds(10)) async throws -> Data {
        guard url.scheme == "https", let host = url.host, !host.isEmpty else {
            throw Failed(description: "\(url) is not an https: URL")
        }
        let port = url.port ?? 443
        let isAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(Int64(timeout.components.seconds)))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSLClientHandler(context: tls, serverHostname: verifiesHostname && !isAddress ? host : nil))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        let encodedPath = components?.percentEncodedPath ?? ""
        let path = (encodedPath.isEmpty ? "/" : encodedPath) + (components?.percentEncodedQuery.map { "?" + $0 } ?? "")
        let authority = url.port.map { "\(host):\($0)" } ?? host
        let request = "GET \(path) HTTP/1.0\r\nHost: \(authority)\r\nAccept: application/json\r\nUser-Agent: brook\r\n\r\n"
        let received = try await withThrowingTaskGroup(of: [UInt8].self) { tasks in
            tasks.addTask {
                try await Task.sleep(for: timeout)
                throw Failed(description: "\(url) did not answer within \(timeout)")
            }
            tasks.addTask {
                try await channel.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(string: request))
                    var received: [UInt8] = []
                    do {
                        for try await var chunk in inbound {
                            received += chunk.readBytes(length: chunk.readableBytes) ?? []
                            guard received.count <= maximumBytes + 16_384 else {
                                throw Failed(description: "\(url) answered more than \(maximumBytes) bytes")
                            }
                            if isComplete(received) { break }
                        }
                    } catch let error as NIOSSLError where error == .uncleanShutdown {
                        // A server that closes without TLS's close_notify: what came is whole
                        // if it is as long as the answer says (checked below).
                    }
                    return received
                }
            }
            defer { tasks.cancelAll() }
            guard let received = try await tasks.next() else { throw Failed(description: "\(url): no answer") }
            return received
        }
        return try body(of: received, from: url)
    }

    /// The head of a raw HTTP answer: its status line, its header fields (names in lower case)
    /// and where its body starts; nil until the head is whole.
    struct Head {
        var statusLine: String
        var fields: [(name: String, value: String)]
        var bodyStart: Int

        init?(of answer: [UInt8]) {
            guard let end = answer.firstRange(of: Array("\r\n\r\n".utf8)) else { return nil }
            let lines = String(decoding: answer[..<end.lowerBound], as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
            statusLine = lines.first.map(String.init) ?? ""
            fields = lines.dropFirst().compactMap { line in
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2 else { return nil }
                return (parts[0].trimmingCharacters(in: .whitespaces).lowercased(), parts[1].trimmingCharacters(in: .whitespaces))
            }
            bodyStart = end.upperBound
        }

        /// The status code (`200`), empty when the status line has none.
        var status: String { statusLine.split(separator: " ").dropFirst().first.map(String.init) ?? "" }

        /// The first value of the field `name` (in lower case).
        func field(_ name: String) -> String? { fields.first { $0.name == name }?.value }
    }

    /// Whether `answer` holds its whole head and as many body bytes as its Content-Length says.
    static func isComplete(_ answer: [UInt8]) -> Bool {
        guard let head = Head(of: answer), let length = head.field("content-length").flatMap({ Int($0) }) else { return false }
        return answer.count - head.bodyStart >= length
    }

    /// The body of a raw HTTP answer, when its status is 200 and it is complete.
    static func body(of answer: [UInt8], from url: URL) throws -> Data {
        guard let head = Head(of: answer) else { throw Failed(description: "\(url) sent no complete HTTP answer") }
        guard head.status == "200" else { throw Failed(description: "\(url) answered \(head.statusLine.isEmpty ? "nothing" : head.statusLine)") }
        let body = answer[head.bodyStart...]
        for (name, value) in head.fields {
            if name == "transfer-encoding", value.lowercased() != "identity" {
                throw Failed(description: "\(url) answered with Transfer-Encoding \(value)")
            }
            if name == "content-length", let length = Int(value), length != body.count {
                throw Failed(description: "\(url) answered \(body.count) of \(length) bytes")
            }
        }
        guard body.count <= maximumBytes else { throw Failed(description: "\(url) answered more than \(maximumBytes) bytes") }
        return Data(body)
    }
}
