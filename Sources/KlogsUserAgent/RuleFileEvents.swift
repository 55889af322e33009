internal import CYaml

/// Reads the rules of a plain `regexes.yaml` straight from libyaml's events (Yams' own C parser), without building
/// Yams' node tree: the tree (a node, tag, mark and resolver call per scalar, a duplicate check per mapping) cost three
/// times libyaml's parse, some 60 M instructions for uap-core, on every start.
///
/// Only the plain shape is read here: one document holding a mapping of scalar keys, each rule list a sequence of
/// mappings from scalar keys to scalar values, other keys with scalar values only, no aliases, no duplicate keys.
/// Anything else (and any syntax error) gives nil, and ``UserAgentRules`` composes the file with Yams instead, which
/// reads what YAML allows and reports errors with their place; so both paths give the same rules, or the same error.
final class RuleFileEvents {
    /// One libyaml event, reduced to what a rule file needs.
    private enum Event: Equatable {
        case streamStart, streamEnd, documentStart, documentEnd
        case mappingStart(line: Int), mappingEnd
        case sequenceStart, sequenceEnd
        case scalar(String)
    }

    private let parser: UnsafeMutablePointer<yaml_parser_t>

    /// The three lists of `yaml`, each rule as its key-value pairs in file order and the line of its mapping; nil if
    /// the file is not of the plain shape (see the type's documentation).
    static func ruleLists(_ yaml: String) -> [UserAgentRules.Kind: [(pairs: [(String, String)], line: Int)]]? {
        var yaml = yaml
        return yaml.withUTF8 { bytes in
            RuleFileEvents(bytes)?.readDocument()
        }
    }

    /// A parser over `bytes`, which must outlive it; nil for an empty file.
    private init?(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return nil }
        parser = .allocate(capacity: 1)
        guard yaml_parser_initialize(parser) == 1 else {
            parser.deallocate()
            return nil
        }
        yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
        yaml_parser_set_input_string(parser, base, bytes.count)
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deallocate()
    }

    /// The next event; nil at a syntax error, an alias or anything else a plain rule file does not have.
    private func next() -> Event? {
        var event = yaml_event_t()
        guard yaml_parser_parse(parser, &event) == 1 else { return nil }
        defer { yaml_event_delete(&event) }
        switch event.type {
        case YAML_STREAM_START_EVENT: return .streamStart
        case YAML_STREAM_END_EVENT: return .streamEnd
        case YAML_DOCUMENT_START_EVENT: return .documentStart
        case YAML_DOCUMENT_END_EVENT: return .documentEnd
        // Yams' marks are 1-based.
        case YAML_MAPPING_START_EVENT: return .mappingStart(line: Int(event.start_mark.line) + 1)
        case YAML_MAPPING_END_EVENT: return .mappingEnd
        case YAML_SEQUENCE_START_EVENT: return .sequenceStart
        case YAML_SEQUENCE_END_EVENT: return .sequenceEnd
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            // libyaml has checked the UTF-8.
            let bytes = UnsafeBufferPointer(start: scalar.value, count: scalar.length)
            return .scalar(String(decoding: bytes, as: UTF8.self))
        default: return nil
        }
    }

    private func readDocument() -> [UserAgentRules.Kind: [(pairs: [(String, String)], line: Int)]]? {
        guard next() == .streamStart, next() == .documentStart, case .mappingStart = next() else { return nil }
        var lists: [UserAgentRules.Kind: [(pairs: [(String, String)], line: Int)]] = [:]
        var names: Set<String> = []
        while true {
            guard let event = next() else { return nil }
            if event == .mappingEnd { break }
            guard case .scalar(let name) = event, names.insert(name).inserted else { return nil }
            if let kind = UserAgentRules.Kind(rawValue: name) {
                guard next() == .sequenceStart, let rules = readRules() else { return nil }
                lists[kind] = rules
            } else {
                // Another key is ignored, as Yams' path does; a nested value is left to it (its duplicate keys
                // would be an error there).
                guard case .scalar = next() else { return nil }
            }
        }
        guard next() == .documentEnd, next() == .streamEnd else { return nil }
        return lists
    }

    /// The rules of a list, after its sequence start, up to and including its end.
    private func readRules() -> [(pairs: [(String, String)], line: Int)]? {
        var rules: [(pairs: [(String, String)], line: Int)] = []
        while true {
            guard let event = next() else { return nil }
            if event == .sequenceEnd { return rules }
            guard case .mappingStart(let line) = event else { return nil }
            var pairs: [(String, String)] = []
            while true {
                guard let keyEvent = next() else { return nil }
                if keyEvent == .mappingEnd { break }
                guard case .scalar(let key) = keyEvent, case .scalar(let value) = next(),
                    !pairs.contains(where: { $0.0 == key })
                else { return nil }
                pairs.append((key, value))
            }
            rules.append((pairs, line))
        }
    }
}
