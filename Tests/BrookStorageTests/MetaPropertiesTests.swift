import BrookModel
import PropertyBased
import Testing

@testable import BrookStorage

@Suite struct MetaPropertiesTests {
    static let clusterText = "MkU3OEVBNTcwNTJENDM2Qg"
    static let directoryText = "qYgiAVWDQlq5o7dwAhHV9A"
    static let cluster = KafkaUUID(clusterText)!
    static let directoryID = KafkaUUID(directoryText)!

    // MARK: KafkaUUID

    @Test func uuidKnownSpellings() {
        #expect(KafkaUUID.zero.description == "AAAAAAAAAAAAAAAAAAAAAA")
        #expect(KafkaUUID(mostSignificantBits: 0, leastSignificantBits: 1).description == "AAAAAAAAAAAAAAAAAAAAAQ")
        // The base64 of the ASCII text "2E78EA57052D436B".
        let id = KafkaUUID("MkU3OEVBNTcwNTJENDM2Qg")
        #expect(id == KafkaUUID(mostSignificantBits: 0x3245_3738_4541_3537, leastSignificantBits: 0x3035_3244_3433_3642))
        #expect(id?.bytes == Array("2E78EA57052D436B".utf8))
        #expect(KafkaUUID(mostSignificantBits: .max, leastSignificantBits: .max).description == "_____________________w")
    }

    @Test(arguments: [
        "", "AAAA", "AAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAA==", "AAAAAAAAAAAAAAAAAAAAA+", "AAAAAAAAAAAAAAAAAAAAA/",
        "AAAAAAAAAAAAAAAAAAAAAB",  // unused low bits set
        "AAAAAAAAAAAAAAAAAAAAA\u{e9}",
    ])
    func uuidRejectsNonCanonicalText(text: String) {
        #expect(KafkaUUID(text) == nil)
    }

    @Test func uuidRoundTripsAndGeneratesValidIds() async {
        await propertyCheck(count: 300, input: Gen.uint64()) { seed in
            var rng = SplitMix64(seed: seed)
            let arbitrary = KafkaUUID(mostSignificantBits: rng.next(), leastSignificantBits: rng.next())
            #expect(arbitrary.description.utf8.count == 22)
            #expect(KafkaUUID(arbitrary.description) == arbitrary)

            let generated = KafkaUUID.random(using: &rng)
            #expect(!generated.isReserved)
            #expect(!generated.description.hasPrefix("-"))
            #expect(generated.mostSignificantBits >> 12 & 0xF == 4)
            #expect(generated.leastSignificantBits >> 62 == 0b10)
            #expect(KafkaUUID(generated.description) == generated)
        }
        var seen = Set<KafkaUUID>()
        for _ in 0..<1_000 { seen.insert(MetaProperties.generateClusterID()) }
        #expect(seen.count == 1_000)
    }

    // MARK: Parsing

    @Test func parsesAFileAsKafkaWritesIt() throws {
        let text = """
            #
            #Tue Mar 05 10:00:00 UTC 2024
            node.id=1
            directory.id=\(Self.directoryText)
            version=1
            cluster.id=\(Self.clusterText)

            """
        let meta = try MetaProperties.parse(text)
        #expect(meta == MetaProperties(clusterID: Self.cluster, nodeID: BrokerID(1), directoryID: Self.directoryID))
    }

    @Test func acceptsJavaPropertiesVariations() throws {
        let text = """
            ! bang comment
               # indented comment
            version : 1
            cluster.id   \(Self.clusterText)
            node.id=\\
                7
            custom\\ key=a\\tb\\u0041\\=
            empty=
            """
        let meta = try MetaProperties.parse(text)
        #expect(meta.nodeID == BrokerID(7))
        #expect(meta.clusterID == Self.cluster)
        #expect(meta.directoryID == nil)
        #expect(meta.additionalProperties == ["custom key": "a\tbA=", "empty": ""])
    }

