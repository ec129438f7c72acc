// swift-tools-version:6.1
import PackageDescription

// The numeric kernels want vector FMA. x86-64-v3 (AVX2 + FMA, every x86 server since 2013)
// is the portable choice; `-target-cpu native` is faster on AVX-512 hosts but crashes elsewhere.
// Package.swift is compiled for the host, so `arch` here is the machine that builds Orbit.
#if arch(x86_64)
let vectorISA: [String] = ["-Xcc", "-march=x86-64-v3"]
#else
let vectorISA: [String] = []
#endif

let numericSettings: [SwiftSetting] = [
    .unsafeFlags(vectorISA),
    .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "Orbit",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "orbit", targets: ["OrbitCLI"]),
        .library(name: "OrbitCore", targets: ["OrbitCore"]),
        .library(name: "OrbitStore", targets: ["OrbitStore"]),
        .library(name: "OrbitSynth", targets: ["OrbitSynth"]),
        .library(name: "OrbitRecommend", targets: ["OrbitRecommend"]),
        .library(name: "NeuMF", targets: ["NeuMF"]),
        .library(name: "OrbitEval", targets: ["OrbitEval"]),
        .library(name: "VectorIndex", targets: ["VectorIndex"]),
        .library(name: "OrbitPostgres", targets: ["OrbitPostgres"]),
        .library(name: "Ranking", targets: ["Ranking"]),
        .library(name: "OrbitEngine", targets: ["OrbitEngine"]),
        .library(name: "OrbitServer", targets: ["OrbitServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // layer 0: vocabulary
        .target(name: "OrbitCore", swiftSettings: numericSettings),

        // layer 1: parts
        .target(name: "NeuMF", swiftSettings: numericSettings),
        .target(name: "VectorIndex", swiftSettings: numericSettings),
        .target(name: "OrbitSynth", dependencies: ["OrbitCore"], swiftSettings: numericSettings),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // XGBoost's C API (Debian's libxgboost-dev): the learner of the ranking stage.
        .systemLibrary(name: "CXGBoost", pkgConfig: "xgboost", providers: [.apt(["libxgboost-dev"])]),
        .target(name: "Ranking", dependencies: ["CXGBoost"]),
        .target(
            name: "OrbitStore",
            dependencies: ["OrbitCore", "CZlib", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(
            name: "OrbitPostgres",
            dependencies: [
                "OrbitCore", "OrbitStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // layer 2: logic
        .target(name: "OrbitRecommend", dependencies: ["OrbitCore", "NeuMF", "VectorIndex", "Ranking"], swiftSettings: numericSettings),
        .target(name: "OrbitEval", dependencies: ["OrbitCore", "NeuMF", "OrbitRecommend", "Ranking"], swiftSettings: numericSettings),

        // layer 3: engine (what the CLI and the server share: stores, training plan, recommenders)
        .target(
            name: "OrbitEngine",
            dependencies: [
                "OrbitCore", "OrbitStore", "OrbitPostgres", "OrbitRecommend", "OrbitEval", "NeuMF", "VectorIndex", "Ranking",
                .product(name: "Logging", package: "swift-log"),
            ]),

        // layer 4: applications
        .target(
            name: "OrbitServer",
            dependencies: [
                "OrbitCore", "OrbitStore", "OrbitEngine", "OrbitRecommend", "NeuMF",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        .executableTarget(
            name: "OrbitCLI",
            dependencies: [
                "OrbitCore", "OrbitStore", "OrbitSynth", "OrbitRecommend", "NeuMF", "OrbitEval",
                "OrbitEngine", "OrbitServer", "Ranking",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        .testTarget(name: "OrbitCoreTests", dependencies: ["TestThreads", "OrbitCore"]),
        .testTarget(name: "RankingTests", dependencies: ["TestThreads", "Ranking"]),
        // Every test suite runs on threads of its own (`@Suite(.testThreads)`), not on the cooperative pool.
        .target(name: "TestThreads", path: "Tests/TestThreads"),
        // Fixtures shared by the two store test targets.
        .target(name: "StoreTestSupport", dependencies: ["OrbitStore", "OrbitPostgres"], path: "Tests/StoreTestSupport"),
        .testTarget(name: "OrbitStoreTests", dependencies: ["TestThreads", "OrbitStore", "OrbitSynth", "StoreTestSupport"]),
        .testTarget(name: "OrbitSynthTests", dependencies: ["TestThreads", "OrbitSynth"]),
        .testTarget(name: "OrbitRecommendTests", dependencies: ["TestThreads", "OrbitRecommend", "OrbitStore", "Ranking"]),
        .testTarget(name: "VectorIndexTests", dependencies: ["TestThreads", "VectorIndex"]),
        .testTarget(name: "NeuMFTests", dependencies: ["TestThreads", "NeuMF"]),
        .testTarget(name: "OrbitEvalTests", dependencies: ["TestThreads", "OrbitEval", "NeuMF", "OrbitSynth"]),
        .testTarget(name: "OrbitEngineTests", dependencies: ["TestThreads", "OrbitEngine", "OrbitStore", "OrbitSynth", "StoreTestSupport"]),
        // One store suite, run against SQLite and PostgreSQL.
        .testTarget(
            name: "StoreConformanceTests", dependencies: ["TestThreads", "OrbitStore", "OrbitPostgres", "OrbitSynth", "StoreTestSupport"]),
        .testTarget(
            name: "OrbitServerTests",
            dependencies: [
                "TestThreads",
                "OrbitServer", "OrbitEngine", "OrbitRecommend", "OrbitStore", "OrbitPostgres", "OrbitSynth", "NeuMF", "StoreTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
