/// Extracts the JSON value from an LLM's answer to a JSON step.
///
/// Models asked for JSON often wrap it. ``parse(_:)`` tries, in order:
///
/// 1. the whole output (trimmed) as JSON — any JSON value;
/// 2. the contents of each Markdown code fence (` ```json … ``` ` or ` ``` … ``` `);
/// 3. each balanced `{…}` in the output, from the first `{` on (braces
///    inside JSON strings do not count), at most ``maximumCandidates`` of them —
///    so "Here is the JSON: {…} Hope this helps!" works.
///
/// The first candidate that parses wins.
public enum JSONOutputParser {
    /// The most `{…}` candidates tried before giving up (bounds the work on
    /// brace-heavy prose).
    public static let maximumCandidates = 16

    /// The JSON value in `text`, or why there is none.
    public static func parse(_ text: String) -> Result<JSONValue, JSONOutputError> {
        let trimmed = Substring(text.trimmingWhitespace())
        guard !trimmed.isEmpty else {
            return .failure(JSONOutputError(.empty, "the output is empty"))
        }
        if let value = JSONValue.parse(trimmed) { return .success(value) }

        var sawCandidate = false
        for block in fencedBlocks(in: trimmed) {
            sawCandidate = true
            if let value = JSONValue.parse(block) { return .success(value) }
        }
        for candidate in balancedObjects(in: trimmed).prefix(maximumCandidates) {
            sawCandidate = true
            if let value = JSONValue.parse(candidate) { return .success(value) }
        }
        if sawCandidate || trimmed.contains("{") || trimmed.contains("[") {
            return .failure(JSONOutputError(.invalidJSON, "the output contains JSON-like text that does not parse as JSON"))
        }
        return .failure(JSONOutputError(.noJSONFound, "the output contains no JSON object"))
    }

    /// The contents of Markdown code fences: text between a line opening with
    /// ``` (plus an optional info string such as `json`) and the next ```.
    static func fencedBlocks(in text: Substring) -> [Substring] {
        var blocks: [Substring] = []
        var rest = text[...]
        while let open = rest.firstRange(of: "```") {
            // Skip the info string up to the end of the line.
            guard let lineEnd = rest[open.upperBound...].firstIndex(of: "\n") else { break }
            let body = rest[rest.index(after: lineEnd)...]
            guard let close = body.firstRange(of: "```") else { break }
            blocks.append(body[..<close.lowerBound])
            rest = body[close.upperBound...]
        }
        return blocks
    }

    /// Balanced `{…}` substrings, in order of their opening brace, skipping
    /// braces inside JSON strings. Unbalanced openings are skipped.
    static func balancedObjects(in text: Substring) -> [Substring] {
        var results: [Substring] = []
        var searchFrom = text.startIndex
        while results.count < maximumCandidates, let open = text[searchFrom...].firstIndex(of: "{") {
            if let close = matchingBrace(in: text, from: open) {
                results.append(Substring(text.unicodeScalars[open...close]))
            }
            searchFrom = text.index(after: open)
        }
        return results
    }

    /// The index of the `}` that closes the `{` at `open`, or nil.
    private static func matchingBrace(in text: Substring, from open: Substring.Index) -> Substring.Index? {
        var depth = 0
        var inString = false
        var escaped = false
        var index = open
        let scalars = text.unicodeScalars
        while index < text.endIndex {
            let scalar = scalars[index]
            if inString {
                if escaped {
                    escaped = false
                } else if scalar == "\\" {
                    escaped = true
                } else if scalar == "\"" {
                    inString = false
                }
            } else {
                switch scalar {
                case "\"": inString = true
                case "{": depth += 1
                case "}":
                    depth -= 1
                    if depth == 0 { return index }
                default: break
                }
            }
            index = scalars.index(after: index)
        }
        return nil
    }
}
