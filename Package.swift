// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "omnifin",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "omnifin", targets: ["omnifin"]),
        .library(name: "Index", targets: ["Index"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        // The generic CBLAS interface (Debian's libblas-dev); OpenBLAS answers behind libblas.so.3 at run time.
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .target(
            name: "Index",
            dependencies: ["CBLAS"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "OmnifinBenchmarks",
            dependencies: ["Index"],
            path: "Benchmarks/Sources/OmnifinBenchmarks",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "omnifin",
            dependencies: [
                "Index",
                "OmnifinBenchmarks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IndexTests",
            dependencies: ["Index"],
            swiftSettings: swiftSettings
        ),
    ]
)
