import BrookClient
import Testing

/// The Java client's murmur2 (the values Kafka's own UtilsTest pins down).
@Suite struct Murmur2Tests {
    @Test(arguments: [
        ("21", -973_932_308), ("foobar", -790_332_482), ("a-little-bit-long-string", -985_981_536),
        ("a-little-bit-longer-string", -1_486_304_829), ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
        ("abc", 479_470_107),
    ] as [(String, Int32)])
    func hashesLikeTheJavaClient(key: String, expected: Int32) {
        #expect(Murmur2.hash(Array(key.utf8)) == expected)
    }

    @Test func partitionsArePositiveModuloTheCount() {
        for key in ["21", "foobar", "abc", ""] {
            let partition = Murmur2.partition(forKey: Array(key.utf8), partitions: 7)
            #expect((0..<7).contains(partition))
            #expect(partition == (Murmur2.hash(Array(key.utf8)) & 0x7fff_ffff) % 7)
        }
    }
}
