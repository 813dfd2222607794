/// One fuzz target: a function from arbitrary bytes to an outcome, with no fuzzer dependency, so
/// that `brook-fuzz` hands it to libFuzzer and the tests replay the committed corpus through it.
///
/// A target never traps on bad input: the code under test either decodes the bytes (and the
/// target then checks what it decoded, e.g. that it re-encodes to bytes that decode to the same
/// value) or rejects them with an error. A broken check is a ``FuzzFailure``, which `brook-fuzz`
/// turns into a crash so that libFuzzer records the input.
public struct FuzzTarget: Sendable {
    public let name: String
    /// What the target feeds the bytes through, for `brook-fuzz --list`.
    public let summary: String
    public let run: @Sendable (UnsafeRawBufferPointer) throws(FuzzFailure) -> FuzzOutcome

    public init(
        name: String, summary: String,
        run: @escaping @Sendable (UnsafeRawBufferPointer) throws(FuzzFailure) -> FuzzOutcome
    ) {
        self.name = name
        self.summary = summary
        self.run = run
    }

    /// Runs the target over `bytes`.
    public func callAsFunction(_ bytes: [UInt8]) throws(FuzzFailure) -> FuzzOutcome {
        try bytes.withUnsafeBytes { raw in Result { () throws(FuzzFailure) in try run(raw) } }.get()
    }

    /// Every target, in the order `make fuzz` runs them.
    public static let all: [FuzzTarget] = [
        .frames, .request, .broker, .recordBatch, .messageSet, .decompress, .coordinatorRecord, .metadataRecord, .quorum,
        .metadataImage, .saslToken,
    ]

    public static func named(_ name: String) -> FuzzTarget? {
        all.first { $0.name == name }
    }
}

/// What became of one input.
public enum FuzzOutcome: Sendable, Equatable {
    /// The input decoded (at least in part: a frame, a batch) and passed the target's checks.
    case accepted
    /// The input was rejected with an error, as bad bytes should be.
    case rejected
}

/// A check that failed: the code under test decoded the input but broke an invariant.
public struct FuzzFailure: Error, CustomStringConvertible, Sendable {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Throws a ``FuzzFailure`` unless `condition` holds.
@inline(__always)
func fuzzCheck(_ condition: Bool, _ message: @autoclosure () -> String) throws(FuzzFailure) {
    if !condition { throw FuzzFailure(message()) }
}
