// swift-tools-version: 6.1
// The benchmarks live in their own package so that `make test` never builds the benchmark tooling.
// Run them with `make bench` (or `cd Benchmarks && swift package benchmark`).
import PackageDescription

let package = Package(
    name: "klogs-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "klogs", path: ".."),
        .package(url: "https://github.com/ordo-one/package-benchmark", from: "1.29.0", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "IngestBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "KlogsCore", package: "klogs"),
                .product(name: "KlogsIngest", package: "klogs"),
                .product(name: "KlogsGenerator", package: "klogs"),
                .product(name: "KlogsUserAgent", package: "klogs"),
                .product(name: "KlogsParquet", package: "klogs"),
            ],
            path: "Benchmarks/IngestBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]),
        .executableTarget(
            name: "QueryBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "KlogsIngest", package: "klogs"),
                .product(name: "KlogsGenerator", package: "klogs"),
                .product(name: "KlogsQuery", package: "klogs"),
            ],
            path: "Benchmarks/QueryBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]),
    ]
)
