import Foundation

/// Generates Brook's protocol sources from Apache Kafka's JSON definitions.
///
/// The output is a map from a path relative to the output folder to the file's contents: one
/// file per API (request and response together), one per header or data record, and `ApiKey.swift`.
public struct Generator {
    public let specs: [MessageSpec]

    public init(specs: [MessageSpec]) {
        self.specs = specs
    }

    /// Loads the definitions under `root` and prepares a generator for them.
    public init(protocolRoot root: URL) throws {
        self.init(specs: try SpecLoader.loadAll(root: root))
    }

    /// The generated files by relative path.
    public func files() throws -> [String: String] {
        var files: [String: String] = [:]
        let requests = specs.filter { $0.kind == "request" }
        let responsesByKey = Dictionary(uniqueKeysWithValues: specs.filter { $0.kind == "response" }.map { ($0.apiKey!, $0) })
        for request in requests {
            guard let key = request.apiKey, let response = responsesByKey[key] else {
                throw SpecError.invalid("\(request.name) has no response")
            }
            let apiName = String(request.name.dropLast("Request".count))
            let path = "\(Self.folder(for: request.group))/\(apiName).swift"
            files[path] = try Self.annotating(path) {
                try MessageEmitter.emitFile([request, response], apiCase: Naming.apiCase(request.name))
            }
        }
        for spec in specs where spec.kind != "request" && spec.kind != "response" {
            let path = "\(Self.folder(for: spec.group))/\(spec.name).swift"
            guard files[path] == nil else { throw SpecError.invalid("two definitions generate \(path)") }
            files[path] = try Self.annotating(path) { try MessageEmitter.emitFile([spec], apiCase: nil) }
        }
        files["ApiKey.swift"] = ApiKeyEmitter.emit(requests: requests)
        return files
    }

    private static func annotating(_ path: String, _ body: () throws -> String) throws -> String {
        do {
            return try body()
        } catch {
            throw SpecError.invalid("\(path): \(error)")
        }
    }

    /// The output subfolder for a definitions folder: "group-coordinator" becomes "GroupCoordinator".
    static func folder(for group: String) -> String {
        group.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    /// Writes the files into `output`, removing generated Swift files that are no longer produced.
    public func write(to output: URL) throws {
        let manager = FileManager.default
        let files = try files()
        for (path, contents) in files {
            let url = output.appendingPathComponent(path)
            try manager.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            if (try? String(contentsOf: url, encoding: .utf8)) != contents {
                try contents.write(to: url, atomically: true, encoding: .utf8)
            }
        }
        for stale in try existingFiles(in: output) where files[stale] == nil {
            try manager.removeItem(at: output.appendingPathComponent(stale))
        }
    }

    /// The differences between what is generated now and what is in `output`; empty if current.
    public func differences(from output: URL) throws -> [String] {
        let files = try files()
        var problems: [String] = []
        for (path, contents) in files.sorted(by: { $0.key < $1.key }) {
            let existing = try? String(contentsOf: output.appendingPathComponent(path), encoding: .utf8)
            if existing == nil {
                problems.append("missing: \(path)")
            } else if existing != contents {
                problems.append("stale: \(path)")
            }
        }
        for extra in try existingFiles(in: output) where files[extra] == nil {
            problems.append("not generated any more: \(extra)")
        }
        return problems
    }

    private func existingFiles(in output: URL) throws -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: output.path) else { return [] }
        return enumerator.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
    }
}
