import KlogsCore
import Testing

@Suite("Timestamps")
struct TimestampTests {
    func common(_ text: String) -> Int64? {
        Array(text.utf8).withUnsafeBytes { Timestamp.parseCommonLog($0) }
    }

    func cached(_ texts: [String]) -> [Int64?] {
        var parser = CommonLogTimeParser()
        return texts.map { text in Array(text.utf8).withUnsafeBytes { parser.parse($0) } }
    }

    func iso(_ text: String) -> Int64? {
        Array(text.utf8).withUnsafeBytes { Timestamp.parseISO8601($0) }
    }

    @Test("Common-log times convert to UTC epoch milliseconds", arguments: [
        ("10/Oct/2000:13:55:36 -0700", "2000-10-10T20:55:36Z"),
        ("01/Jan/1970:00:00:00 +0000", "1970-01-01T00:00:00Z"),
        ("01/Jan/1970:00:00:00 +0100", "1969-12-31T23:00:00Z"),
        ("29/Feb/2024:12:00:00 +0000", "2024-02-29T12:00:00Z"),
        ("29/Feb/2000:23:59:59 +0000", "2000-02-29T23:59:59Z"),
        ("19/Jan/2038:03:14:07 +0000", "2038-01-19T03:14:07Z"),
        ("19/Jan/2038:03:14:08 +0000", "2038-01-19T03:14:08Z"),
        ("31/Dec/9999:23:59:59 +0000", "9999-12-31T23:59:59Z"),
        ("01/Jan/2024:00:00:00 +1400", "2023-12-31T10:00:00Z"),
        ("01/Jan/2024:00:00:00 -1200", "2024-01-01T12:00:00Z"),
        ("01/Jul/1995:00:00:01 -0400", "1995-07-01T04:00:01Z"),
        ("15/Mar/2021:08:30:00 +0530", "2021-03-15T03:00:00Z"),
        ("31/Dec/2016:23:59:60 +0000", "2017-01-01T00:00:00Z"),
    ])
    func commonLog(text: String, utc: String) {
        #expect(common(text) == foundationEpochMilliseconds(utc))
        #expect(cached([text, text]) == [common(text), common(text)])
    }

    @Test("Impossible common-log times are rejected", arguments: [
        "29/Feb/2023:00:00:00 +0000", "29/Feb/1900:00:00:00 +0000", "31/Apr/2024:00:00:00 +0000",
        "31/Jun/2024:00:00:00 +0000", "32/Jan/2024:00:00:00 +0000", "00/Jan/2024:00:00:00 +0000",
        "01/Jan/2024:24:00:00 +0000", "01/Jan/2024:00:60:00 +0000", "01/Jan/2024:00:00:61 +0000",
        "01/Jan/2024:00:00:00 +1401", "01/Jan/2024:00:00:00 -1500", "01/Jan/2024:00:00:00 +0060",
        "01/JAN/2024:00:00:00 +0000", "1/Jan/2024:00:00:00 +0000", "01/Jan/2024:00:00:00 0000",
        "01/Jan/2024 00:00:00 +0000", "01/Jan/2024:00:00:00 +00000", "",
    ])
    func invalidCommonLog(text: String) {
        #expect(common(text) == nil)
        #expect(cached([text]) == [nil])
    }

    @Test("The minute cache gives the same result as a full parse")
    func minuteCache() {
        let texts = [
            "10/Oct/2000:13:55:36 -0700", "10/Oct/2000:13:55:59 -0700", "10/Oct/2000:13:55:00 -0700",
            "10/Oct/2000:13:55:00 +0700", "10/Oct/2000:13:56:00 +0700", "10/Oct/2000:13:56:6x +0700",
            "10/Oct/2000:13:56:07 +0700", "11/Oct/2000:13:56:07 +0700", "11/Oct/2001:13:56:07 +0700",
        ]
        #expect(cached(texts) == texts.map(common))
        #expect(cached(texts)[5] == nil)
    }

    @Test("ISO-8601 times with zones and fractions", arguments: [
        ("2000-10-10T13:55:36-07:00", "2000-10-10T20:55:36Z", 0),
        ("2000-10-10T20:55:36Z", "2000-10-10T20:55:36Z", 0),
        ("2000-10-10t20:55:36z", "2000-10-10T20:55:36Z", 0),
        ("2000-10-10 20:55:36+00:00", "2000-10-10T20:55:36Z", 0),
        ("2000-10-10T22:55:36+0200", "2000-10-10T20:55:36Z", 0),
        ("2000-10-10T20:55:36.5Z", "2000-10-10T20:55:36Z", 500),
        ("2000-10-10T20:55:36.123Z", "2000-10-10T20:55:36Z", 123),
        ("2000-10-10T20:55:36.123456789+00:00", "2000-10-10T20:55:36Z", 123),
        ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z", 0),
        ("2024-02-29T00:00:00+14:00", "2024-02-28T10:00:00Z", 0),
    ])
    func isoTimes(text: String, utc: String, milliseconds: Int64) {
        #expect(iso(text) == foundationEpochMilliseconds(utc) + milliseconds)
    }

    @Test("Invalid ISO-8601 times are rejected", arguments: [
        "2000-10-10T13:55:36", "2023-02-29T00:00:00Z", "2000-10-10T13:55:36.Z", "2000-10-10T13:55:36+7:00",
        "2000-10-10T13:55:36+15:00", "2000-13-10T13:55:36Z", "2000-10-10X13:55:36Z", "2000-10-10T13:55:36Zjunk",
        "2000-10-10T13:55:36.1234567890Z", "",
    ])
    func invalidISOTimes(text: String) {
        #expect(iso(text) == nil)
    }

    @Test("UTC dates and hour starts of epoch milliseconds")
    func datesAndHours() {
        let time = foundationEpochMilliseconds("2000-10-10T20:55:36Z") + 123
        #expect(Timestamp.dateText(time) == "2000-10-10")
        #expect(Timestamp.hourStart(time) == foundationEpochMilliseconds("2000-10-10T20:00:00Z"))
        #expect(Timestamp.dayStart(time) == foundationEpochMilliseconds("2000-10-10T00:00:00Z"))
        #expect(Timestamp.dateText(-1) == "1969-12-31")
        #expect(Timestamp.hourStart(-1) == -3_600_000)
        #expect(Timestamp.dateText(0) == "1970-01-01")
        #expect(Timestamp.dateText(foundationEpochMilliseconds("9999-12-31T23:59:59Z")) == "9999-12-31")
        #expect(Timestamp.dateText(dayNumber: 19_683) == "2023-11-22")
        let date = Timestamp.utcDate(foundationEpochMilliseconds("2024-02-29T23:59:59Z"))
        #expect(date.year == 2024 && date.month == 2 && date.day == 29)
    }

    @Test("Days from civil and back agree over four centuries")
    func civilRoundTrip() {
        var day = Timestamp.daysFromCivil(year: 1900, month: 1, day: 1)
        for year in 1900...2300 {
            for month in 1...12 {
                for dayOfMonth in 1...Timestamp.daysInMonth(month, year: year) {
                    let date = Timestamp.civilFromDays(day)
                    #expect(date.year == year && date.month == month && date.day == dayOfMonth)
                    #expect(Timestamp.daysFromCivil(year: year, month: month, day: dayOfMonth) == day)
                    day += 1
                }
            }
        }
    }
}
