/// Small definitions in Kafka's JSON dialect for the generator's own tests.
enum SpecFixtures {
    static let taggedMessage = """
    // A comment with "quotes" and a URL http://example.com
    {
      "type": "data",
      "name": "ExampleRecord", /* block comment */
      "validVersions": "0-3",
      "flexibleVersions": "2+",
      "fields": [
        { "name": "Name", "type": "string", "versions": "0+", "about": "A // not a comment." },
        { "name": "Ids", "type": "[]int32", "versions": "1+", "nullableVersions": "3+" },
        { "name": "Note", "type": "string", "versions": "2+", "taggedVersions": "2+", "tag": "0",
          "nullableVersions": "2+", "default": "null" },
        { "name": "Port", "type": "uint16", "versions": "0+" },
        { "name": "Child", "type": "Child", "versions": "0+", "nullableVersions": "3+", "default": "null",
          "fields": [ { "name": "Protocol", "type": "int8", "versions": "0+", "default": "-1" } ] }
      ]
    }
    """
}
