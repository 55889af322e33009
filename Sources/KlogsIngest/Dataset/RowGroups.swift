import KlogsParquet
import KlogsUserAgent

/// A partition's pending `events` rows at the moment they go out as a row group: copy-on-write copies of its
/// columns, dictionaries and user-agent table, so that the columns can be built and encoded on another thread
/// (`RowGroupJob`) while the partition takes new rows.
///
/// `@unchecked Sendable`: every stored value is an immutable copy; the user-agent table's classifier, the one
/// member that is not thread-safe, is never used here.
struct EventsRowGroup: @unchecked Sendable {
    let rows: Int
    private let timestamps: [Int64]
    private let visitors: [Int64]
    private let clientNetworkIds: [Int32]
    private let vhostIds: [Int32]
    private let methodIds: [Int32]
    private let pathIds: [Int32]
    private let statuses: [Int32]
    private let byteCounts: [Int64]
    private let referrerIds: [Int32]
    private let userAgentClassIds: [Int32]
    private let kinds: [UInt8]
    private let clientNetworks: InternedValues
    private let vhosts: InternedValues
    private let methods: InternedValues
    private let paths: InternedValues
    private let referrerHosts: InternedValues
    private let userAgents: UserAgentTable

    init(_ partition: Partition, userAgents: UserAgentTable) {
        rows = partition.pendingEvents
        timestamps = partition.timestamps
        visitors = partition.visitors
        clientNetworkIds = partition.clientNetworkIds
        vhostIds = partition.vhostIds
        methodIds = partition.methodIds
        pathIds = partition.pathIds
        statuses = partition.statuses
        byteCounts = partition.byteCounts
        referrerIds = partition.referrerIds
        userAgentClassIds = partition.userAgentClassIds
        kinds = partition.kinds
        clientNetworks = partition.clientNetworks.snapshot
        vhosts = partition.vhosts.snapshot
        methods = partition.methods.snapshot
        paths = partition.paths.snapshot
        referrerHosts = partition.referrerHosts.snapshot
        self.userAgents = userAgents
    }

    /// The row group's columns, in the order of the `events` schema.
    var columns: [ColumnValues] {
        let userAgents = userAgents
        // The five class columns share the rows' class ids, counted once per class.
        let classRows = KeyedRows(keys: userAgentClassIds, keyCount: userAgents.classes.count)
        func classColumn(_ ids: [Int32], _ dictionary: StringDictionary) -> ColumnValues {
            .keyedDictionaryStrings(dictionary: StringColumn(dictionary.values), rows: classRows, indexOfKey: ids)
        }
        let visitors: ColumnValues =
            visitors.isEmpty
            ? .int64(Array(repeating: 0, count: rows), validity: Array(repeating: false, count: rows))
            : .int64(visitors, validity: nil)
        let clientNetworks: ColumnValues =
            clientNetworkIds.isEmpty
            ? .dictionaryStrings(dictionary: StringColumn([]), indices: Array(repeating: -1, count: rows))
            : .dictionaryStrings(dictionary: clientNetworks.stringColumn, indices: clientNetworkIds)
        return [
            .int64(timestamps, validity: nil),
            visitors,
            clientNetworks,
            .dictionaryStrings(dictionary: vhosts.stringColumn, indices: vhostIds),
            .dictionaryStrings(dictionary: methods.stringColumn, indices: methodIds),
            .dictionaryStrings(dictionary: paths.stringColumn, indices: pathIds),
            .int32(statuses, validity: nil),
            .int64(byteCounts, validity: nil),
            .dictionaryStrings(dictionary: referrerHosts.stringColumn, indices: referrerIds),
            classColumn(userAgents.browserIds, userAgents.browsers),
            classColumn(userAgents.browserMajorIds, userAgents.browserMajors),
            classColumn(userAgents.osIds, userAgents.operatingSystems),
            classColumn(userAgents.osMajorIds, userAgents.osMajors),
            classColumn(userAgents.deviceIds, userAgents.devices),
            .boolean(Self.lookUp(userAgentClassIds, in: userAgents.isBotFlags), validity: nil),
            .dictionaryStrings(dictionary: DatasetName.kindDictionary, indices: kinds.map(Int32.init)),
        ]
    }
}

