import Foundation

/// One field of a message or struct, as declared in the JSON definition.
public struct FieldSpec: Sendable {
    public var name: String
    public var type: FieldType
    /// Versions in which the field exists.
    public var versions: Versions
    /// Versions in which the field may be null.
    public var nullableVersions: Versions
    /// Versions in which the field is sent as a tagged field; `.none` for a regular field.
    public var taggedVersions: Versions
    /// The tag, for tagged fields.
    public var tag: UInt32?
    /// A field-level override of the message's flexible versions (only `none` is used, by the
    /// request header's client id).
    public var flexibleVersions: Versions?
    /// The default value as written in the spec; nil when absent, "null" for null.
    public var defaultValue: String?
    /// Whether a non-default value may be silently dropped in versions lacking the field.
    public var ignorable: Bool
    /// Whether the field is the key of a keyed collection.
    public var mapKey: Bool
    /// What kind of entity the field names (topicName, brokerId, ...).
    public var entityType: String?
    /// The human description, used as the doc comment.
    public var about: String?
    /// Whether Kafka reads the field without copying (all bytes are slices here anyway).
    public var zeroCopy: Bool
    /// The inline declaration of the field's struct type, if it has one.
    public var fields: [FieldSpec]?

    init(json: [String: Any]) throws {
        guard let name = json["name"] as? String, let typeText = json["type"] as? String else {
            throw SpecError.invalid("field without name or type: \(json)")
        }
        self.name = name
        self.type = FieldType(parsing: typeText.trimmingWhitespace())
        let tagged = try (json["taggedVersions"] as? String).map(Versions.init(parsing:)) ?? .none
        self.taggedVersions = tagged
        if let text = json["versions"] as? String {
            self.versions = try Versions(parsing: text)
        } else if !tagged.isEmpty {
            self.versions = tagged
        } else {
            throw SpecError.invalid("field \(name) has no versions")
        }
        self.nullableVersions = try (json["nullableVersions"] as? String).map(Versions.init(parsing:)) ?? .none
        if let tag = json["tag"] as? Int {
            self.tag = UInt32(tag)
        } else if let text = json["tag"] as? String {
            guard let tag = UInt32(text) else { throw SpecError.invalid("field \(name): bad tag \(text)") }
            self.tag = tag
        } else {
            self.tag = nil
        }
        self.flexibleVersions = try (json["flexibleVersions"] as? String).map(Versions.init(parsing:))
        switch json["default"] {
        case let text as String: self.defaultValue = text
        case let number as NSNumber:
            self.defaultValue = type == .bool ? (number.boolValue ? "true" : "false") : number.stringValue
        case is NSNull: self.defaultValue = "null"
        default: self.defaultValue = json.keys.contains("default") ? "null" : nil
        }
        self.ignorable = json["ignorable"] as? Bool ?? false
        self.mapKey = json["mapKey"] as? Bool ?? false
        self.entityType = json["entityType"] as? String
        self.about = json["about"] as? String
        self.zeroCopy = json["zeroCopy"] as? Bool ?? false
        if let nested = json["fields"] as? [[String: Any]] {
            self.fields = try nested.map(FieldSpec.init(json:))
        }
        if (tag == nil) != taggedVersions.isEmpty {
            throw SpecError.invalid("field \(name): tag and taggedVersions must come together")
        }
        if !nullableVersions.isEmpty && !type.canBeNullable {
            throw SpecError.invalid("field \(name) of type \(type) cannot be nullable")
        }
    }

    public var isTagged: Bool { tag != nil }

    /// Versions in which the field is a regular (untagged) field.
    public var regularVersions: Versions { versions.below(taggedVersions) }
}
