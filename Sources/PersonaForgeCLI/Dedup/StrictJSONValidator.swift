/// Checks that bytes are exactly one JSON value (RFC 8259), without building
/// it: no trailing commas, comments, leading zeros, bare `NaN`, bad escapes,
/// raw control characters, unpaired surrogate escapes or invalid UTF-8.
///
/// `JSONDecoder` is lenient about some of these and only checks values it
/// decodes, so `dedup` validates every line with this first: an invalid line
/// is reported, never half-accepted or echoed into the output.
/// Iterative (an explicit stack), so deeply nested input cannot overflow the call stack.
struct StrictJSONValidator {
    /// Where and why the bytes are not valid JSON.
    struct Failure: Error {
        var offset: Int
        var reason: String
    }

    private enum Expectation {
        case value, valueOrArrayEnd, key, keyOrObjectEnd, colon, commaOrEnd, nothing
    }

    private let bytes: UnsafeRawBufferPointer
    private var i = 0

    /// Nil if `bytes` is one valid JSON value (surrounding whitespace allowed), else the first problem.
    static func firstFailure(in bytes: UnsafeRawBufferPointer) -> Failure? {
        var validator = StrictJSONValidator(bytes: bytes)
        do {
            try validator.run()
            return nil
        } catch let failure as Failure {
            return failure
        } catch {
            return Failure(offset: 0, reason: "\(error)")
        }
    }

    private init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    private func fail(_ reason: String) -> Failure { Failure(offset: i, reason: reason) }

    private mutating func run() throws {
        var stack: [UInt8] = []
        var expect = Expectation.value
        let n = bytes.count
        while true {
            while i < n, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
            guard i < n else {
                guard expect == .nothing else { throw fail("unexpected end of line") }
                return
            }
            let c = bytes[i]
            switch expect {
            case .value, .valueOrArrayEnd:
                if expect == .valueOrArrayEnd, c == UInt8(ascii: "]") {
                    stack.removeLast()
                    i += 1
                } else {
                    switch c {
                    case UInt8(ascii: "{"):
                        stack.append(c)
                        i += 1
                        expect = .keyOrObjectEnd
                        continue
                    case UInt8(ascii: "["):
                        stack.append(c)
                        i += 1
                        expect = .valueOrArrayEnd
                        continue
                    case UInt8(ascii: "\""): try scanString()
                    case UInt8(ascii: "t"): try scanLiteral("true")
                    case UInt8(ascii: "f"): try scanLiteral("false")
                    case UInt8(ascii: "n"): try scanLiteral("null")
                    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try scanNumber()
                    default: throw fail("expected a value, found \(describe(c))")
                    }
                }
                expect = stack.isEmpty ? .nothing : .commaOrEnd
            case .key, .keyOrObjectEnd:
                if expect == .keyOrObjectEnd, c == UInt8(ascii: "}") {
                    stack.removeLast()
                    i += 1
                    expect = stack.isEmpty ? .nothing : .commaOrEnd
                } else if c == UInt8(ascii: "\"") {
                    try scanString()
                    expect = .colon
                } else {
                    throw fail("expected a quoted key, found \(describe(c))")
                }
            case .colon:
                guard c == UInt8(ascii: ":") else { throw fail("expected ':', found \(describe(c))") }
                i += 1
                expect = .value
            case .commaOrEnd:
                let open = stack.last!
                if c == UInt8(ascii: ",") {
                    i += 1
                    expect = open == UInt8(ascii: "{") ? .key : .value
                } else if (c == UInt8(ascii: "}") && open == UInt8(ascii: "{"))
                    || (c == UInt8(ascii: "]") && open == UInt8(ascii: "[")) {
                    stack.removeLast()
                    i += 1
                    expect = stack.isEmpty ? .nothing : .commaOrEnd
                } else {
                    throw fail("expected ',' or '\(open == UInt8(ascii: "{") ? "}" : "]")', found \(describe(c))")
                }
            case .nothing:
                throw fail("unexpected \(describe(c)) after the JSON value")
            }
        }
    }

    private func describe(_ byte: UInt8) -> String {
        byte >= 0x20 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
    }

    private mutating func scanLiteral(_ literal: StaticString) throws {
        let count = literal.utf8CodeUnitCount
        guard i + count <= bytes.count else { throw fail("invalid literal") }
        for k in 0..<count where bytes[i + k] != literal.utf8Start[k] { throw fail("invalid literal") }
        i += count
    }

    private mutating func scanDigits() throws {
        let start = i
        while i < bytes.count, bytes[i] &- 0x30 < 10 { i += 1 }
        guard i > start else { throw fail("expected a digit") }
    }

    private mutating func scanNumber() throws {
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count else { throw fail("expected a digit") }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
            if i < bytes.count, bytes[i] &- 0x30 < 10 { throw fail("leading zero in a number") }
        } else {
            try scanDigits()
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            try scanDigits()
        }
        if i < bytes.count, bytes[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            try scanDigits()
        }
    }

    private mutating func scanHex4() throws -> UInt32 {
        guard i + 4 <= bytes.count else { throw fail("incomplete \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - 0x30
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - 0x61 + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - 0x41 + 10
            default: throw fail("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
            i += 1
        }
        return value
    }

    private mutating func scanString() throws {
        i += 1  // opening quote
        let n = bytes.count
        while i < n {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                return
            }
            if c == UInt8(ascii: "\\") {
                i += 1
                guard i < n else { break }
                switch bytes[i] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                     UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    i += 1
                case UInt8(ascii: "u"):
                    i += 1
                    let unit = try scanHex4()
                    if unit >= 0xD800, unit < 0xDC00 {
                        guard i + 2 <= n, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                            throw fail("unpaired UTF-16 surrogate escape")
                        }
                        i += 2
                        let low = try scanHex4()
                        guard low >= 0xDC00, low < 0xE000 else { throw fail("unpaired UTF-16 surrogate escape") }
                    } else if unit >= 0xDC00, unit < 0xE000 {
                        throw fail("unpaired UTF-16 surrogate escape")
                    }
                default:
                    throw fail("invalid escape '\\\(Character(Unicode.Scalar(bytes[i])))' in a string")
                }
                continue
            }
            if c < 0x20 { throw fail("unescaped control character in a string") }
            if c < 0x80 {
                i += 1
                continue
            }
            try scanUTF8Sequence()
        }
        throw fail("unterminated string")
    }

    private mutating func scanUTF8Sequence() throws {
        let lead = bytes[i]
        let length: Int
        let minimum: UInt32
        var value: UInt32
        switch lead {
        case 0xC2...0xDF: length = 2; minimum = 0x80; value = UInt32(lead & 0x1F)
        case 0xE0...0xEF: length = 3; minimum = 0x800; value = UInt32(lead & 0x0F)
        case 0xF0...0xF4: length = 4; minimum = 0x10000; value = UInt32(lead & 0x07)
        default: throw fail("invalid UTF-8")
        }
        guard i + length <= bytes.count else { throw fail("invalid UTF-8") }
        for k in 1..<length {
            let continuation = bytes[i + k]
            guard continuation & 0xC0 == 0x80 else { throw fail("invalid UTF-8") }
            value = value << 6 | UInt32(continuation & 0x3F)
        }
        guard value >= minimum, value <= 0x10FFFF, !(0xD800..<0xE000).contains(value) else {
            throw fail("invalid UTF-8")
        }
        i += length
    }
}