    @Test func rendersAndRoundTrips() throws {
        let meta = MetaProperties(
            clusterID: Self.cluster, nodeID: BrokerID(3), directoryID: Self.directoryID,
            additionalProperties: ["x.y": "has = and : and \\ and # ", "#odd key": " leading", "multi": "a\nb"])
        let text = meta.render()
        #expect(text.hasPrefix("#\n# Written by Brook; do not edit.\n"))
        #expect(text.contains("\ncluster.id=\(Self.clusterText)\n"))
        #expect(text.contains("\ndirectory.id=\(Self.directoryText)\n"))
        #expect(text.contains("\nnode.id=3\n"))
        #expect(text.contains("\nversion=1\n"))
        #expect(try MetaProperties.parse(text) == meta)

        let minimal = MetaProperties(clusterID: Self.cluster, nodeID: BrokerID(0), directoryID: nil)
        #expect(minimal.render() == "#\n# Written by Brook; do not edit.\ncluster.id=\(Self.clusterText)\nnode.id=0\nversion=1\n")
        #expect(try MetaProperties.parse(minimal.render()) == minimal)
    }

    static let invalid: [(String, MetaPropertiesError)] = [
        ("cluster.id=\(clusterText)\nnode.id=1\n", .missingProperty(file: "m", key: "version")),
        ("version=0\nbroker.id=1\ncluster.id=\(clusterText)\n", .unsupportedVersion(file: "m", value: "0")),
        ("version=2\ncluster.id=\(clusterText)\nnode.id=1\n", .unsupportedVersion(file: "m", value: "2")),
        ("version=one\ncluster.id=\(clusterText)\nnode.id=1\n", .unsupportedVersion(file: "m", value: "one")),
        ("version=1\nnode.id=1\n", .missingProperty(file: "m", key: "cluster.id")),
        ("version=1\ncluster.id=\(clusterText)\n", .missingProperty(file: "m", key: "node.id")),
        ("version=1\ncluster.id=not-a-uuid\nnode.id=1\n", .invalidValue(file: "m", key: "cluster.id", value: "not-a-uuid")),
        ("version=1\ncluster.id=AAAAAAAAAAAAAAAAAAAAAA\nnode.id=1\n", .invalidValue(file: "m", key: "cluster.id", value: "AAAAAAAAAAAAAAAAAAAAAA")),
        ("version=1\ncluster.id=\(clusterText)\nnode.id=-1\n", .invalidValue(file: "m", key: "node.id", value: "-1")),
        ("version=1\ncluster.id=\(clusterText)\nnode.id=x\n", .invalidValue(file: "m", key: "node.id", value: "x")),
        ("version=1\ncluster.id=\(clusterText)\nnode.id=2147483648\n", .invalidValue(file: "m", key: "node.id", value: "2147483648")),
        ("version=1\ncluster.id=\(clusterText)\nnode.id=1\ndirectory.id=short\n", .invalidValue(file: "m", key: "directory.id", value: "short")),
        ("version=1\nbad\\u00zz=1\n", .malformedLine(file: "m", line: 2, text: "bad\\u00zz=1")),
    ]

    @Test(arguments: invalid)
    func invalidFilesAreTypedErrors(text: String, error: MetaPropertiesError) {
        #expect(throws: error) { try MetaProperties.parse(text, file: "m") }
    }

    // MARK: Files

