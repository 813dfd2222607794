import Foundation

/// Reads Apache Kafka's JSON message definitions, which allow `//` and `/* */` comments.
public enum SpecLoader {
    /// The folders of the definitions tree that Brook generates, in order.
    public static let groups = [
        "messages", "group-coordinator", "transaction-coordinator", "metadata", "raft", "share-coordinator",
    ]

    /// Loads every definition Brook generates from `root` (the kafka-protocol folder).
    ///
    /// Requests are kept when their listeners include "broker" or "controller"; a response is
    /// kept when its request is.
    public static func loadAll(root: URL) throws -> [MessageSpec] {
        var specs: [MessageSpec] = []
        for group in groups {
            let folder = root.appendingPathComponent(group)
            guard FileManager.default.fileExists(atPath: folder.path) else { continue }
            let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
                .filter { $0.hasSuffix(".json") }
                .sorted()
            for file in files {
                let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
                do {
                    specs.append(try parse(text, group: group))
                } catch {
                    throw SpecError.invalid("\(group)/\(file): \(error)")
                }
            }
        }
        let servedKeys = Set(specs.filter { $0.kind == "request" && $0.isServedByBrokerOrController }.compactMap(\.apiKey))
        return specs.filter { spec in
            switch spec.kind {
            case "request", "response": spec.apiKey.map(servedKeys.contains) ?? false
            default: true
            }
        }
    }

    /// Parses one definition's text.
    public static func parse(_ text: String, group: String) throws -> MessageSpec {
        let stripped = stripComments(text)
        let object = try JSONSerialization.jsonObject(with: Data(stripped.utf8))
        guard let json = object as? [String: Any] else { throw SpecError.invalid("not a JSON object") }
        return try MessageSpec(json: json, group: group)
    }

    /// Removes `//` line comments and `/* */` block comments outside string literals.
    public static func stripComments(_ text: String) -> String {
        var output: [UInt8] = []
        let bytes = Array(text.utf8)
        output.reserveCapacity(bytes.count)
        var index = 0
        var inString = false
        while index < bytes.count {
            let byte = bytes[index]
            let next: UInt8? = index + 1 < bytes.count ? bytes[index + 1] : nil
            if inString {
                output.append(byte)
                if byte == UInt8(ascii: "\\"), let next {
                    output.append(next)
                    index += 2
                    continue
                }
                if byte == UInt8(ascii: "\"") { inString = false }
                index += 1
            } else if byte == UInt8(ascii: "\"") {
                inString = true
                output.append(byte)
                index += 1
            } else if byte == UInt8(ascii: "/"), next == UInt8(ascii: "/") {
                while index < bytes.count, bytes[index] != UInt8(ascii: "\n") { index += 1 }
            } else if byte == UInt8(ascii: "/"), next == UInt8(ascii: "*") {
                index += 2
                while index + 1 < bytes.count, !(bytes[index] == UInt8(ascii: "*") && bytes[index + 1] == UInt8(ascii: "/")) {
                    index += 1
                }
                index += 2
            } else {
                output.append(byte)
                index += 1
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
