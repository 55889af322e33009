// swift-tools-version: 6.1
// libFuzzer targets for klogs' input surfaces. A separate package so that `make test` never builds them (they need
// `-sanitize=fuzzer,address`). Build and run them with `make fuzz` (see README, "Fuzzing").
import PackageDescription

/// One fuzz target: an executable whose only entry point is `LLVMFuzzerTestOneInput`; libFuzzer provides `main`.
func fuzzTarget(_ name: String, _ products: [String]) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["FuzzSupport"] + products.map { .product(name: $0, package: "klogs") },
        swiftSettings: [.unsafeFlags(["-parse-as-library"])])
}

let package = Package(
    name: "klogs-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "klogs", path: "..")],
    targets: [
        // Invariant checks and input helpers shared by the targets.
        .target(name: "FuzzSupport", dependencies: [.product(name: "KlogsCore", package: "klogs")]),
        fuzzTarget("FuzzLineParser", ["KlogsCore"]),
        fuzzTarget("FuzzCustomFormat", ["KlogsCore"]),
        fuzzTarget("FuzzFormatCompiler", ["KlogsCore"]),
        fuzzTarget("FuzzInputReader", ["KlogsCore", "KlogsIngest"]),
        fuzzTarget("FuzzParquetReader", ["KlogsParquet"]),
        fuzzTarget("FuzzUserAgent", ["KlogsUserAgent"]),
        fuzzTarget("FuzzConfig", ["KlogsIngest"]),
    ]
)
