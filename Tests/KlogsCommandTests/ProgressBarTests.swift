import Testing

@testable import klogs

@Suite("The progress bar's line")
struct ProgressBarTests {
    /// A line half-way through a 200 MB gzip file at 1.2 M lines/s, 9 s left.
    private func line(input: String = "/var/log/nginx/access.log.2.gz", width: Int) -> String {
        ProgressBar.render(
            input: input, bytesDone: 100_000_000, totalBytes: 200_000_000, linesPerSecond: 1_234_567,
            secondsLeft: 9, width: width)
    }

    @Test("Holds the name, the bar, the percentage, bytes done of total, the line rate and the time left")
    func fullLine() {
        #expect(
            line(width: 100)
                == "/var/log/nginx/access.log.2.gz [#######.......]  50%  100.0 MB of 200.0 MB  1.23 M lines/s  ETA 0:09")
    }

    @Test("Is never wider than the terminal, and a line with a bar fills it", arguments: [30, 40, 60, 70, 79, 80, 100, 200])
    func width(columns: Int) {
        let text = line(width: columns)
        #expect(text.count <= columns)
        if text.contains("[") { #expect(text.count == columns) }
    }

    @Test("On a narrower terminal the name is cut from the left, then the bar goes, then the name")
    func narrowing() {
        #expect(line(width: 80) == "…access.log.2.gz [####....]  50%  100.0 MB of 200.0 MB  1.23 M lines/s  ETA 0:09")
        #expect(line(width: 70) == "…/access.log.2.gz  50%  100.0 MB of 200.0 MB  1.23 M lines/s  ETA 0:09")
        #expect(line(width: 60) == " 50%  100.0 MB of 200.0 MB  1.23 M lines/s  ETA 0:09")
        #expect(line(width: 40) == " 50%  100.0 MB of 200.0 MB  1.23 M lines")
    }

    @Test("A name of 40 characters or fewer is kept whole on a wide terminal")
    func wholeName() {
        #expect(line(input: "a.log", width: 200).hasPrefix("a.log [#"))
        #expect(line(input: String(repeating: "x", count: 50), width: 200).hasPrefix("…" + String(repeating: "x", count: 39) + " ["))
    }

    @Test("The bar fills with the fraction done, and is full at the end")
    func filling() {
        let start = ProgressBar.render(
            input: "a.log", bytesDone: 0, totalBytes: 1_000, linesPerSecond: nil, secondsLeft: nil, width: 60)
        #expect(start == "a.log [..........]   0%  0 B of 1.0 kB  … lines/s  ETA --:--")
        let end = ProgressBar.render(
            input: "a.log", bytesDone: 1_000, totalBytes: 1_000, linesPerSecond: 10, secondsLeft: 0, width: 70)
        #expect(end == "a.log [#################] 100%  1.0 kB of 1.0 kB  10 lines/s  ETA 0:00")
    }

    @Test("Without a known size there is no bar, percentage or time left")
    func unknownSize() {
        let text = ProgressBar.render(
            input: "pipe", bytesDone: 5_000_000, totalBytes: nil, linesPerSecond: 25_000, secondsLeft: nil, width: 80)
        #expect(text == "pipe 5.0 MB  25.0 k lines/s")
    }

    @Test(
        "Byte counts use decimal units with one decimal",
        arguments: [
            (Int64(0), "0 B"), (999, "999 B"), (1_000, "1.0 kB"), (12_345, "12.3 kB"), (223_400_000, "223.4 MB"),
            (1_250_000_000, "1.2 GB"),
        ])
    func bytes(count: Int64, text: String) {
        #expect(ProgressBar.bytes(count) == text)
    }

    @Test("Rates are whole below a thousand, then k and M", arguments: [
        (0.4, "0"), (850.0, "850"), (12_500.0, "12.5 k"), (999_949.0, "999.9 k"), (1_210_000.0, "1.21 M"),
    ])
    func rates(perSecond: Double, text: String) {
        #expect(ProgressBar.rate(perSecond) == text)
    }

    @Test("Time left reads m:ss, then h:mm:ss, rounded up; no estimate is --:--", arguments: [
        (Double?.some(0), "0:00"), (0.2, "0:01"), (59, "0:59"), (65, "1:05"), (3_725, "1:02:05"), (nil, "--:--"),
        (.infinity, "--:--"), (-1, "--:--"),
    ])
    func timeLeft(seconds: Double?, text: String) {
        #expect(ProgressBar.duration(seconds) == text)
    }
}
