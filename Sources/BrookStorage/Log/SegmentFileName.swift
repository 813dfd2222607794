/// File names inside a partition directory, as Kafka spells them.
///
///     00000000000000000000.log         the batches of the segment whose base offset is 0
///     00000000000000000000.index       its offset index
///     00000000000000000000.timeindex   its time index
///     00000000000000000000.txnindex    its aborted transactions (only once there is one)
///     <any of the above>.deleted       renamed for deletion after file.delete.delay.ms
///     <any of the above>.cleaned       a segment the cleaner is still writing
///     <any of the above>.swap          a cleaned segment about to replace the originals
///     leader-epoch-checkpoint          see LeaderEpochCheckpoint
///
/// The base offset is printed in decimal, zero-padded to 20 digits, so names sort by offset.
enum SegmentFileName {
    enum Kind: String, CaseIterable {
        case log = ".log"
        case index = ".index"
        case timeIndex = ".timeindex"
        case transactionIndex = ".txnindex"
    }

    static let deletedSuffix = ".deleted"
    static let cleanedSuffix = ".cleaned"
    static let swapSuffix = ".swap"

    /// `%020d` of the base offset.
    static func stem(_ baseOffset: Int64) -> String {
        let digits = String(baseOffset)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    /// The path of one of a segment's files, with an optional trailing suffix (".deleted"...).
    static func path(directory: String, baseOffset: Int64, kind: Kind, suffix: String = "") -> String {
        directory + "/" + stem(baseOffset) + kind.rawValue + suffix
    }

    /// Splits a file name into base offset, kind and trailing suffix; nil for anything else.
    static func parse(_ name: String) -> (baseOffset: Int64, kind: Kind, suffix: String)? {
        var rest = Substring(name)
        var suffix = ""
        for candidate in [deletedSuffix, cleanedSuffix, swapSuffix] where rest.hasSuffix(candidate) {
            suffix = candidate
            rest = rest.dropLast(candidate.count)
            break
        }
        for kind in Kind.allCases where rest.hasSuffix(kind.rawValue) {
            let stem = rest.dropLast(kind.rawValue.count)
            guard stem.count == 20, stem.allSatisfy(\.isASCIIDigit), let base = Int64(stem) else { return nil }
            return (base, kind, suffix)
        }
        return nil
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
