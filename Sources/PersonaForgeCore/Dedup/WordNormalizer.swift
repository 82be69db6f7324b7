/// Splits UTF-8 text into normalized words: the first stage of MinHash shingling.
///
/// Normalization, in one pass over the UTF-8 bytes:
/// - A *word character* is a Unicode letter, mark or number (general
///   categories L*, M*, N*). Everything else — punctuation, symbols, emoji, whitespace, control
///   characters, invalid UTF-8 — separates words, so `"Hello,   world!"` and
///   `"hello world"` give the same words, and `"don't"` gives `don`, `t`.
/// - Word characters are lowercased with Unicode's full lowercase mapping
///   (`"ÉCOLE"` → `"école"`, `"İ"` → `"i̇"`). ASCII takes a branch-light fast path.
/// - No Unicode normalization (NFC/NFKC) is applied: precomposed and decomposed
///   accents give different words. Scripts written without spaces (Chinese,
///   Japanese, Thai) become one long word per run; word shingles suit
///   space-separated languages.
struct WordNormalizer {
    /// Passes the lowercased UTF-8 bytes of each word of `text` to `sink`, in order.
    ///
    /// The buffer passed to the sink is only valid during the call. (A sink
    /// passed `inout` rather than a closure capturing a `var` keeps dynamic
    /// exclusivity checks out of the per-word path.) One scratch
    /// buffer is allocated per call (not per word).
    static func forEachWord<Sink: WordSink>(
        in text: UnsafeBufferPointer<UInt8>,
        into sink: inout Sink
    ) {
        let count = text.count
        guard count > 0, let input = text.baseAddress else { return }
        // Lowercasing grows a scalar's UTF-8 by at most 1.5× (e.g. U+023A → U+2C65);
        // `append` still checks and grows, so this is only the common-case size.
        var scratch = ScratchBytes(capacity: count * 2 + 16)
        defer { scratch.deallocate() }
        var i = 0
        while i < count {
            let byte = input[i]
            if byte < 0x80 {
                let lower = byte | 0x20
                if lower &- 0x61 < 26 {  // a-z / A-Z
                    scratch.append(lower)
                } else if byte &- 0x30 < 10 {  // 0-9
                    scratch.append(byte)
                } else if scratch.count > 0 {
                    sink.consume(scratch.bytes)
                    scratch.count = 0
                }
                i += 1
                continue
            }
            guard let (scalar, length) = decodeScalar(input, at: i, count: count) else {
                if scratch.count > 0 {
                    sink.consume(scratch.bytes)
                    scratch.count = 0
                }
                i += 1
                continue
            }
            let kind = classify(scalar)
            if kind != .separator {
                if kind == .mayChangeCase, scalar.properties.changesWhenLowercased {
                    for unit in scalar.properties.lowercaseMapping.utf8 { scratch.append(unit) }
                } else {
                    for offset in 0..<length { scratch.append(input[i + offset]) }
                }
            } else if scratch.count > 0 {
                sink.consume(scratch.bytes)
                scratch.count = 0
            }
            i += length
        }
        if scratch.count > 0 { sink.consume(scratch.bytes) }
    }

    /// The normalized words of `text`, as strings (slow path, for inspection and tests).
    static func words(of text: String) -> [String] {
        var sink = WordStringSink()
        var text = text
        text.withUTF8 { forEachWord(in: $0, into: &sink) }
        return sink.words
    }

    enum ScalarKind {
        case separator
        /// A word character whose lowercase form is itself.
        case caseless
        /// A word character that may have a different lowercase form.
        case mayChangeCase
    }

    /// Classifies a non-ASCII scalar; the big caseless scripts (CJK, kana,
    /// Hangul) skip the Unicode property lookup.
    @inline(__always)
    static func classify(_ scalar: Unicode.Scalar) -> ScalarKind {
        switch scalar.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0xAC00...0xD7A3, 0x3041...0x3096, 0x30A1...0x30FA:
            return .caseless
        default:
            break
        }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .titlecaseLetter, .letterNumber:
            return .mayChangeCase
        case .lowercaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark,
             .decimalNumber, .otherNumber:
            return .caseless
        default:
            return .separator
        }
    }

    /// Decodes one non-ASCII scalar starting at `i`; nil for invalid UTF-8.
    @inline(__always)
    static func decodeScalar(
        _ p: UnsafePointer<UInt8>, at i: Int, count: Int
    ) -> (Unicode.Scalar, Int)? {
        let lead = p[i]
        let length: Int
        var value: UInt32
        if lead & 0xE0 == 0xC0 {
            length = 2
            value = UInt32(lead & 0x1F)
        } else if lead & 0xF0 == 0xE0 {
            length = 3
            value = UInt32(lead & 0x0F)
        } else if lead & 0xF8 == 0xF0 {
            length = 4
            value = UInt32(lead & 0x07)
        } else {
            return nil
        }
        guard i + length <= count else { return nil }
        for offset in 1..<length {
            let continuation = p[i + offset]
            guard continuation & 0xC0 == 0x80 else { return nil }
            value = (value << 6) | UInt32(continuation & 0x3F)
        }
        // Reject overlong encodings and surrogates.
        let minimum: UInt32 = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000
        guard value >= minimum, let scalar = Unicode.Scalar(value) else { return nil }
        return (scalar, length)
    }
}

/// Receives the normalized words of a text from ``WordNormalizer``.
protocol WordSink {
    mutating func consume(_ word: UnsafeRawBufferPointer)
}

/// Collects each word's xxHash64 (seed 0): the fast path of MinHash.
struct WordHashSink: WordSink {
    var hashes: ContiguousArray<UInt64>

    @inline(__always)
    mutating func consume(_ word: UnsafeRawBufferPointer) {
        hashes.append(XXHash64.hash(word.baseAddress!, count: word.count, seed: 0))
    }
}

/// Collects words as strings (inspection and tests).
struct WordStringSink: WordSink {
    var words: [String] = []

    mutating func consume(_ word: UnsafeRawBufferPointer) {
        words.append(String(decoding: word, as: UTF8.self))
    }
}

/// A growable byte buffer reused across words; owned by one `forEachWord` call.
struct ScratchBytes {
    var pointer: UnsafeMutablePointer<UInt8>
    var capacity: Int
    var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        pointer = .allocate(capacity: self.capacity)
    }

    var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: pointer, count: count)
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        if count == capacity { grow() }
        pointer[count] = byte
        count += 1
    }

    mutating func grow() {
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
        bigger.update(from: pointer, count: count)
        pointer.deallocate()
        pointer = bigger
        capacity *= 2
    }

    func deallocate() { pointer.deallocate() }
}
