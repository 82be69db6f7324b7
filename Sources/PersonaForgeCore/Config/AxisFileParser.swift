/// Turns the text of an axis file into values, reporting bad lines with their
/// line numbers. Pure: ``RunConfigLoader`` reads the file and passes the text.
package enum AxisFileParser {
    /// At most this many line problems are reported per file; the rest are counted.
    package static let problemLimit = 20

    package static func values(of text: String, source: FileAxisSource, axis: String) -> (values: [AxisValue], problems: [ConfigProblem]) {
        var values: [AxisValue] = []
        var problems: [ConfigProblem] = []
        var suppressed = 0
        func report(_ code: ConfigProblem.Code, _ line: Int, _ message: String) {
            if problems.count < problemLimit {
                problems.append(ConfigProblem(code, file: source.resolvedPath, line: line, "axis '\(axis)': \(message)"))
            } else {
                suppressed += 1
            }
        }
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine[...]
            if line.allSatisfy(\.isWhitespace) { continue }
            if line.utf8.contains(0) {
                report(.notText, lineNumber, "line \(lineNumber) contains a NUL byte, which PostgreSQL cannot store in text; this looks like a binary file")
                continue
            }
            switch source.format {
            case .text:
                values.append(AxisValue(String(line)))
            case .jsonl:
                guard let json = JSONValue.parse(line) else {
                    report(.invalidJSONLine, lineNumber, "line \(lineNumber) is not valid JSON; each line must be one JSON object such as {\"\(source.field)\": \"...\"} (or set format: text for one value per line)")
                    continue
                }
                guard case .object(let object) = json else {
                    report(.invalidJSONLine, lineNumber, "line \(lineNumber) is JSON but not an object; expected {\"\(source.field)\": \"...\"}")
                    continue
                }
                guard let value = object[source.field], value != .null else {
                    let hint = KeySuggestion.closest(to: source.field, in: Array(object.keys)).map { " — did you mean field: \($0)?" }
                        ?? " (keys on this line: \(object.keys.sorted().joined(separator: ", ")); set 'field:' to the right one)"
                    report(.missingField, lineNumber, "line \(lineNumber) has no field '\(source.field)'\(hint)")
                    continue
                }
                if value.templateText.utf8.contains(0) {
                    report(.notText, lineNumber, "line \(lineNumber): the value of '\(source.field)' contains a NUL character (\\u0000), which PostgreSQL cannot store in text; remove it")
                    continue
                }
                var fields: [String: String] = [:]
                var complete = true
                for name in source.fields {
                    guard let extra = object[name] else {
                        report(.missingField, lineNumber, "line \(lineNumber) has no field '\(name)' listed in 'fields'")
                        complete = false
                        continue
                    }
                    if extra.templateText.utf8.contains(0) {
                        report(.notText, lineNumber, "line \(lineNumber): field '\(name)' contains a NUL character (\\u0000), which PostgreSQL cannot store in text; remove it")
                        complete = false
                        continue
                    }
                    fields[name] = extra.templateText
                }
                if complete { values.append(AxisValue(value.templateText, fields: fields)) }
            }
        }
        if suppressed > 0 {
            problems.append(ConfigProblem(.invalidJSONLine, file: source.resolvedPath, line: 0, "axis '\(axis)': \(suppressed) more lines have problems"))
        }
        if values.isEmpty, problems.isEmpty {
            problems.append(ConfigProblem(.emptyAxis, file: source.resolvedPath, line: 0, "axis '\(axis)': the file has no values"))
        }
        return (values, problems)
    }
}
