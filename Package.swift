// swift-tools-version:6.0
//
// PersonaForge: synthetic training data from persona-conditioned LLM generation.
//
// Module layout (see README "Architecture"):
//   C libraries     CHiredis, CCurl, CLibpq, CZlib  imported only by their one wrapper
//   Wrappers        PersonaForgeRedis, PersonaForgeHTTP, PersonaForgePostgres
//   Pure core       PersonaForgeCore                no I/O, no clock, no globals
//                   PersonaForgeCompression         zlib byte counting for the metrics (wraps CZlib)
//   Infrastructure  PersonaForgeSupport             thread executors, locks
//   Edges           PersonaForgeLLM (OpenAI-compatible client), PersonaForgeStore (schema)
//   Observability   PersonaForgeObservability       /metrics, /health, /ready (Hummingbird), log formats
//   Executable      personaforge (PersonaForgeCLI)
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "PersonaForge",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "personaforge", targets: ["PersonaForgeCLI"]),
        .executable(name: "personaforge-bench", targets: ["PersonaForgeBench"]),
        .executable(name: "personaforge-stub", targets: ["PersonaForgeStub"]),
        .executable(name: "personaforge-fuzz", targets: ["PersonaForgeFuzz"]),
        .library(name: "PersonaForgeCore", targets: ["PersonaForgeCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // MARK: C libraries
        // hiredis 0.14's pkg-config file carries a flag SwiftPM rejects: no pkgConfig here.
        .systemLibrary(name: "CHiredis", path: "Sources/CHiredis"),
        // libcurl's setters are C-variadic; CCurl adds typed shims around them.
        .target(
            name: "CCurl",
            path: "Sources/CCurl",
            linkerSettings: [.linkedLibrary("curl")]
        ),
        .systemLibrary(
            name: "CLibpq",
            path: "Sources/CLibpq",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // zlib for the gzip compression-ratio metric; imported only by PersonaForgeCompression.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),

        // MARK: Infrastructure
        .target(
            name: "PersonaForgeSupport",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),

        // MARK: Pure core
        // In-memory DEFLATE byte counting (pure computation, no I/O) for the diversity metrics.
        .target(name: "PersonaForgeCompression", dependencies: ["CZlib"], swiftSettings: swiftSettings),
        .target(
            name: "PersonaForgeCore",
            dependencies: [
                "PersonaForgeCompression",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Wrappers (the only modules that import C)
        .target(
            name: "PersonaForgeRedis",
            dependencies: ["CHiredis", "PersonaForgeSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PersonaForgePostgres",
            dependencies: ["CLibpq", "PersonaForgeSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PersonaForgeHTTP",
            dependencies: ["CCurl", "PersonaForgeSupport", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),

        // MARK: Edges built on the wrappers
        .target(
            name: "PersonaForgeLLM",
            dependencies: ["PersonaForgeHTTP", "PersonaForgeCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PersonaForgeStore",
            dependencies: ["PersonaForgePostgres", "PersonaForgeCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),

        // MARK: Observability: the HTTP endpoint for metrics and probes, log formats.
        // Libraries only take a MetricsFactory (CoreMetrics); the executable bootstraps.
        .target(
            name: "PersonaForgeObservability",
            dependencies: [
                "PersonaForgeSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: The LSH band index on Redis / Redis Cluster, partitioned by bucket
        .target(
            name: "PersonaForgeBandIndex",
            dependencies: ["PersonaForgeCore", "PersonaForgeRedis"],
            swiftSettings: swiftSettings
        ),

        // MARK: The pipeline: queue protocol, coordinator, worker, reducer
        .target(
            name: "PersonaForgeQueue",
            dependencies: ["PersonaForgeCore", "PersonaForgeRedis", "PersonaForgeSupport"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PersonaForgeCoordinator",
            dependencies: ["PersonaForgeQueue", "PersonaForgeStore", "PersonaForgeSupport", .product(name: "CoreMetrics", package: "swift-metrics"), .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PersonaForgeWorker",
            dependencies: ["PersonaForgeQueue", "PersonaForgeStore", "PersonaForgeLLM", "PersonaForgeSupport", .product(name: "CoreMetrics", package: "swift-metrics"), .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PersonaForgeReducer",
            dependencies: ["PersonaForgeQueue", "PersonaForgeStore", "PersonaForgeSupport", .product(name: "CoreMetrics", package: "swift-metrics"), .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),

        // MARK: Executable
        .executableTarget(
            name: "PersonaForgeCLI",
            dependencies: [
                "PersonaForgeCore", "PersonaForgeSupport", "PersonaForgeRedis", "PersonaForgePostgres",
                "PersonaForgeHTTP", "PersonaForgeLLM", "PersonaForgeStore",
                "PersonaForgeQueue", "PersonaForgeCoordinator", "PersonaForgeWorker", "PersonaForgeReducer",
                "PersonaForgeObservability", "PersonaForgeBandIndex",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Test kit (real servers on loopback, child processes)
        .target(name: "PersonaForgeTestSupport", swiftSettings: swiftSettings),

        // Benchmarks of MinHash, LSH and the PostgreSQL band index; run with `swift build -c release`.
        .executableTarget(
            name: "PersonaForgeBench",
            dependencies: ["PersonaForgeCore", "PersonaForgeStore", "PersonaForgePostgres", "PersonaForgeRedis", "PersonaForgeQueue",
                           "PersonaForgeBandIndex", "PersonaForgeHTTP", "PersonaForgeLLM", "PersonaForgeWorker", "PersonaForgeReducer", "PersonaForgeSupport",
                           "PersonaForgeTestSupport", .product(name: "Logging", package: "swift-log"), .product(name: "Prometheus", package: "swift-prometheus")],
            swiftSettings: swiftSettings
        ),

        // An instant OpenAI-compatible server (epoll, one thread) for benchmarks and load tests.
        .executableTarget(name: "PersonaForgeStub", swiftSettings: swiftSettings),
        // libFuzzer targets; deploy/local/fuzz.sh builds them with the sanitizers.
        .executableTarget(name: "PersonaForgeFuzz", dependencies: ["PersonaForgeCore", "PersonaForgeLLM"], swiftSettings: swiftSettings),

        // MARK: Tests
        .testTarget(name: "PersonaForgeCoreTests", dependencies: ["PersonaForgeCore", "PersonaForgeCompression"], swiftSettings: swiftSettings),
        .testTarget(
            name: "PersonaForgeBandIndexTests",
            dependencies: ["PersonaForgeBandIndex", "PersonaForgeCore", "PersonaForgeRedis", "PersonaForgeTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PersonaForgeRedisTests",
            dependencies: ["PersonaForgeRedis", "PersonaForgeTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PersonaForgePostgresTests",
            dependencies: ["PersonaForgePostgres", "PersonaForgeStore", "PersonaForgeCore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PersonaForgeHTTPTests",
            dependencies: ["PersonaForgeHTTP", "PersonaForgeTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PersonaForgeWorkerTests",
            dependencies: ["PersonaForgeWorker", "PersonaForgeRedis", "PersonaForgeLLM", "PersonaForgeHTTP", "PersonaForgeTestSupport", "PersonaForgeSupport", "PersonaForgeCore",
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PersonaForgeLLMTests",
            dependencies: ["PersonaForgeLLM", "PersonaForgeTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PersonaForgeCLITests",
            // Depends on the executable so that `swift test` builds `personaforge` before running it.
            dependencies: ["PersonaForgeCore", "PersonaForgeCLI", "PersonaForgeStore", "PersonaForgePostgres", "PersonaForgeRedis",
                           "PersonaForgeTestSupport", .product(name: "Yams", package: "Yams"), .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PersonaForgeObservabilityTests",
            dependencies: ["PersonaForgeObservability", "PersonaForgeHTTP", "PersonaForgeTestSupport",
                           .product(name: "CoreMetrics", package: "swift-metrics"), .product(name: "Logging", package: "swift-log"),
                           .product(name: "Prometheus", package: "swift-prometheus")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PersonaForgePipelineTests",
            dependencies: ["PersonaForgeCLI", "PersonaForgeCore", "PersonaForgePostgres", "PersonaForgeRedis", "PersonaForgeHTTP",
                           "PersonaForgeReducer", "PersonaForgeStore", "PersonaForgeQueue", "PersonaForgeTestSupport",
                           .product(name: "Logging", package: "swift-log"), .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
