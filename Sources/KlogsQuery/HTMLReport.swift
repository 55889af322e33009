import KlogsIngest

/// The self-contained HTML report: one file, no network, no external assets.
///
/// Charts are inline SVG (time series, bot share) and tables with bars (rankings), so every chart has a real table
/// with the same numbers and a text alternative. The layout is one column on a phone and a grid on a desktop, and
/// prints on paper (tables are opened before printing). A small inline script only records script errors and opens
/// the number tables for printing; the report reads the same without it.
public enum HTMLReport {
    public static func render(_ data: ReportData) -> String {
        var body = ""
        body += "<header><h1>Visits</h1><p class=\"range\">\(escape(data.rangeText)), UTC</p></header>\n<main>\n"
        body += totals(data)
        body += timeSeries(data)
        body += botShare(data)
        body += "<div class=\"grid\">\n"
        for ranking in data.rankings { body += rankingSection(ranking) }
        body += "</div>\n"
        if !data.notes.isEmpty {
            body +=
                "<section class=\"card notes\"><h2>Notes</h2><ul>"
                + data.notes.map { "<li>\(escape($0))</li>" }.joined() + "</ul></section>\n"
        }
        body +=
            "</main>\n<footer><p>Made by \(escape(KlogsVersion.description)). Requests from bots are left out "
            + "of every figure except the bot share. No client address is stored: visitors are counted from daily "
            + "pseudonyms, and a visit (page views with no gap over 30 minutes) never spans two UTC days. The "
            + "metrics are defined in klogs' docs/METRICS.md.</p></footer>\n"
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="generator" content="\(escape(KlogsVersion.description))">
            <title>Visits, \(escape(data.rangeText))</title>
            <script>window.klogsErrors=[];window.addEventListener("error",function(e){window.klogsErrors.push(String(e.message));document.documentElement.setAttribute("data-errors",window.klogsErrors.join(" | "));});</script>
            <style>\(style)</style>
            </head>
            <body>
            \(body)<script>\(script)</script>
            </body>
            </html>

            """
    }

    // MARK: - Sections

    static func totals(_ data: ReportData) -> String {
        var tiles = ""
        for item in data.headlineItems {
            tiles += "<div class=\"headline\"><dt>\(item.name)</dt><dd>\(escape(item.text))</dd>"
            if let trend = item.trend {
                tiles += "<dd class=\"trend\" title=\"The second half of the range against the first\">\(escape(trend))</dd>"
            }
            tiles += "</div>"
        }
        let secondary: [(String, String)] = [
            ("Requests", QueryRenderer.thousands(data.hits)), ("Data sent", ReportData.byteText(data.bytes)),
            ("Bot share", ReportData.percent(data.botShare)),
        ]
        tiles += secondary.map { "<div class=\"secondary\"><dt>\($0.0)</dt><dd>\($0.1)</dd></div>" }.joined()
        return "<section aria-labelledby=\"totals-title\"><h2 id=\"totals-title\" class=\"visually-hidden\">Totals</h2>"
            + "<dl class=\"totals\">\(tiles)</dl></section>\n"
    }

    /// The lines of the time series: page views, and visitors and visits when known.
    private static func seriesLines(_ data: ReportData) -> [(name: String, className: String, values: [Int64])] {
        var lines = [("Page views", "pageviews", data.series.map(\.pageviews))]
        if data.hasVisitors {
            lines.append(("Visitors", "visitors", data.series.map { $0.visitors ?? 0 }))
            lines.append(("Visits", "visits", data.series.map { $0.visits ?? 0 }))
        }
        return lines
    }

    static func timeSeries(_ data: ReportData) -> String {
        let unit = data.seriesUnit.rawValue
        let lines = seriesLines(data)
        let title = lines.map(\.name).joined(separator: ", ") + " by \(unit)"
        let points = data.series
        let width = 800.0
        let height = 280.0
        let left = 70.0
        let right = 36.0
        let top = 16.0
        let bottom = 36.0
        let maximum = niceCeiling(lines.flatMap(\.values).max() ?? 0)
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        func x(_ index: Int) -> Double {
            points.count <= 1 ? left + plotWidth / 2 : left + plotWidth * Double(index) / Double(points.count - 1)
        }
        func y(_ value: Int64) -> Double { top + plotHeight * (1 - Double(value) / Double(maximum)) }

        let peak = points.max { $0.pageviews < $1.pageviews }
        var description = "Line chart of \(title.lowercased()), \(points.count) points"
        if let peak {
            description += "; the most page views, \(QueryRenderer.thousands(peak.pageviews)), on \(peak.label)"
        }
        description += ". The table below holds every value."

        var svg =
            "<svg class=\"series\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" "
            + "aria-labelledby=\"series-title series-desc\" preserveAspectRatio=\"xMidYMid meet\">"
            + "<title id=\"series-title\">\(escape(title))</title><desc id=\"series-desc\">\(escape(description))</desc>"
        for step in 0...4 {
            let value = maximum * Int64(step) / 4
            let lineY = format(y(value))
            svg +=
                "<line class=\"grid-line\" x1=\"\(format(left))\" x2=\"\(format(width - right))\" y1=\"\(lineY)\" y2=\"\(lineY)\"/>"
            svg +=
                "<text class=\"axis\" x=\"\(format(left - 8))\" y=\"\(lineY)\" text-anchor=\"end\" dominant-baseline=\"middle\">\(compact(value))</text>"
        }
        let labelEvery = max(1, Int((Double(points.count) / 8).rounded(.up)))
        for (index, point) in points.enumerated() where index % labelEvery == 0 {
            svg +=
                "<text class=\"axis\" x=\"\(format(x(index)))\" y=\"\(format(height - 12))\" text-anchor=\"middle\">"
                + "\(escape(shortLabel(point.label, unit: data.seriesUnit)))</text>"
        }
        if !points.isEmpty {
            let pageLine = points.enumerated().map { "\(format(x($0.offset))),\(format(y($0.element.pageviews)))" }
            svg +=
                "<path class=\"area\" d=\"M\(format(x(0))),\(format(y(0))) L\(pageLine.joined(separator: " L")) "
                + "L\(format(x(points.count - 1))),\(format(y(0))) Z\"/>"
            for line in lines {
                let coordinates = line.values.enumerated().map { "\(format(x($0.offset))),\(format(y($0.element)))" }
                svg += "<polyline class=\"line \(line.className)\" points=\"\(coordinates.joined(separator: " "))\"/>"
            }
            if points.count <= 120 {
                for (index, point) in points.enumerated() {
                    let tip = "\(point.label): " + point.items.map { "\($0.text) \($0.name.lowercased())" }.joined(separator: ", ")
                    svg +=
                        "<circle class=\"dot\" cx=\"\(format(x(index)))\" cy=\"\(format(y(point.pageviews)))\" r=\"3.5\">"
                        + "<title>\(escape(tip))</title></circle>"
                }
            }
        }
        svg += "</svg>"

        let legend = lines.map { "<span class=\"key \($0.className)\"></span> \($0.name)" }.joined(separator: " ")
        let names = data.headline.items.map(\.name)
        var table =
            "<table><thead><tr><th scope=\"col\">\(unit == "day" ? "Day" : "Hour")</th>"
            + names.map { "<th scope=\"col\">\($0)</th>" }.joined() + "</tr></thead><tbody>"
        for point in points {
            table +=
                "<tr><th scope=\"row\">\(escape(point.label))</th>"
                + point.items.map { "<td>\(escape($0.text))</td>" }.joined() + "</tr>"
        }
        table += "</tbody></table>"
        return "<section class=\"card wide\" id=\"over-time\"><h2>\(escape(title))</h2>"
            + "<figure class=\"chart\" data-chart=\"over-time\">\(svg)<figcaption>\(legend)</figcaption></figure>"
            + "<details><summary>The numbers, with bounce rate and visit duration</summary>\(table)</details></section>\n"
    }

    static func botShare(_ data: ReportData) -> String {
        let all = data.hits + data.botHits
        let humanWidth = all == 0 ? 0 : 800 * Double(data.hits) / Double(all)
        let description =
            "Bar divided into requests from people, \(ReportData.percent(1 - data.botShare)), "
            + "and from bots, \(ReportData.percent(data.botShare))."
        let svg =
            "<svg class=\"share\" viewBox=\"0 0 800 48\" role=\"img\" aria-labelledby=\"bots-title bots-desc\">"
            + "<title id=\"bots-title\">Bot share</title><desc id=\"bots-desc\">\(description)</desc>"
            + "<rect class=\"humans\" x=\"0\" y=\"4\" width=\"\(format(humanWidth))\" height=\"40\" rx=\"4\"/>"
            + "<rect class=\"bots\" x=\"\(format(humanWidth))\" y=\"4\" width=\"\(format(800 - humanWidth))\" height=\"40\" rx=\"4\"/>"
            + "</svg>"
        let table =
            "<table><thead><tr><th scope=\"col\">Client</th><th scope=\"col\">Requests</th><th scope=\"col\">Share</th></tr></thead><tbody>"
            + "<tr><th scope=\"row\"><span class=\"key humans\"></span> People</th><td>\(QueryRenderer.thousands(data.hits))</td><td>\(ReportData.percent(1 - data.botShare))</td></tr>"
            + "<tr><th scope=\"row\"><span class=\"key bots\"></span> Bots</th><td>\(QueryRenderer.thousands(data.botHits))</td><td>\(ReportData.percent(data.botShare))</td></tr>"
            + "</tbody></table>"
        return "<section class=\"card wide\" id=\"bots\"><h2>Bot share</h2><figure class=\"chart\" data-chart=\"bots\">"
            + svg + "</figure>" + table + "</section>\n"
    }

    static func rankingSection(_ ranking: ReportData.Ranking) -> String {
        let first = ranking.metrics[0]
        let withShare = first.isCount
        let largest = max(ranking.rows.map { $0.values[0] }.max() ?? 1, 1)
        var html =
            "<section class=\"card\" id=\"\(ranking.id)\"><h2 id=\"\(ranking.id)-title\">\(escape(ranking.title))</h2>"
        html += "<table class=\"ranking chart\" data-chart=\"\(ranking.id)\" aria-labelledby=\"\(ranking.id)-title\">"
        html +=
            "<thead><tr><th scope=\"col\">\(escape(ranking.column))</th>"
            + ranking.metrics.map { "<th scope=\"col\">\(escape($0.heading.capitalisedFirst))</th>" }.joined()
            + (withShare ? "<th scope=\"col\">Share</th>" : "") + "</tr></thead><tbody>"
        for row in ranking.rows {
            let width = 100 * row.values[0] / largest
            html +=
                "<tr><th scope=\"row\"><span class=\"name\" title=\"\(escape(row.label))\">\(escape(row.label))</span>"
                + "<span class=\"bar\" aria-hidden=\"true\"><span style=\"width:\(format(width))%\"></span></span></th>"
                + zip(row.values, ranking.metrics).map { "<td>\(escape(QueryRenderer.tableText($0, $1)))</td>" }.joined()
            if withShare {
                html += "<td>\(ReportData.percent(ranking.total == 0 ? 0 : row.values[0] / ranking.total))</td>"
            }
            html += "</tr>"
        }
        if ranking.rows.isEmpty {
            html +=
                "<tr><td colspan=\"\(ranking.metrics.count + (withShare ? 2 : 1))\">Nothing in this range.</td></tr>"
        }
        html += "</tbody></table>"
        if ranking.valueCount > ranking.rows.count {
            html +=
                "<p class=\"more\">\(ranking.rows.count) of \(QueryRenderer.thousands(Int64(ranking.valueCount))) shown.</p>"
        }
        return html + "</section>\n"
    }

    // MARK: - Helpers

    /// Escapes text for HTML content and attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    static func format(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        let sign = tenths < 0 ? "-" : ""
        let magnitude = abs(tenths)
        return magnitude % 10 == 0 ? "\(sign)\(magnitude / 10)" : "\(sign)\(magnitude / 10).\(magnitude % 10)"
    }

    /// The smallest 1, 2 or 5 times a power of ten at or above `value` that splits into four whole steps (so 20 at least).
    static func niceCeiling(_ value: Int64) -> Int64 {
        var magnitude: Int64 = 1
        while true {
            for factor: Int64 in [1, 2, 5] where factor * magnitude >= max(value, 4) && (factor * magnitude) % 4 == 0 {
                return factor * magnitude
            }
            magnitude *= 10
        }
    }

    /// `12k`, `3.4M`.
    static func compact(_ value: Int64) -> String {
        if value >= 1_000_000 { return format(Double(value) / 1_000_000) + "M" }
        if value >= 10_000 { return format(Double(value) / 1000) + "k" }
        return QueryRenderer.thousands(value)
    }

    static func shortLabel(_ label: String, unit: QueryDimension) -> String {
        let characters = Array(label)
        if unit == .hour && characters.count >= 16 {
            return String(characters[5..<10]) + " " + String(characters[11..<16])
        }
        if characters.count >= 10 { return String(characters[5..<10]) }
        return label
    }

    static let style = """
        :root{--fg:#1b1f24;--muted:#57606a;--bg:#f6f8fa;--card:#fff;--line:#d0d7de;--hits:#1f6feb;--area:rgba(31,111,235,.14);--visitors:#bc4c00;--visits:#1a7f37;--bots:#8c959f;--bar:#1f6feb}
        @media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;--card:#161b22;--line:#30363d;--hits:#4493f8;--area:rgba(68,147,248,.18);--visitors:#f0883e;--visits:#3fb950;--bots:#6e7681;--bar:#4493f8}}
        *{box-sizing:border-box}
        body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
        header,main,footer{max-width:1200px;margin:0 auto;padding:0 16px}
        header{padding-top:20px}h1{margin:0;font-size:1.8rem}.range{margin:.2rem 0 1rem;color:var(--muted)}
        h2{font-size:1.1rem;margin:0 0 .6rem}
        .visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
        .totals{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:12px;margin:0 0 16px}
        .totals div{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 16px}
        .totals dt{color:var(--muted);font-size:.9rem}.totals dd{margin:0;font-size:1.6rem;font-weight:600;font-variant-numeric:tabular-nums}
        .totals dd.trend{font-size:.85rem;font-weight:normal;color:var(--muted)}.totals .secondary dd{font-size:1.2rem}
        .card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:16px;margin:0 0 16px;min-width:0}
        .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,460px),1fr));gap:0 16px}
        figure{margin:0}svg{display:block;width:100%;height:auto}
        .grid-line{stroke:var(--line);stroke-width:1}.axis{fill:var(--muted);font-size:13px}
        .area{fill:var(--area)}.line{fill:none;stroke-width:2.5;stroke-linejoin:round}
        .line.pageviews{stroke:var(--hits)}.line.visitors{stroke:var(--visitors);stroke-dasharray:7 4}.line.visits{stroke:var(--visits);stroke-dasharray:2 3}.dot{fill:var(--hits)}
        .humans{fill:var(--hits);background:var(--hits)}.bots{fill:var(--bots);background:var(--bots)}
        figcaption{color:var(--muted);font-size:.9rem;margin-top:.3rem}
        .key{display:inline-block;width:14px;height:10px;border-radius:2px;vertical-align:middle;background:var(--hits)}
        .key.visitors{background:var(--visitors)}.key.visits{background:var(--visits)}.key.bots{background:var(--bots)}
        table{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:.95rem}
        th,td{padding:4px 6px;border-bottom:1px solid var(--line);text-align:right;vertical-align:top}
        th:first-child{text-align:left;font-weight:normal}thead th{font-weight:600;color:var(--muted)}
        .ranking th[scope=row]{max-width:0;width:60%}
        .name{display:block;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
        .bar{display:block;height:6px;background:var(--line);border-radius:3px;margin-top:3px}
        .bar span{display:block;height:100%;background:var(--bar);border-radius:3px;min-width:2px}
        .more{color:var(--muted);font-size:.9rem;margin:.4rem 0 0}
        details{margin-top:.6rem}summary{cursor:pointer;color:var(--muted)}
        footer{color:var(--muted);font-size:.85rem;padding-bottom:24px}
        @media (max-width:520px){body{font-size:15px}.totals dd{font-size:1.3rem}.card{padding:12px}.axis{font-size:20px}}
        @media print{:root{--bg:#fff;--card:#fff}body{font-size:11pt}.card{break-inside:avoid;border-color:#999}.grid{display:block}summary{display:none}}
        """

    static let script = """
        (function(){var charts=document.querySelectorAll("[data-chart]");var boxes=[];for(var i=0;i<charts.length;i++){var r=charts[i].getBoundingClientRect();boxes.push({id:charts[i].getAttribute("data-chart"),x:Math.round(r.left+window.scrollX),y:Math.round(r.top+window.scrollY),w:Math.round(r.width),h:Math.round(r.height)});}
        document.documentElement.setAttribute("data-chart-boxes",JSON.stringify(boxes));document.documentElement.setAttribute("data-page-height",String(document.documentElement.scrollHeight));document.documentElement.setAttribute("data-page-width",String(document.documentElement.scrollWidth));
        window.addEventListener("beforeprint",function(){var d=document.querySelectorAll("details");for(var j=0;j<d.length;j++){d[j].open=true;}});
        document.documentElement.setAttribute("data-rendered","yes");})();
        """
}

extension String {
    /// The text with its first letter in upper case: `page views` → `Page views`.
    fileprivate var capitalisedFirst: String { prefix(1).uppercased() + dropFirst() }
}
