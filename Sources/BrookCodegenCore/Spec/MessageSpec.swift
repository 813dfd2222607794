import Foundation

/// One JSON definition file: a request, response, header, or data record.
public struct MessageSpec: Sendable {
    /// Where the definition came from, e.g. "messages" or "metadata".
    public var group: String
    public var name: String
    /// "request", "response", "header", "data" or "metadata".
    public var kind: String
    public var apiKey: Int16?
    public var validVersions: Versions
    public var flexibleVersions: Versions
    public var deprecatedVersions: Versions
    public var listeners: [String]
    public var latestVersionUnstable: Bool
    public var fields: [FieldSpec]
    public var commonStructs: [StructDeclaration]

    /// A struct declared in `commonStructs`.
    public struct StructDeclaration: Sendable {
        public var name: String
        public var versions: Versions
        public var fields: [FieldSpec]
    }

    public init(json: [String: Any], group: String) throws {
        guard let name = json["name"] as? String, let kind = json["type"] as? String else {
            throw SpecError.invalid("definition without name or type")
        }
        self.group = group
        self.name = name
        self.kind = kind
        self.apiKey = (json["apiKey"] as? Int).map(Int16.init)
        guard let valid = json["validVersions"] as? String else {
            throw SpecError.invalid("\(name) has no validVersions")
        }
        self.validVersions = try Versions(parsing: valid)
        self.flexibleVersions = try (json["flexibleVersions"] as? String).map(Versions.init(parsing:)) ?? .none
        self.deprecatedVersions = try (json["deprecatedVersions"] as? String).map(Versions.init(parsing:)) ?? .none
        self.listeners = json["listeners"] as? [String] ?? []
        self.latestVersionUnstable = json["latestVersionUnstable"] as? Bool ?? false
        self.fields = try (json["fields"] as? [[String: Any]] ?? []).map(FieldSpec.init(json:))
        self.commonStructs = try (json["commonStructs"] as? [[String: Any]] ?? []).map { entry in
            guard let structName = entry["name"] as? String else {
                throw SpecError.invalid("\(name): common struct without a name")
            }
            let versions = try (entry["versions"] as? String).map(Versions.init(parsing:)) ?? .all
            let fields = try (entry["fields"] as? [[String: Any]] ?? []).map(FieldSpec.init(json:))
            return StructDeclaration(name: structName, versions: versions, fields: fields)
        }
    }

    /// Every struct declared in the definition (inline or common), by name.
    public func structDeclarations() -> [String: [FieldSpec]] {
        var result: [String: [FieldSpec]] = [:]
        for common in commonStructs { result[common.name] = common.fields }
        func collect(_ fields: [FieldSpec]) {
            for field in fields {
                if let nested = field.fields, let name = field.type.structName {
                    result[name] = nested
                    collect(nested)
                }
            }
        }
        collect(fields)
        return result
    }

    /// Whether Brook generates this definition: every request and response that a broker or
    /// controller listens for, plus headers and data records.
    public var isServedByBrokerOrController: Bool {
        listeners.contains("broker") || listeners.contains("controller")
    }
}
