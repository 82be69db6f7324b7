/// Reads a completion response body in one pass over its bytes, keeping only what
/// ``ChatCompletion/decode(_:)`` needs and checking the rest is valid JSON (RFC 8259:
/// no trailing commas, no raw control characters in strings, valid escapes and
/// surrogate pairs, valid UTF-8, nothing after the value, at most 512 levels deep).
///
/// It replaces `JSONSerialization`, which built Foundation objects for the whole body
/// (llama.cpp's `timings` included) and cost about 9 µs of a worker's ~90 µs per
/// record. A field of the wrong type counts as absent, as before.
struct CompletionReader {
    enum Failure: Error {
        /// Not valid JSON.
        case invalid
        /// Valid JSON, but not an object.
        case notAnObject
        /// No `choices` array (or one of its elements is not an object).
        case noChoices
        /// Choice N has neither `message` (an object) nor `text`.
        case noMessage(Int)
    }

    struct Choice {
        var index: Int?
        var content: String
        var finishReason: String?
    }

    struct Completion {
        var id: String?
        var model: String?
        var choices: [Choice] = []
        var promptTokens: Int?
        var completionTokens: Int?
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private var at = 0
    private var depth = 0
    static let maximumDepth = 512

    static func read(_ body: [UInt8]) throws(Failure) -> Completion {
        do {
            return try body.withUnsafeBufferPointer { buffer in
                var reader = CompletionReader(bytes: buffer)
                return try reader.completion()
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw .invalid
        }
    }

    private init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// A value that the reader may keep (string, integer) or only check.
    fileprivate enum Scalar {
        case string(String)
        case number(Double)
        case other
    }

    private mutating func completion() throws(Failure) -> Completion {
        skipWhitespace()
        guard at < bytes.count else { throw .invalid }
        guard bytes[at] == UInt8(ascii: "{") else {
            try skipValue()
            try end()
            throw .notAnObject
        }
        var completion = Completion()
        var choices: [Choice]?
        var choicesFailure: Failure?
        try object { reader, key throws(Failure) in
            switch key {
            case "id": completion.id = try reader.scalarValue().text
            case "model": completion.model = try reader.scalarValue().text
            case "choices":
                do throws(Failure) {
                    choices = try reader.choices()
                    choicesFailure = nil
                } catch {
                    // Not a list of choices: remembered, while the rest of the body is still checked.
                    switch error {
                    case .noChoices, .noMessage: choices = nil; choicesFailure = error
                    case .invalid, .notAnObject: throw error
                    }
                }
            case "usage":
                guard reader.peek() == UInt8(ascii: "{") else { try reader.skipValue(); return }
                try reader.object { reader, key throws(Failure) in
                    switch key {
                    case "prompt_tokens": completion.promptTokens = try reader.scalarValue().integer
                    case "completion_tokens": completion.completionTokens = try reader.scalarValue().integer
                    default: try reader.skipValue()
                    }
                }
            default: try reader.skipValue()
            }
        }
        try end()
        if let choicesFailure { throw choicesFailure }
        guard let choices else { throw .noChoices }
        completion.choices = choices
        return completion
    }

    /// The `choices` array; the whole body is still checked to the end by the caller.
    private mutating func choices() throws(Failure) -> [Choice] {
        guard peek() == UInt8(ascii: "[") else {
            try skipValue()
            throw .noChoices
        }
        var choices: [Choice] = []
        var failure: Failure?
        try array { reader throws(Failure) in
            guard reader.peek() == UInt8(ascii: "{") else {
                try reader.skipValue()
                failure = .noChoices  // over a missing message: the array is not one of choices
                return
            }
            var choice = Choice(content: "")
            var messageContent: String?
            var hasMessage = false
            var text: String?
            var hasText = false
            try reader.object { reader, key throws(Failure) in
                switch key {
                case "index": choice.index = try reader.scalarValue().integer
                case "finish_reason": choice.finishReason = try reader.scalarValue().text
                case "text":
                    hasText = true
                    text = try reader.scalarValue().text
                case "message":
                    guard reader.peek() == UInt8(ascii: "{") else {
                        try reader.skipValue()
                        hasMessage = false
                        messageContent = nil
                        return
                    }
                    hasMessage = true
                    messageContent = nil
                    try reader.object { reader, key throws(Failure) in
                        if key == "content" { messageContent = try reader.scalarValue().text } else { try reader.skipValue() }
                    }
                default: try reader.skipValue()
                }
            }
            if !hasMessage && !hasText { failure = failure ?? .noMessage(choices.count) }
            // A null content (e.g. only tool calls) is an empty text, classified by the caller.
            choice.content = (hasMessage ? messageContent : nil) ?? text ?? ""
            choices.append(choice)
        }
        if let failure { throw failure }
        return choices
    }

    // MARK: Grammar

    private func peek() -> UInt8? { at < bytes.count ? bytes[at] : nil }

    private mutating func skipWhitespace() {
        while at < bytes.count {
            switch bytes[at] {
            case 0x20, 0x09, 0x0A, 0x0D: at += 1
            default: return
            }
        }
    }

    private mutating func end() throws(Failure) {
        skipWhitespace()
        guard at == bytes.count else { throw .invalid }
    }

    private mutating func expect(_ byte: UInt8) throws(Failure) {
        skipWhitespace()
        guard at < bytes.count, bytes[at] == byte else { throw .invalid }
        at += 1
    }

    /// `{ "key": value, … }`, calling `member` with the reader at each value.
    private mutating func object(_ member: (inout CompletionReader, String) throws(Failure) -> Void) throws(Failure) {
        try expect(UInt8(ascii: "{"))
        depth += 1
        guard depth <= Self.maximumDepth else { throw .invalid }
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            at += 1
            depth -= 1
            return
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw .invalid }
            let key = try string()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            try member(&self, key)
            skipWhitespace()
            guard let next = peek() else { throw .invalid }
            at += 1
            if next == UInt8(ascii: "}") { break }
            guard next == UInt8(ascii: ",") else { throw .invalid }
        }
        depth -= 1
    }

