// swift-tools-version: 6.1
import Foundation
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

// `make fuzz` builds brook-fuzz with `--sanitize=fuzzer` and BROOK_FUZZ=1, which leaves out its
// replay main so that libFuzzer's main runs; without it, brook-fuzz replays inputs through the
// same targets, so the normal build links it with no fuzzer runtime.
let fuzzSettings: [SwiftSetting] = ProcessInfo.processInfo.environment["BROOK_FUZZ"] != nil
    ? [.define("BROOK_LIBFUZZER")] : []

let package = Package(
    name: "Brook",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "brook", targets: ["BrookCLI"]),
        .executable(name: "brook-codegen", targets: ["BrookCodegen"]),
        .executable(name: "brook-fuzz", targets: ["BrookFuzz"]),
        .library(name: "BrookProtocol", targets: ["BrookProtocol"]),
        .library(name: "BrookRecords", targets: ["BrookRecords"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    ],
    targets: [
        // MARK: Model and wire protocol
        .target(name: "BrookModel", swiftSettings: strictSettings),
        .target(
            name: "BrookProtocol",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSettings
        ),

        // MARK: Record batches and their C helpers
        .target(name: "CCRC32C"),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CSnappy", providers: [.apt(["libsnappy-dev"])]),
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .target(
            name: "BrookRecords",
            dependencies: [
                "CCRC32C", "CZlib", "CSnappy", "CLZ4", "CZstd",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: Storage
        .target(
            name: "BrookStorage",
            dependencies: [
                "BrookModel", "BrookRecords",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: Raft quorum
        .target(
            name: "BrookRaft",
            dependencies: ["BrookModel", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSettings
        ),

        // MARK: Coordinators
        .target(
            name: "BrookCoordinator",
            dependencies: [
                "BrookModel", "BrookProtocol", "BrookRecords",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: Security: SCRAM and the other SASL mechanisms' cryptography, both ends
        .target(
            name: "BrookSecurity",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: Client
        .target(
            name: "BrookClient",
            dependencies: [
                "BrookModel", "BrookProtocol", "BrookRecords", "BrookSecurity",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: Broker
        .target(
            name: "BrookBroker",
            dependencies: [
                "BrookModel", "BrookProtocol", "BrookRecords", "BrookStorage", "BrookCoordinator", "BrookRaft", "BrookClient", "BrookSecurity",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: Tools
        .target(name: "BrookCodegenCore", swiftSettings: strictSettings),
        .executableTarget(
            name: "BrookCodegen",
            dependencies: ["BrookCodegenCore"],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "BrookCLI",
            dependencies: [
                "BrookBroker", "BrookClient", "BrookProtocol", "BrookRecords", "BrookStorage", "BrookModel", "BrookSecurity",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: Fuzzing (see Sources/BrookFuzzTargets/BrookFuzzTargets.docc)
        .target(
            name: "BrookFuzzTargets",
            dependencies: [
                "BrookBroker", "BrookCoordinator", "BrookProtocol", "BrookRecords", "BrookModel", "BrookRaft", "BrookSecurity",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "BrookFuzz",
            dependencies: ["BrookFuzzTargets"],
            swiftSettings: strictSettings + fuzzSettings
        ),

        // MARK: Tests
        .testTarget(
            name: "BrookProtocolTests",
            dependencies: [
                "BrookProtocol", "BrookCodegenCore", "BrookModel",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "BrookRecordsTests",
            dependencies: [
                "BrookRecords",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "BrookSecurityTests",
            dependencies: ["BrookSecurity", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "BrookRaftTests",
            dependencies: ["BrookRaft", "BrookModel", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "BrookStorageTests",
            dependencies: [
                "BrookStorage", "BrookRecords", "BrookModel",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "BrookBrokerTests",
            dependencies: [
                "BrookBroker", "BrookClient", "BrookProtocol", "BrookRecords", "BrookStorage", "BrookModel", "BrookRaft", "BrookSecurity",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "BrookCoordinatorTests",
            dependencies: [
                "BrookCoordinator", "BrookProtocol", "BrookRecords", "BrookModel",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "BrookClientTests",
            dependencies: [
                "BrookClient", "BrookBroker", "BrookCoordinator", "BrookProtocol", "BrookRecords", "BrookModel", "BrookStorage",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "BrookFuzzTargetsTests",
            dependencies: ["BrookFuzzTargets", "BrookRecords", .product(name: "NIOCore", package: "swift-nio")],
            resources: [.copy("Corpus"), .copy("Regressions")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "BrookCodegenTests",
            dependencies: ["BrookCodegenCore"],
            swiftSettings: strictSettings
        ),
    ]
)

// The benchmarks (ordo-one/benchmark) build only when asked for, so that `make test` does not
// pay for the harness: `make bench` sets BROOK_BENCHMARKS=1 and uses its own build folder.
if ProcessInfo.processInfo.environment["BROOK_BENCHMARKS"] != nil {
    package.dependencies.append(
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"])
    )
    package.targets.append(
        .executableTarget(
            name: "BrookBenchmarks",
            dependencies: [
                "BrookProtocol", "BrookRecords",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/BrookBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    )
}
