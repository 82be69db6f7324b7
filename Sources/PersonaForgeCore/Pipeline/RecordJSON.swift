/// The JSON texts of a record's `condition`, `steps` and `sampling` columns, written
/// directly: the same objects `JSONEncoder` wrote (keys sorted, absent optionals left
/// out), at a fraction of its cost (it was about a quarter of the reducer's CPU per
/// record). The columns are `jsonb`, so only the structure matters.
public enum RecordJSON {
    /// `[{"axis":…,"index":…,"value":{"fields":{…},"text":…}}, …]`
    public static func condition(_ values: [NamedAxisValue]) -> String {
        var json = JSONTextWriter()
        json.bytes.append(UInt8(ascii: "["))
        for (position, value) in values.enumerated() {
            if position > 0 { json.comma() }
            json.raw(#"{"axis":"#)
            json.string(value.axis)
            json.raw(#","index":"#)
            json.raw(String(value.index))
            json.raw(#","value":{"fields":{"#)
            for (offset, key) in value.value.fields.keys.sorted().enumerated() {
                if offset > 0 { json.comma() }
                json.string(key)
                json.bytes.append(UInt8(ascii: ":"))
                json.string(value.value.fields[key]!)
            }
            json.raw(#"},"text":"#)
            json.string(value.value.text)
            json.raw("}}")
        }
        json.bytes.append(UInt8(ascii: "]"))
        return json.text
    }

    /// `[{"completion_tokens":…,"finish_reason":…,"name":…,"prompt_tokens":…,"text":…}, …]`
    public static func steps(_ steps: [GeneratedRecord.Step]) -> String {
        var json = JSONTextWriter()
        json.bytes.append(UInt8(ascii: "["))
        for (position, step) in steps.enumerated() {
            if position > 0 { json.comma() }
            json.bytes.append(UInt8(ascii: "{"))
            if let completionTokens = step.completionTokens {
                json.raw(#""completion_tokens":"#)
                json.raw(String(completionTokens))
                json.comma()
            }
            if let finishReason = step.finishReason {
                json.raw(#""finish_reason":"#)
                json.string(finishReason)
                json.comma()
            }
            json.raw(#""name":"#)
            json.string(step.name)
            if let promptTokens = step.promptTokens {
                json.raw(#","prompt_tokens":"#)
                json.raw(String(promptTokens))
            }
            json.raw(#","text":"#)
            json.string(step.text)
            json.bytes.append(UInt8(ascii: "}"))
        }
        json.bytes.append(UInt8(ascii: "]"))
        return json.text
    }

    /// `{"key":number, …}`; a value that is not finite is written as `null`.
    public static func sampling(_ values: [String: Double]) -> String {
        var json = JSONTextWriter()
        json.bytes.append(UInt8(ascii: "{"))
        for (offset, key) in values.keys.sorted().enumerated() {
            if offset > 0 { json.comma() }
            json.string(key)
            json.bytes.append(UInt8(ascii: ":"))
            json.number(values[key]!)
        }
        json.bytes.append(UInt8(ascii: "}"))
        return json.text
    }
}

/// Appends JSON pieces to bytes: strings escaped as RFC 8259 requires (`"`, `\`, control
/// characters), everything else as its UTF-8.
public struct JSONTextWriter: Sendable {
    public var bytes: [UInt8] = []

    public init() {}

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    public mutating func comma() { bytes.append(UInt8(ascii: ",")) }

    public mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }

    /// An integer-valued double as an integer, others in Swift's shortest form
    /// (valid JSON), and `null` for infinities and NaN (JSON has no such numbers).
    public mutating func number(_ value: Double) {
        if !value.isFinite {
            raw("null")
        } else if value == value.rounded(), abs(value) < 1e15 {
            raw(String(Int64(value)))
        } else {
            raw(value.description)
        }
    }

    public mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5C, 0x22])
                case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                case 0..<0x20:
                    bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, Self.hex[Int(byte >> 4)], Self.hex[Int(byte & 15)]])
                default: bytes.append(byte)
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static let hex = Array("0123456789abcdef".utf8)
}
