import Foundation

/// Pulls one string field out of each JSONL line, with `FILE:LINE` errors.
struct JSONLinesTextExtractor {
    let path: String
    let field: String
    /// The number of the last line handed to `text(fromLine:)` (1-based).
    private(set) var lineNumber = 0

    init(path: String, field: String) {
        self.path = path
        self.field = field
    }

    /// The field's string, or nil for a blank line.
    mutating func text(fromLine line: ArraySlice<UInt8>) throws(MetricsInputError) -> String? {
        lineNumber += 1
        let location = "\(path == "-" ? "<stdin>" : path):\(lineNumber)"
        guard line.contains(where: { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0D) }) else { return nil }
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: Data(line), options: [.fragmentsAllowed])
        } catch {
            throw MetricsInputError(location: location, message: "invalid JSON (\(Self.reason(error))); every line must be one JSON object")
        }
        guard let object = value as? [String: Any] else {
            throw MetricsInputError(location: location, message: "expected a JSON object, found \(Self.typeName(value)); every line must be one JSON object")
        }
        guard let fieldValue = object[field] else {
            let keys = object.keys.sorted().map { "'\($0)'" }.joined(separator: ", ")
            throw MetricsInputError(
                location: location,
                message: "no field '\(field)' (the object has \(keys.isEmpty ? "no fields" : keys)); choose the text field with --field NAME"
            )
        }
        guard let text = fieldValue as? String else {
            throw MetricsInputError(location: location, message: "field '\(field)' is \(Self.typeName(fieldValue)), expected a string")
        }
        return text
    }

    private static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        return (nsError.userInfo[NSDebugDescriptionErrorKey] as? String) ?? nsError.localizedDescription
    }

    private static func typeName(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case is String: return "a string"
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        case let number as NSNumber:
            // JSONSerialization returns booleans as NSNumbers of ObjC type "c".
            return String(cString: number.objCType) == "c" ? "a boolean" : "a number"
        default: return "\(type(of: value))"
        }
    }
}
