import Yams

/// Reads typed values out of a composed YAML tree and collects every problem
/// with its line, instead of stopping at the first one.
struct ConfigNodeReader {
    /// The keys of one mapping, after unknown/duplicate/secret keys were reported.
    struct Fields {
        var entries: [String: (key: Node, value: Node)]
        /// Line of the mapping itself.
        let line: Int
        /// Human path for messages, e.g. "axis 'persona'".
        let context: String

        subscript(key: String) -> Node? { entries[key]?.value }
        func line(of key: String) -> Int { entries[key].map { ConfigNodeReader.line($0.key) } ?? line }
        func has(_ key: String) -> Bool { entries[key] != nil && !ConfigNodeReader.isNull(entries[key]!.value) }
    }

    let file: String
    var problems: [ConfigProblem] = []

    init(file: String) {
        self.file = file
    }

    static func line(_ node: Node) -> Int { node.mark?.line ?? 0 }

    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    mutating func report(_ code: ConfigProblem.Code, line: Int, _ message: String) {
        problems.append(ConfigProblem(code, file: file, line: line, message))
    }

    // MARK: Mappings

    /// Reads a mapping, reporting a wrong type, duplicate keys, secrets, unknown keys
    /// (with a suggestion) and missing required keys.
    mutating func mapping(_ node: Node, context: String, allowed: [String], required: [String] = []) -> Fields? {
        guard case .mapping(let mapping) = node else {
            report(.wrongType, line: Self.line(node), "\(context) must be a mapping of keys to values")
            return nil
        }
        var fields = Fields(entries: [:], line: Self.line(node), context: context)
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let keyScalar) = keyNode else {
                report(.wrongType, line: Self.line(keyNode), "\(context): keys must be plain names")
                continue
            }
            let key = keyScalar.string
            if fields.entries[key] != nil {
                report(.duplicateKey, line: Self.line(keyNode), "\(context): key '\(key)' appears twice (first on line \(fields.line(of: key))); keep one")
                continue
            }
            if !allowed.contains(key) {
                if SecretKeyPolicy.looksLikeSecret(key) {
                    report(.secretInConfig, line: Self.line(keyNode), SecretKeyPolicy.message(for: key, context: context))
                } else if let suggestion = KeySuggestion.closest(to: key, in: allowed) {
                    report(.unknownKey, line: Self.line(keyNode), "unknown key '\(key)' in \(context) — did you mean '\(suggestion)'?")
                } else {
                    report(.unknownKey, line: Self.line(keyNode), "unknown key '\(key)' in \(context); allowed keys: \(allowed.joined(separator: ", "))")
                }
                continue
            }
            fields.entries[key] = (keyNode, valueNode)
        }
        for key in required where !fields.has(key) {
            report(.missingKey, line: fields.line, "\(context) is missing required key '\(key)'")
        }
        return fields
    }

    // MARK: Scalars

    private mutating func scalar(_ fields: Fields, _ key: String, expected: String) -> Node.Scalar? {
        guard let node = fields[key], !Self.isNull(node) else { return nil }
        guard case .scalar(let scalar) = node else {
            report(.wrongType, line: Self.line(node), "\(fields.context): '\(key)' must be \(expected)")
            return nil
        }
        return scalar
    }

    mutating func string(_ fields: Fields, _ key: String) -> String? {
        scalar(fields, key, expected: "a string")?.string
    }

    mutating func int(_ fields: Fields, _ key: String, minimum: Int, hint: String = "") -> Int? {
        guard let scalar = scalar(fields, key, expected: "an integer") else { return nil }
        let text = scalar.string.replacingOccurrences(of: "_", with: "")
        guard let value = Int(text) else {
            let tooBig = text.allSatisfy(\.isNumber) && !text.isEmpty
            report(
                tooBig ? .overflow : .wrongType,
                line: fields.line(of: key),
                tooBig
                    ? "\(fields.context): '\(key)' \(scalar.string) is larger than 2^63 − 1"
                    : "\(fields.context): '\(key)' must be an integer, got '\(scalar.string)'"
            )
            return nil
        }
        guard value >= minimum else {
            report(.invalidValue, line: fields.line(of: key), "\(fields.context): '\(key)' must be at least \(minimum), got \(value)\(hint)")
            return nil
        }
        return value
    }

    mutating func uint64(_ fields: Fields, _ key: String) -> UInt64? {
        guard let scalar = scalar(fields, key, expected: "a non-negative integer") else { return nil }
        guard let value = UInt64(scalar.string.replacingOccurrences(of: "_", with: "")) else {
            report(.wrongType, line: fields.line(of: key), "\(fields.context): '\(key)' must be an integer between 0 and 2^64 − 1, got '\(scalar.string)'")
            return nil
        }
        return value
    }

    mutating func double(_ fields: Fields, _ key: String, range: ClosedRange<Double>) -> Double? {
        guard let scalar = scalar(fields, key, expected: "a number") else { return nil }
        guard let value = Double(scalar.string) else {
            report(.wrongType, line: fields.line(of: key), "\(fields.context): '\(key)' must be a number, got '\(scalar.string)'")
            return nil
        }
        guard range.contains(value) else {
            report(.invalidValue, line: fields.line(of: key), "\(fields.context): '\(key)' must be between \(range.lowerBound) and \(range.upperBound), got \(scalar.string)")
            return nil
        }
        return value
    }

    mutating func bool(_ fields: Fields, _ key: String) -> Bool? {
        guard let scalar = scalar(fields, key, expected: "true or false") else { return nil }
        switch scalar.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            report(.wrongType, line: fields.line(of: key), "\(fields.context): '\(key)' must be true or false, got '\(scalar.string)'")
            return nil
        }
    }

    mutating func enumeration<E: RawRepresentable & CaseIterable>(_ fields: Fields, _ key: String, as type: E.Type) -> E? where E.RawValue == String {
        guard let text = string(fields, key) else { return nil }
        guard let value = E(rawValue: text) else {
            let choices = E.allCases.map(\.rawValue)
            let hint = KeySuggestion.closest(to: text, in: choices).map { " — did you mean '\($0)'?" } ?? ""
            report(.invalidValue, line: fields.line(of: key), "\(fields.context): '\(key)' must be one of \(choices.joined(separator: ", ")), got '\(text)'\(hint)")
            return nil
        }
        return value
    }

    mutating func stringList(_ fields: Fields, _ key: String) -> [String]? {
        guard let node = fields[key], !Self.isNull(node) else { return nil }
        if case .sequence(let sequence) = node {
            var result: [String] = []
            for item in sequence {
                guard case .scalar(let scalar) = item else {
                    report(.wrongType, line: Self.line(item), "\(fields.context): every item of '\(key)' must be a string")
                    continue
                }
                result.append(scalar.string)
            }
            return result
        }
        report(.wrongType, line: Self.line(node), "\(fields.context): '\(key)' must be a list, e.g. [a, b]")
        return nil
    }

    /// Reports a name that is not usable as a template variable.
    mutating func checkIdentifier(_ name: String, line: Int, what: String) {
        let valid = name.first.map { $0.isLetter || $0 == "_" } == true
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        if !valid {
            report(.invalidValue, line: line, "\(what) name '\(name)' must start with a letter and use only letters, digits and '_' (it becomes a template variable)")
        }
    }

    /// Converts a YAML subtree to JSON (for inline JSON schemas).
    static func json(from node: Node) -> JSONValue {
        switch node {
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (key, value) in mapping { object[key.string ?? ""] = json(from: value) }
            return .object(object)
        case .sequence(let sequence):
            return .array(sequence.map(json(from:)))
        case .scalar(let scalar):
            if scalar.style != .plain { return .string(scalar.string) }
            if isNull(node) { return .null }
            if let bool = node.bool { return .bool(bool) }
            if let int = node.int { return .number(Double(int)) }
            if let double = node.float { return .number(double) }
            return .string(scalar.string)
        case .alias:
            return .null
        }
    }
}
