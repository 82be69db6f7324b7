import Foundation

/// One non-empty JSONL line parsed as a JSON object, with helpers to extract
/// a text field and to append fields without re-serializing the original.
struct JSONLine {
    /// The line's bytes without trailing whitespace (`\r` included).
    let bytes: UnsafeRawBufferPointer
    let object: [String: Any]
    let lineNumber: Int

    /// Whether `line` holds only whitespace.
    static func isBlank(_ line: UnsafeRawBufferPointer) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }

    init(_ line: UnsafeRawBufferPointer, lineNumber: Int, source: String) throws {
        var end = line.count
        while end > 0, line[end - 1] == 0x20 || line[end - 1] == 0x09 || line[end - 1] == 0x0D { end -= 1 }
        bytes = UnsafeRawBufferPointer(rebasing: line[0..<end])
        self.lineNumber = lineNumber
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(bytes), options: [])
        } catch {
            throw DedupInputError(
                "\(source) line \(lineNumber): invalid JSON (\(Self.preview(bytes))); "
                    + "fix or remove the line — every non-empty line must be one JSON object")
        }
        guard let object = parsed as? [String: Any] else {
            throw DedupInputError(
                "\(source) line \(lineNumber): expected a JSON object, found \(Self.typeName(parsed)) (\(Self.preview(bytes)))")
        }
        self.object = object
    }

    static func preview(_ bytes: UnsafeRawBufferPointer) -> String {
        let text = String(decoding: bytes.prefix(60), as: UTF8.self)
        return bytes.count > 60 ? "starts \(text.debugDescription)…" : text.debugDescription
    }

    static func typeName(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case is String: return "a string"
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        case is NSNumber: return "a number or boolean"
        default: return "\(type(of: value))"
        }
    }

    /// The JSON text of any value (fragment), e.g. `"abc"` or `42`.
    static func fragment(_ value: Any) throws -> [UInt8] {
        [UInt8](try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .withoutEscapingSlashes]))
    }

    /// The line with `"duplicate_of"` and `"similarity"` added. The original
    /// bytes are kept and the fields spliced in before the closing brace; if
    /// the object already has either field, it is re-serialized with new values.
    func addingDuplicateFields(reference: [UInt8], similarity: Double) throws -> [UInt8] {
        let similarityText = Array("\(similarity)".utf8)
        if object["duplicate_of"] != nil || object["similarity"] != nil {
            var copy = object
            copy["duplicate_of"] = try JSONSerialization.jsonObject(with: Data(reference), options: [.fragmentsAllowed])
            copy["similarity"] = similarity
            return [UInt8](try JSONSerialization.data(withJSONObject: copy, options: [.withoutEscapingSlashes]))
        }
        // A JSON object's text ends with `}` once trailing whitespace is removed.
        var result = [UInt8](bytes.dropLast())
        result.reserveCapacity(bytes.count + reference.count + 40)
        if !object.isEmpty { result.append(UInt8(ascii: ",")) }
        result += Array(#""duplicate_of":"#.utf8)
        result += reference
        result += Array(#","similarity":"#.utf8)
        result += similarityText
        result.append(UInt8(ascii: "}"))
        return result
    }
}
