/// The pool of in-context demonstrations and the deterministic draw of `k` of
/// them for a sample.
public struct DemonstrationPool: Sendable, Hashable {
    /// The records, each a flat `[field: text]` map; every record has the same fields.
    public let records: [[String: String]]
    /// The field names every record has (usable as `{{field}}` inside `{{#demos}}`).
    public let fieldNames: Set<String>

    /// Creates a pool. `records` must share the same keys.
    public init(records: [[String: String]]) {
        self.records = records
        self.fieldNames = Set(records.first?.keys.map { $0 } ?? [])
    }

    /// `count` distinct records for the sample at `address`, a pure function of
    /// `(seed, conditionPosition, sampleIndex)`: a small seeded permutation of the
    /// pool, first `count` entries. Different samples of one condition get different demos.
    public func draw(_ count: Int, seed: UInt64, for address: SampleAddress) -> [[String: String]] {
        guard !records.isEmpty, count > 0 else { return [] }
        let drawSeed = PortableHash.combine(seed ^ 0x4445_4D4F, UInt64(address.conditionPosition), UInt64(address.sampleIndex))
        let permutation = FeistelPermutation(count: UInt64(records.count), seed: drawSeed)
        return (0..<min(count, records.count)).map { records[Int(permutation(UInt64($0)))] }
    }

    /// Parses a JSONL pool; records are objects whose values become text.
    static func parse(_ text: String, file: String) -> (pool: DemonstrationPool, problems: [ConfigProblem]) {
        var records: [[String: String]] = []
        var problems: [ConfigProblem] = []
        var expected: Set<String>?
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if rawLine.allSatisfy(\.isWhitespace) { continue }
            guard case .object(let object)? = JSONValue.parse(rawLine) else {
                if problems.count < AxisFileParser.problemLimit {
                    problems.append(ConfigProblem(.invalidJSONLine, file: file, line: lineNumber, "demonstrations: line \(lineNumber) is not a JSON object; each line must be one demonstration like {\"problem\": \"...\", \"solution\": \"...\"}"))
                }
                continue
            }
            let keys = Set(object.keys)
            if let expected, expected != keys {
                problems.append(ConfigProblem(.missingField, file: file, line: lineNumber, "demonstrations: line \(lineNumber) has fields [\(keys.sorted().joined(separator: ", "))] but line 1 has [\(expected.sorted().joined(separator: ", "))]; every demonstration needs the same fields"))
                continue
            }
            expected = expected ?? keys
            records.append(object.mapValues(\.templateText))
        }
        if records.isEmpty, problems.isEmpty {
            problems.append(ConfigProblem(.emptyAxis, file: file, line: 0, "demonstrations: the pool file has no records"))
        }
        return (DemonstrationPool(records: records), problems)
    }
}
