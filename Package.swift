// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "klogs",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "klogs", targets: ["klogs"]),
        .library(name: "KlogsCore", targets: ["KlogsCore"]),
        .library(name: "KlogsParquet", targets: ["KlogsParquet"]),
        .library(name: "KlogsUserAgent", targets: ["KlogsUserAgent"]),
        .library(name: "KlogsIngest", targets: ["KlogsIngest"]),
        .library(name: "KlogsGenerator", targets: ["KlogsGenerator"]),
        .library(name: "KlogsQuery", targets: ["KlogsQuery"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // C libraries from Debian's -dev packages, reached through shim headers.
        // zlib only writes the tests' gzip files; klogs reads gzip with ISA-L's inflate, about 2.5 times as fast.
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CIsal", pkgConfig: "libisal",
            providers: [.apt(["libisal-dev"])]),
        .systemLibrary(
            name: "CLZ4", pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(
            name: "CPCRE2", pkgConfig: "libpcre2-8",
            providers: [.apt(["libpcre2-dev"])]),

        // One C inline function Swift lacks: a prefetch hint (header only).
        .target(name: "CPrefetch"),

        // Pure Swift: line splitting, log formats, timestamps, addresses, pseudonyms, aggregation.
        .target(name: "KlogsCore"),
        // Knows nothing about logs: Thrift compact protocol, encodings, pages, writer and reader.
        .target(name: "KlogsParquet", dependencies: ["CLZ4"]),
        // uap-core rules compiled with PCRE2, prefilter, cache, device classes.
        .target(
            name: "KlogsUserAgent",
            dependencies: ["CPCRE2", "CPrefetch", .product(name: "Yams", package: "Yams")]),
        // The I/O edge: inputs and decompression, the dataset writer, the pipeline.
        .target(
            name: "KlogsIngest",
            dependencies: [
                "KlogsCore", "KlogsParquet", "KlogsUserAgent", "CIsal", "CLZ4",
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Reads the dataset: partition pruning, filters, group-by, top-N, and the renderers (table, CSV, JSON, HTML).
        .target(name: "KlogsQuery", dependencies: ["KlogsCore", "KlogsParquet", "KlogsIngest"]),
        // A deterministic, seeded generator of realistic access logs (tests, benchmarks, demo).
        .target(name: "KlogsGenerator"),
        // The command-line tool: argument parsing only.
        .executableTarget(
            name: "klogs",
            dependencies: [
                "KlogsIngest", "KlogsQuery", "KlogsGenerator", "KlogsUserAgent",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        .target(name: "KlogsTestSupport", dependencies: ["KlogsGenerator"], path: "Tests/KlogsTestSupport"),
        .testTarget(name: "KlogsCoreTests", dependencies: ["KlogsCore", "KlogsTestSupport"]),
        .testTarget(name: "KlogsParquetTests", dependencies: ["KlogsParquet", "KlogsTestSupport"]),
        .testTarget(name: "KlogsUserAgentTests", dependencies: ["KlogsUserAgent", "KlogsTestSupport"]),
        .testTarget(name: "KlogsQueryTests", dependencies: ["KlogsQuery", "KlogsIngest", "KlogsTestSupport"]),
        // The command-line tool's own logic (the progress bar's layout); the commands are tested end to end in
        // Tests/interop and Tests/packaging.
        .testTarget(name: "KlogsCommandTests", dependencies: ["klogs"]),
        .testTarget(
            name: "KlogsIngestTests",
            dependencies: ["KlogsIngest", "KlogsCore", "KlogsParquet", "KlogsTestSupport", "CZlib", "CLZ4"]),
    ]
)

// Compiler settings in one place.
for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    // Release builds: inline across modules, and skip the dynamic exclusivity checks, which cost about 10% of
    // an ingest (swift_beginAccess on every column append; measured with perf on 1M generated lines). The static
    // checks stay, and debug builds (the test suite) keep the dynamic ones.
    settings.append(
        .unsafeFlags(["-cross-module-optimization", "-enforce-exclusivity=unchecked"], .when(configuration: .release)))
    target.swiftSettings = settings
}
