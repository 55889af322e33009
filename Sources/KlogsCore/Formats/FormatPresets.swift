/// A named format: what `--format NAME` selects and `klogs formats` lists.
public struct FormatPreset: Sendable {
    /// The name given to `--format`.
    public let name: String
    /// The server and dialect it comes from, for people.
    public let origin: String
    /// The definition: a format string or a JSON mapping.
    public let definition: String
    /// The format used to parse.
    public let format: LogFormat
}

extension LogFormat {
    /// Every preset, in the order format detection prefers them on a tie.
    public static let presets: [FormatPreset] = {
        func compiled(_ name: String, _ definition: String, _ dialect: CompiledFormat.Dialect) -> LogFormat {
            // Safe because the preset strings are fixed and covered by tests.
            .custom(try! CompiledFormat(definition, dialect: dialect, name: name))
        }
        func json(_ name: String, _ fields: String) -> LogFormat {
            .json(try! JSONFormat(fields: fields, name: name))
        }
        return [
            FormatPreset(
                name: "combined", origin: "nginx default, Apache combined",
                definition: combinedDefinition, format: .combined),
            FormatPreset(
                name: "common", origin: "NCSA common, Apache common", definition: #"%h %l %u %t "%r" %>s %b"#,
                format: .common),
            FormatPreset(
                name: "vhost_combined", origin: "Apache vhost_combined", definition: vhostCombinedDefinition,
                format: .virtualHostCombined),
            FormatPreset(
                name: "nginx-vhost", origin: "nginx, host first", definition: nginxVirtualHostDefinition,
                format: compiled("nginx-vhost", nginxVirtualHostDefinition, .nginx)),
            FormatPreset(
                name: "combined-xff", origin: "nginx combined plus X-Forwarded-For",
                definition: combinedForwardedDefinition,
                format: compiled("combined-xff", combinedForwardedDefinition, .nginx)),
            FormatPreset(
                name: "nginx-json", origin: "nginx log_format escape=json with nginx variable names",
                definition: nginxJSONMapping, format: json("nginx-json", nginxJSONMapping)),
            FormatPreset(
                name: "caddy-json", origin: "Caddy v2 access log (JSON encoder)", definition: caddyJSONMapping,
                format: json("caddy-json", caddyJSONMapping)),
            FormatPreset(
                name: "traefik-json", origin: "Traefik access log, format json", definition: traefikJSONMapping,
                format: json("traefik-json", traefikJSONMapping)),
        ]
    }()

    /// The preset called `name`, or `nil`.
    public static func preset(named name: String) -> LogFormat? {
        presets.first { $0.name == name }?.format
    }

    /// Compiles an nginx or Apache format string (see ``CompiledFormat``).
    ///
    /// - Throws: ``FormatError`` naming what cannot be compiled.
    public static func compile(_ definition: String) throws -> LogFormat {
        .custom(try CompiledFormat(definition))
    }

    static let combinedDefinition =
        #"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#
    static let vhostCombinedDefinition = #"%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i""#
    static let nginxVirtualHostDefinition =
        #"$host $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#
    static let combinedForwardedDefinition =
        #"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for""#
    static let nginxJSONMapping =
        "client=remote_addr,forwarded_for=http_x_forwarded_for,time=time_iso8601|time_local|msec,request=request,"
        + "method=request_method,uri=request_uri,status=status,bytes=body_bytes_sent|bytes_sent,"
        + "referrer=http_referer,user_agent=http_user_agent,host=host|server_name|http_host"
    static let caddyJSONMapping =
        "client=request.client_ip|request.remote_ip,forwarded_for=request.headers.X-Forwarded-For,time=ts,"
        + "method=request.method,uri=request.uri,protocol=request.proto,status=status,bytes=size,"
        + "referrer=request.headers.Referer,user_agent=request.headers.User-Agent,host=request.host"
    static let traefikJSONMapping =
        "client=ClientHost,forwarded_for=request_X-Forwarded-For,time=StartUTC|time,method=RequestMethod,"
        + "uri=RequestPath,protocol=RequestProtocol,status=DownstreamStatus,bytes=DownstreamContentSize,"
        + "referrer=request_Referer,user_agent=request_User-Agent,host=RequestHost"

    /// The compiled-program twin of a built-in layout, for ranking formats during detection.
    static let detectionTwins: [String: FormatProgram] = {
        var twins: [String: FormatProgram] = [:]
        for (name, definition) in [
            ("combined", #"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i""#),
            ("common", #"%h %l %u %t "%r" %>s %b"#),
            // The port is optional in the built-in parser: a host field ending at the space strips it just the same.
            ("vhost_combined", #"%v %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i""#),
        ] {
            twins[name] = try! CompiledFormat(definition).program
        }
        return twins
    }()
}