    @Test func readsAndWritesInALogDirectory() throws {
        let directory = try CheckpointScratchDirectory("meta")
        defer { directory.remove() }
        #expect(try MetaProperties.read(logDirectory: directory.path) == nil)

        let meta = MetaProperties(clusterID: Self.cluster, nodeID: BrokerID(5), directoryID: Self.directoryID)
        try meta.write(toLogDirectory: directory.path)
        #expect(directory.exists("meta.properties"))
        #expect(try MetaProperties.read(logDirectory: directory.path) == meta)

        try directory.write("meta.properties", "version=1\n")
        #expect(throws: MetaPropertiesError.missingProperty(file: directory.file("meta.properties"), key: "cluster.id")) {
            try MetaProperties.read(logDirectory: directory.path)
        }
    }

    // MARK: Ensemble

    private func formatted(_ names: [String], in root: CheckpointScratchDirectory, _ make: (Int) -> MetaProperties?) throws -> [String] {
        var paths: [String] = []
        for (index, name) in names.enumerated() {
            let path = try root.subdirectory(name)
            if let meta = make(index) { try meta.write(toLogDirectory: path) }
            paths.append(path)
        }
        return paths
    }

    private static func meta(node: Int32 = 1, cluster: KafkaUUID = cluster, directory: UInt64) -> MetaProperties {
        MetaProperties(clusterID: cluster, nodeID: BrokerID(node), directoryID: KafkaUUID(mostSignificantBits: 1, leastSignificantBits: directory))
    }

    @Test func agreeingDirectoriesVerify() throws {
        let root = try CheckpointScratchDirectory("ensemble")
        defer { root.remove() }
        let paths = try formatted(["a", "b", "c"], in: root) { index in
            index == 2 ? nil : Self.meta(directory: UInt64(index))
        }
        let ensemble = try MetaPropertiesEnsemble.load(logDirectories: paths)
        #expect(ensemble.properties.count == 2)
        #expect(ensemble.unformattedDirectories == [paths[2]])
        #expect(ensemble.clusterID == Self.cluster)
        #expect(ensemble.nodeID == BrokerID(1))
        try ensemble.verify()
        try ensemble.verify(expectedClusterID: Self.cluster, expectedNodeID: BrokerID(1))
    }

    @Test func mismatchedClusterIsRejected() throws {
        let other = KafkaUUID(mostSignificantBits: 9, leastSignificantBits: 9)
        let ensemble = MetaPropertiesEnsemble(properties: [
            "/d1": Self.meta(directory: 1),
            "/d2": Self.meta(cluster: other, directory: 2),
        ])
        #expect(throws: MetaPropertiesError.clusterIDMismatch(directory: "/d2", expected: Self.cluster, found: other)) {
            try ensemble.verify()
        }
        #expect(throws: MetaPropertiesError.clusterIDMismatch(directory: "/d1", expected: other, found: Self.cluster)) {
            try ensemble.verify(expectedClusterID: other)
        }
    }

    @Test func mismatchedNodeIsRejected() throws {
        let ensemble = MetaPropertiesEnsemble(properties: [
            "/d1": Self.meta(node: 1, directory: 1),
            "/d2": Self.meta(node: 2, directory: 2),
        ])
        #expect(throws: MetaPropertiesError.nodeIDMismatch(directory: "/d2", expected: BrokerID(1), found: BrokerID(2))) {
            try ensemble.verify()
        }
        let single = MetaPropertiesEnsemble(properties: ["/d1": Self.meta(node: 1, directory: 1)])
        #expect(throws: MetaPropertiesError.nodeIDMismatch(directory: "/d1", expected: BrokerID(4), found: BrokerID(1))) {
            try single.verify(expectedNodeID: BrokerID(4))
        }
    }

    @Test func duplicateAndReservedDirectoryIdsAreRejected() throws {
        let duplicate = MetaPropertiesEnsemble(properties: [
            "/d1": Self.meta(directory: 7),
            "/d2": Self.meta(directory: 7),
        ])
        #expect(throws: MetaPropertiesError.duplicateDirectoryID(
            KafkaUUID(mostSignificantBits: 1, leastSignificantBits: 7), directories: ["/d1", "/d2"])) {
            try duplicate.verify()
        }
        var reservedMeta = Self.meta(directory: 0)
        reservedMeta.directoryID = KafkaUUID(mostSignificantBits: 0, leastSignificantBits: 1)
        let reserved = MetaPropertiesEnsemble(properties: ["/d1": reservedMeta])
        #expect(throws: MetaPropertiesError.reservedDirectoryID(directory: "/d1", id: reservedMeta.directoryID!)) {
            try reserved.verify()
        }
    }

    @Test func malformedFileFailsTheLoad() throws {
        let root = try CheckpointScratchDirectory("ensemble")
        defer { root.remove() }
        let good = try root.subdirectory("good")
        let bad = try root.subdirectory("bad")
        try Self.meta(directory: 1).write(toLogDirectory: good)
        try root.write("bad/meta.properties", "version=1\ncluster.id=\(Self.clusterText)\nnode.id=oops\n")
        #expect(throws: MetaPropertiesError.invalidValue(file: bad + "/meta.properties", key: "node.id", value: "oops")) {
            try MetaPropertiesEnsemble.load(logDirectories: [good, bad])
        }
    }
}
