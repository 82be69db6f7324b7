import Foundation

/// One non-empty JSONL line: validated as a JSON object, with the text field
/// (and optional id field) extracted, and a way to append fields without
/// re-serializing the original bytes.
///
/// Each line is first checked by ``StrictJSONValidator``; then `JSONDecoder`
/// reads only the named fields (about twice as fast as `JSONSerialization`,
/// which builds every value).
struct JSONLine {
    /// The line's bytes without trailing whitespace (`\r` included).
    let bytes: UnsafeRawBufferPointer
    let lineNumber: Int
    let fields: JSONLineFields

    /// Whether `line` holds only whitespace.
    static func isBlank(_ line: UnsafeRawBufferPointer) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }

    /// A decoder configured to extract `field` and `idField`; reuse it for every line.
    static func decoder(field: String, idField: String?) -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.userInfo[JSONLineFields.namesKey] = JSONLineFields.Names(text: field, id: idField)
        return decoder
    }

    init(_ line: UnsafeRawBufferPointer, lineNumber: Int, source: String, decoder: JSONDecoder) throws {
        var end = line.count
        while end > 0, line[end - 1] == 0x20 || line[end - 1] == 0x09 || line[end - 1] == 0x0D { end -= 1 }
        bytes = UnsafeRawBufferPointer(rebasing: line[0..<end])
        self.lineNumber = lineNumber
        if let failure = StrictJSONValidator.firstFailure(in: bytes) {
            throw DedupInputError(
                "\(source) line \(lineNumber), byte \(failure.offset + 1): invalid JSON, \(failure.reason) "
                    + "(\(Self.preview(bytes))); fix or remove the line — every non-empty line must be one JSON object")
        }
        do {
            fields = try decoder.decode(JSONLineFields.self, from: Data(bytes))
        } catch DecodingError.typeMismatch(_, let context) where context.codingPath.isEmpty {
            throw DedupInputError(
                "\(source) line \(lineNumber): expected a JSON object, found another JSON value (\(Self.preview(bytes)))")
        } catch let error as DedupInputError {
            throw DedupInputError("\(source) line \(lineNumber): \(error.message)")
        } catch {
            throw DedupInputError("\(source) line \(lineNumber): cannot read the JSON object: \(error)")
        }
    }

    static func preview(_ bytes: UnsafeRawBufferPointer) -> String {
        let text = String(decoding: bytes.prefix(60), as: UTF8.self)
        return bytes.count > 60 ? "starts \(text.debugDescription)…" : text.debugDescription
    }

    /// The line with `"duplicate_of"` and `"similarity"` added. The original
    /// bytes are kept and the fields spliced in before the closing brace; if
    /// the object already has either field, it is re-serialized with new values.
    func addingDuplicateFields(reference: [UInt8], similarity: Double) throws -> [UInt8] {
        let similarityText = Array("\(similarity)".utf8)
        if fields.hasDuplicateFields {
            guard var object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { return [] }
            object["duplicate_of"] = try JSONSerialization.jsonObject(with: Data(reference), options: [.fragmentsAllowed])
            object["similarity"] = similarity
            return [UInt8](try JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes]))
        }
        // A JSON object's text ends with `}` once trailing whitespace is removed.
        var result = [UInt8](bytes.dropLast())
        result.reserveCapacity(bytes.count + reference.count + 40)
        if !fields.isEmptyObject { result.append(UInt8(ascii: ",")) }
        result += Array(#""duplicate_of":"#.utf8)
        result += reference
        result += Array(#","similarity":"#.utf8)
        result += similarityText
        result.append(UInt8(ascii: "}"))
        return result
    }
}

/// What `dedup` needs from one JSON object; decoding it validates the whole line.
struct JSONLineFields: Decodable {
    struct Names: Sendable {
        var text: String
        var id: String?
    }

    enum Value {
        case missing
        case string(String)
        /// Present but not a string: its JSON type, for the error message.
        case other(String)
    }

    static let namesKey = CodingUserInfoKey(rawValue: "personaforge.dedup.fieldNames")!

    var text: Value
    /// With `--id-field`: the id's JSON text (a string, number or boolean).
    var id: [UInt8]?
    var isEmptyObject: Bool
    var hasDuplicateFields: Bool

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let names = decoder.userInfo[Self.namesKey] as? Names ?? Names(text: "text")
        let container = try decoder.container(keyedBy: Key.self)
        isEmptyObject = container.allKeys.isEmpty
        hasDuplicateFields = container.contains(Key("duplicate_of")) || container.contains(Key("similarity"))
        let textKey = Key(names.text)
        if !container.contains(textKey) {
            text = .missing
        } else if let string = try? container.decode(String.self, forKey: textKey) {
            text = .string(string)
        } else {
            text = .other(try Self.typeName(in: container, forKey: textKey))
        }
        guard let idName = names.id else { return }
        let idKey = Key(idName)
        guard container.contains(idKey) else {
            throw DedupInputError("no id field '\(idName)' (given by --id-field)")
        }
        if let string = try? container.decode(String.self, forKey: idKey) {
            id = [UInt8](try JSONSerialization.data(withJSONObject: string, options: [.fragmentsAllowed]))
        } else if let integer = try? container.decode(Int.self, forKey: idKey) {
            id = Array(String(integer).utf8)
        } else if let number = try? container.decode(Double.self, forKey: idKey) {
            id = Array("\(number)".utf8)
        } else if let flag = try? container.decode(Bool.self, forKey: idKey) {
            id = Array(String(flag).utf8)
        } else {
            let type = try Self.typeName(in: container, forKey: idKey)
            throw DedupInputError("id field '\(idName)' is \(type); use a field holding a string, number or boolean")
        }
    }

    static func typeName(in container: KeyedDecodingContainer<Key>, forKey key: Key) throws -> String {
        if try container.decodeNil(forKey: key) { return "null" }
        if (try? container.decode(Bool.self, forKey: key)) != nil { return "a boolean" }
        if (try? container.decode(Double.self, forKey: key)) != nil { return "a number" }
        if (try? container.nestedUnkeyedContainer(forKey: key)) != nil { return "an array" }
        return "an object"
    }
}