    /// `[ value, … ]`, calling `element` with the reader at each value.
    private mutating func array(_ element: (inout CompletionReader) throws(Failure) -> Void) throws(Failure) {
        try expect(UInt8(ascii: "["))
        depth += 1
        guard depth <= Self.maximumDepth else { throw .invalid }
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            at += 1
            depth -= 1
            return
        }
        while true {
            skipWhitespace()
            try element(&self)
            skipWhitespace()
            guard let next = peek() else { throw .invalid }
            at += 1
            if next == UInt8(ascii: "]") { break }
            guard next == UInt8(ascii: ",") else { throw .invalid }
        }
        depth -= 1
    }

    /// Any value, checked and dropped.
    private mutating func skipValue() throws(Failure) {
        skipWhitespace()
        switch peek() {
        case UInt8(ascii: "{"): try object { reader, _ throws(Failure) in try reader.skipValue() }
        case UInt8(ascii: "["): try array { reader throws(Failure) in try reader.skipValue() }
        default: _ = try scalarValue()
        }
    }

    /// A string or number to keep; other values (objects, arrays, literals) checked and dropped.
    private mutating func scalarValue() throws(Failure) -> Scalar {
        skipWhitespace()
        guard let first = peek() else { throw .invalid }
        switch first {
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "{"), UInt8(ascii: "["): try skipValue()
        default: throw .invalid
        }
        return .other
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        guard at + count <= bytes.count else { throw .invalid }
        for offset in 0..<count where bytes[at + offset] != word.utf8Start[offset] { throw .invalid }
        at += count
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private mutating func number() throws(Failure) -> Double {
        let start = at
        if peek() == UInt8(ascii: "-") { at += 1 }
        func digits(_ reader: inout CompletionReader) -> Int {
            let from = reader.at
            while let byte = reader.peek(), byte >= 0x30, byte <= 0x39 { reader.at += 1 }
            return reader.at - from
        }
        guard let lead = peek(), lead >= 0x30, lead <= 0x39 else { throw .invalid }
        if lead == 0x30 {
            at += 1
        } else {
            _ = digits(&self)
        }
        if peek() == UInt8(ascii: ".") {
            at += 1
            guard digits(&self) > 0 else { throw .invalid }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            at += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { at += 1 }
            guard digits(&self) > 0 else { throw .invalid }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
        guard let value = Double(text) else { throw .invalid }
        return value
    }

    /// A string, escapes decoded; the reader is at its opening quote.
    private mutating func string() throws(Failure) -> String {
        at += 1
        let start = at
        // The common case: no escape, ASCII or valid UTF-8 up to the closing quote.
        while at < bytes.count {
            let byte = bytes[at]
            if byte == UInt8(ascii: "\"") {
                let raw = UnsafeBufferPointer(rebasing: bytes[start..<at])
                at += 1
                guard let text = String(validating: raw, as: UTF8.self) else { throw .invalid }
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw .invalid }
            at += 1
        }
        var decoded = Array(UnsafeBufferPointer(rebasing: bytes[start..<at]))
        while at < bytes.count {
            let byte = bytes[at]
            at += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: decoded, as: UTF8.self) else { throw .invalid }
                return text
            case UInt8(ascii: "\\"):
                guard let escape = peek() else { throw .invalid }
                at += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
                case UInt8(ascii: "b"): decoded.append(0x08)
                case UInt8(ascii: "f"): decoded.append(0x0C)
                case UInt8(ascii: "n"): decoded.append(0x0A)
                case UInt8(ascii: "r"): decoded.append(0x0D)
                case UInt8(ascii: "t"): decoded.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        // A high surrogate must be followed by an escaped low one.
                        guard at + 1 < bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else { throw .invalid }
                        at += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw .invalid }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw .invalid
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw .invalid }
                    decoded.append(contentsOf: UTF8.encode(unicode)!)
                default: throw .invalid
                }
            default:
                guard byte >= 0x20 else { throw .invalid }
                decoded.append(byte)
            }
        }
        throw .invalid
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard at + 4 <= bytes.count else { throw .invalid }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[at]
            at += 1
            let digit: UInt32
            switch byte {
            case 0x30...0x39: digit = UInt32(byte - 0x30)
            case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
            default: throw .invalid
            }
            value = value << 4 | digit
        }
        return value
    }
}

extension CompletionReader.Scalar {
    var text: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// A number that is a whole value in `Int`'s range (as `12` or `12.0`).
    var integer: Int? {
        guard case .number(let value) = self, value.rounded(.towardZero) == value, abs(value) < 9.2e18 else { return nil }
        return Int(value)
    }
}
