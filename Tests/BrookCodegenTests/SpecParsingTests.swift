@testable import BrookCodegenCore
import Testing

@Suite struct SpecParsingTests {
    @Test(arguments: [
        ("0+", Versions(lowest: 0, highest: Versions.openEnd)),
        ("3-7", Versions(lowest: 3, highest: 7)),
        ("5", Versions(lowest: 5, highest: 5)),
        ("none", Versions.none),
    ])
    func versionStrings(text: String, expected: Versions) throws {
        #expect(try Versions(parsing: text) == expected)
    }

    @Test func badVersionStringsAreRejected() {
        #expect(throws: SpecError.self) { try Versions(parsing: "3-") }
        #expect(throws: SpecError.self) { try Versions(parsing: "abc") }
    }

    @Test func versionArithmetic() {
        let flexible = Versions(lowest: 9, highest: Versions.openEnd)
        let valid = Versions(lowest: 0, highest: 11)
        #expect(valid.intersecting(flexible) == Versions(lowest: 9, highest: 11))
        #expect(Versions(lowest: 0, highest: 2).intersecting(flexible).isEmpty)
        #expect(Versions(lowest: 1, highest: 3).hull(Versions(lowest: 5, highest: 6)) == Versions(lowest: 1, highest: 6))
        #expect(Versions(lowest: 0, highest: Versions.openEnd).below(Versions(lowest: 3, highest: Versions.openEnd)) == Versions(lowest: 0, highest: 2))
    }

    @Test func conditionsArePrunedToTheContext() {
        let context = VersionCondition(context: Versions(lowest: 0, highest: 11))
        #expect(context.condition(for: Versions(lowest: 0, highest: Versions.openEnd)) == "true")
        #expect(context.condition(for: Versions(lowest: 3, highest: Versions.openEnd)) == "version >= 3")
        #expect(context.condition(for: Versions(lowest: 0, highest: 4)) == "version <= 4")
        #expect(context.condition(for: Versions(lowest: 2, highest: 4)) == "version >= 2 && version <= 4")
        #expect(context.condition(for: Versions(lowest: 5, highest: 5)) == "version == 5")
        #expect(context.condition(for: Versions(lowest: 12, highest: 14)) == "false")
        let narrow = VersionCondition(context: Versions(lowest: 9, highest: 11))
        #expect(narrow.condition(for: Versions(lowest: 3, highest: Versions.openEnd)) == "true")
    }

    @Test func commentsAreStrippedOutsideStrings() throws {
        let spec = try SpecLoader.parse(SpecFixtures.taggedMessage, group: "messages")
        #expect(spec.name == "ExampleRecord")
        #expect(spec.fields[0].about == "A // not a comment.")
        #expect(spec.fields.count == 5)
    }

    @Test func fieldAttributesAreRead() throws {
        let spec = try SpecLoader.parse(SpecFixtures.taggedMessage, group: "messages")
        let note = spec.fields[2]
        #expect(note.tag == 0)
        #expect(note.isTagged)
        #expect(note.defaultValue == "null")
        #expect(note.regularVersions.isEmpty)
        #expect(spec.fields[1].type == .array(.int32))
        #expect(spec.fields[3].type == .uint16)
        #expect(spec.structDeclarations()["Child"]?.first?.defaultValue == "-1")
    }

    @Test func malformedFieldsAreRejected() {
        let bad = """
        { "type": "data", "name": "Bad", "validVersions": "0", "flexibleVersions": "none",
          "fields": [ { "name": "X", "type": "int32", "versions": "0+", "nullableVersions": "0+" } ] }
        """
        #expect(throws: SpecError.self) { try SpecLoader.parse(bad, group: "messages") }
        let untagged = """
        { "type": "data", "name": "Bad", "validVersions": "0", "flexibleVersions": "0+",
          "fields": [ { "name": "X", "type": "int32", "versions": "0+", "taggedVersions": "0+" } ] }
        """
        #expect(throws: SpecError.self) { try SpecLoader.parse(untagged, group: "messages") }
    }

    @Test func emittedCodeUsesVersionChecksAndKeywordsSafely() throws {
        let spec = try SpecLoader.parse(SpecFixtures.taggedMessage, group: "messages")
        let files = try Generator(specs: [spec]).files()
        let source = try #require(files["Messages/ExampleRecord.swift"])
        #expect(source.contains("Do not edit."))
        #expect(source.contains("public var `protocol`: Int8 = -1"))
        #expect(source.contains("self.ids = try buffer.readNullableArray(compact: version >= 2, nullable: version >= 3"))
        #expect(source.contains("case 0 where version >= 2:"))
        #expect(source.contains("public var unknownTaggedFields: [TaggedField] = []"))
        #expect(source.contains("readNullableStruct(nullable: version >= 3"))
    }
}
