// Per-line cost of the anonymisation steps, outside the ingest (KlogsCore compiled into one executable).
//
//   .build/debug/klogs generate --lines 300000 --start 2026-11-21 --output /tmp/privexp/b3.log
//   swiftc -O -wmo -enforce-exclusivity=unchecked -parse-as-library -module-name KlogsCore \
//       $(find Sources/KlogsCore -name "*.swift") scripts/privacy-microbench.swift -o /tmp/privacy-bench && /tmp/privacy-bench
//
// Each figure is the extra time over parsing alone, best of five passes; interning and writing are not included.
import Glibc

@main struct Bench {
    static func now() -> Double { var t = timespec(); clock_gettime(CLOCK_MONOTONIC, &t); return Double(t.tv_sec) * 1e9 + Double(t.tv_nsec) }
    static func main() {
        let file = fopen(CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "/tmp/privexp/b3.log", "r")!
        var lines: [[UInt8]] = []
        var buffer = [CChar](repeating: 0, count: 65536)
        while fgets(&buffer, 65536, file) != nil {
            var bytes = Array(buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) })
            if bytes.last == 10 { bytes.removeLast() }
            lines.append(bytes)
        }
        let n = lines.count
        var parser = AccessLogParser(format: .combined)
        var record = AccessRecord()
        let pseudonym = VisitorPseudonym(key: SipHashKey(k0: 1, k1: 2))
        let selector = ForwardedClientSelector(trustedProxies: [NetworkPrefix("10.0.0.0/8")!, NetworkPrefix("192.168.0.0/16")!])
        let stored = StoredPath(keptQueryParameters: ["utm_source", "utm_medium"], maximumLength: 1024)
        var scratch: [UInt8] = []; scratch.reserveCapacity(2048)
        var sink: Int64 = 0
        func run(_ name: String, _ body: (inout AccessRecord) -> Int64) -> Double {
            var best = Double.infinity
            for _ in 0..<5 {
                let start = now()
                for line in lines {
                    line.withUnsafeBytes { bytes in
                        if parser.parse(bytes, into: &record) == nil { sink &+= body(&record) }
                    }
                }
                best = min(best, (now() - start) / Double(n))
            }
            return best
        }
        let base = run("parse") { _ in 0 }
        let hash = run("hash") { r in
            let client = ClientIdentity(r.client)
            return pseudonym.pseudonym(client: client, userAgent: r.userAgent ?? UnsafeRawBufferPointer(start: nil, count: 0), virtualHost: r.virtualHost)
        }
        let truncate = run("truncate") { r in
            guard case .address(let a) = ClientIdentity(r.client) else { return 0 }
            scratch.removeAll(keepingCapacity: true)
            a.appendNetwork(prefixLength: a.family == .ipv4 ? 24 : 48, to: &scratch)
            return Int64(scratch.count)
        }
        let path = run("path") { r in
            if stored.isUnchanged(path: r.path, query: r.query) { return Int64(r.path.count) }
            stored.write(path: r.path, query: r.query, into: &scratch)
            return Int64(scratch.count)
        }
        let pathDefault = run("pathDefault") { r in
            stored.isUnchanged(path: r.path, query: nil) ? Int64(r.path.count) : 0
        }
        let xff = run("xff") { r in
            switch selector.select(forwardedFor: ForwardedClientSelector.clientList(of: r), peer: nil) {
            case .address(let a): return Int64(bitPattern: a.low)
            case .token(let t): return Int64(t.count)
            }
        }
        let referrer = run("referrer") { r in
            guard let ref = r.referrer else { return 0 }
            let kind = ReferrerHost.extract(ref, into: &scratch)
            if kind == .host, scratch.withUnsafeBytes({ AddressMasking.containsAddress($0) }) { return 1 }
            return Int64(scratch.count)
        }
        print("lines \(n), parse \(Int(base)) ns/line")
        for (name, value) in [("hash (client id + SipHash pseudonym)", hash), ("truncate (network text)", truncate), ("stored path (mask check, query filter, cap)", path), ("stored path, default (no kept params)", pathDefault), ("x-forwarded-for selection", xff), ("referrer host + address check", referrer)] {
            print("\(name): +\(Int((value - base).rounded())) ns/line")
        }
        print(sink == 42 ? "" : " ")
    }
}
