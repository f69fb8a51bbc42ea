// swift-tools-version: 6.2
import Foundation
import PackageDescription

// whisper.cpp, built as static libraries outside the clone by `make whisper` (scripts/build-whisper.sh).
let whisperPrefix =
    ProcessInfo.processInfo.environment["OMNIFIN_WHISPER_PREFIX"]
    ?? (ProcessInfo.processInfo.environment["HOME"] ?? "/root") + "/.cache/omnifin/whisper.cpp/1.8.5"

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

// The index and the encoder are hot loops over raw buffers and SIMD lanes; unoptimised they run 10 to 20 times
// slower, which makes the debug test suite crawl. They are optimised in debug builds too (still testable).
let optimizedSettings = swiftSettings + [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "omnifin",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "omnifin", targets: ["omnifin"]),
        .executable(name: "omnifin-fuzz", targets: ["OmnifinFuzz"]),
        .library(name: "Index", targets: ["Index"]),
        .library(name: "Retrieval", targets: ["Retrieval"]),
        .library(name: "Storage", targets: ["Storage"]),
        .library(name: "Ingest", targets: ["Ingest"]),
        .library(name: "Chat", targets: ["Chat"]),
        .library(name: "Voice", targets: ["Voice"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // The generic CBLAS interface (Debian's libblas-dev); OpenBLAS answers behind libblas.so.3 at run time.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        // eSpeak NG (speech out) from Debian's libespeak-ng-dev, behind a small C layer (its synthesis calls back).
        .target(name: "CVoice", linkerSettings: [.linkedLibrary("espeak-ng")]),
        // whisper.cpp (speech in) behind a C layer of our own, so that only this target needs its headers. Its static
        // libraries are C++: the C++ runtime comes with them.
        .target(
            name: "CWhisper",
            cSettings: [.unsafeFlags(["-I\(whisperPrefix)/include"])],
            linkerSettings: [
                .unsafeFlags(["-L\(whisperPrefix)/lib"]),
                .linkedLibrary("whisper"), .linkedLibrary("ggml"), .linkedLibrary("ggml-cpu"), .linkedLibrary("ggml-base"),
                .linkedLibrary("stdc++"), .linkedLibrary("m"),
            ]
        ),
        // Child processes that cannot outlive Omnifin (the local LLM engine): fork and exec with a parent-death signal.
        .target(name: "CProcess"),
        // Every setting read from the environment, in one place; the other targets get typed values.
        .target(name: "Settings", swiftSettings: swiftSettings),
        .target(
            name: "Index",
            dependencies: ["CBLAS"],
            swiftSettings: optimizedSettings
        ),
        .target(
            name: "Storage",
            dependencies: [
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Retrieval",
            dependencies: [
                "Index",
                "Storage",
                "Settings",
                "CBLAS",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: optimizedSettings
        ),
        .target(
            name: "Ingest",
            dependencies: ["Retrieval", "Storage"],
            swiftSettings: swiftSettings
        ),
        // Accounts outside HTTP: the rules an account must satisfy, bcrypt, tokens, who may sign up, creating one.
        .target(
            name: "Accounts",
            dependencies: [
                "Storage",
                "Settings",
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // A turn of the chat: retrieval for the question, the prompt, the generators, citations, evaluation.
        .target(
            name: "Chat",
            dependencies: [
                "CProcess",
                "Retrieval",
                "Storage",
                "Settings",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Speech in and out, and the knowledge bank's speech language model.
        .target(
            name: "Voice",
            dependencies: [
                "CVoice",
                "CWhisper",
                "Retrieval",
                "Settings",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Small protocol clients: RESP for Redis, SMTP for mail.
        .target(
            name: "Redis",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Mail",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: swiftSettings
        ),
        // HTTP only: the application, its middleware, controllers, services and web pages.
        .target(
            name: "ChatAPI",
            dependencies: [
                "Retrieval",
                "Ingest",
                "Storage",
                "Accounts",
                "Chat",
                "Voice",
                "Redis",
                "Mail",
                "Settings",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Resources/openapi.json"), .copy("Resources/web")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "OmnifinBenchmarks",
            dependencies: ["Index", "Retrieval", "Storage", "Voice", "Chat", "Ingest"],
            path: "Benchmarks/Sources/OmnifinBenchmarks",
            swiftSettings: swiftSettings
        ),
        // Fuzz targets for every parser of outside data (make fuzz builds them with libFuzzer).
        .executableTarget(
            name: "OmnifinFuzz",
            dependencies: [
                "Index", "Retrieval", "Ingest", "Voice", "Chat", "ChatAPI", "Settings", "Storage",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "omnifin",
            dependencies: [
                "Index",
                "Retrieval",
                "Storage",
                "ChatAPI",
                "Ingest",
                "Accounts",
                "Chat",
                "Voice",
                "Settings",
                "OmnifinBenchmarks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IndexTests",
            dependencies: ["Index"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "OmnifinCLITests",
            dependencies: ["Index", "Retrieval", "Storage", "StoreTesting", "omnifin"],
            swiftSettings: swiftSettings
        ),
        // Fresh SQLite files and PostgreSQL databases for the tests of every target that stores something.
        .target(
            name: "StoreTesting",
            dependencies: [
                "Storage",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/StoreTesting",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ChatAPITests",
            dependencies: [
                "ChatAPI",
                "Accounts",
                "Chat",
                "Voice",
                "Redis",
                "Mail",
                "Settings",
                "Ingest",
                "Retrieval",
                "Storage",
                "StoreTesting",
                "ServerTesting",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        // Test servers several test targets start: Redis, an SMTP server, self-signed certificates.
        .target(
            name: "ServerTesting",
            dependencies: ["Redis"],
            path: "Tests/ServerTesting",
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SettingsTests", dependencies: ["Settings"], swiftSettings: swiftSettings),
        .testTarget(name: "AccountsTests", dependencies: ["Accounts", "Settings", "Storage", "StoreTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "ChatTests",
            dependencies: ["Chat", "Retrieval", "Storage", "StoreTesting", .product(name: "Logging", package: "swift-log")],
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "VoiceTests", dependencies: ["Voice", "Retrieval", "Ingest", "Storage"], swiftSettings: swiftSettings),
        .testTarget(
            name: "RedisTests", dependencies: ["Redis", "ServerTesting", .product(name: "NIOCore", package: "swift-nio")], swiftSettings: swiftSettings),
        .testTarget(name: "MailTests", dependencies: ["Mail", "ServerTesting"], swiftSettings: swiftSettings),
        .testTarget(
            name: "IngestTests",
            dependencies: ["Ingest", "Retrieval", "Storage", "StoreTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StorageTests",
            dependencies: ["Storage", "StoreTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RetrievalTests",
            dependencies: [
                "Retrieval",
                "Index",
                "Storage",
                "StoreTesting",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
    ]
)