extension EventsRowGroup {
    /// `table[id]` for every class id of `ids`: a class's column value for every row, through pointers (the ids
    /// were checked when the rows were added: every one is a class of the table).
    static func lookUp<Value>(_ ids: [Int32], in table: [Value]) -> [Value] {
        lookUp(ids, in: table) { $0 }
    }

    /// `field(table[id])` for every class id of `ids`: one column of a table of several, built in one pass (no
    /// array of whole entries first).
    @inline(__always)
    static func lookUp<Value, Field>(_ ids: [Int32], in table: [Value], _ field: (Value) -> Field) -> [Field] {
        ids.withUnsafeBufferPointer { ids in
            table.withUnsafeBufferPointer { table in
                Array(unsafeUninitializedCapacity: ids.count) { values, count in
                    for (row, id) in ids.enumerated() {
                        (values.baseAddress! + row).initialize(to: field(table[Int(id)]))
                    }
                    count = ids.count
                }
            }
        }
    }
}

/// A partition's hourly aggregates at the moment they go out as a `hits` row group, drained and sorted, with
/// copies of the dictionaries they name, so that the columns can be built and encoded on another thread.
///
/// `@unchecked Sendable`: as `EventsRowGroup`.
struct HitsRowGroup: @unchecked Sendable {
    private let aggregates: SortedHits
    private let vhosts: InternedValues
    private let paths: InternedValues
    private let userAgents: UserAgentTable

    /// - Parameter aggregates: the aggregates in row order (`HitTable.drainSorted()`).
    init(_ aggregates: SortedHits, of partition: Partition, userAgents: UserAgentTable) {
        self.aggregates = aggregates
        vhosts = partition.vhosts.snapshot
        paths = partition.paths.snapshot
        self.userAgents = userAgents
    }

    var rows: Int { aggregates.count }

    /// The number of columns of the `hits` schema.
    static let columnCount = 11

    /// The ranges of columns that `DatasetWriter` has built and encoded as separate jobs, so that the threads
    /// share a partition's last and largest `hits` row group: a column each. The end of a run waits for the
    /// slowest job, so they are small; each user-agent class column is one pass over the rows' class ids.
    static let encodingParts = (0..<columnCount).map { $0..<$0 + 1 }

    /// The row group's columns, in the order of the `hits` schema.
    var columns: [ColumnValues] { columns(in: 0..<Self.columnCount) }

    /// The columns in `range` of the `hits` schema, only those built.
    ///
    /// The aggregates come as columns already; the hour, the kind and the user-agent class columns are one `map`
    /// each, a tight loop into a preallocated array.
    func columns(in range: Range<Int>) -> [ColumnValues] {
        let (ids, classes) = (aggregates.userAgentClasses, userAgents.hitsClasses)
        return range.map { index in
            switch index {
            case 0: .int64(aggregates.hours.map { Int64($0) * 3_600_000 }, validity: nil)
            case 1: .dictionaryStrings(dictionary: vhosts.stringColumn, indices: aggregates.vhosts)
            case 2: .dictionaryStrings(dictionary: paths.stringColumn, indices: aggregates.paths)
            case 3: .int32(aggregates.statuses, validity: nil)
            case 4:
                .dictionaryStrings(
                    dictionary: StringColumn(userAgents.browsers.values),
                    indices: EventsRowGroup.lookUp(ids, in: classes) { $0.browser })
            case 5:
                .dictionaryStrings(
                    dictionary: StringColumn(userAgents.operatingSystems.values),
                    indices: EventsRowGroup.lookUp(ids, in: classes) { $0.os })
            case 6:
                .dictionaryStrings(
                    dictionary: StringColumn(userAgents.devices.values),
                    indices: EventsRowGroup.lookUp(ids, in: classes) { $0.device })
            case 7: .boolean(EventsRowGroup.lookUp(ids, in: classes) { $0.isBot }, validity: nil)
            case 8: .int64(aggregates.hits, validity: nil)
            case 9: .int64(aggregates.bytes, validity: nil)
            default:
                .dictionaryStrings(dictionary: DatasetName.kindDictionary, indices: aggregates.kinds.map(Int32.init))
            }
        }
    }
}
