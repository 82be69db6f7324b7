/// Recognizes outputs in which the LLM refused or apologized instead of doing the task.
///
/// Refusals from instruction-tuned models are formulaic and come first
/// ("I'm sorry, but I can't assist with that."), so only the start of the
/// output is examined: its first ``window`` Unicode scalars after leading
/// whitespace. That text is normalized — lowercased, the apostrophe variants
/// ’ ‘ ʼ ´ \` turned into ', Markdown emphasis (`*`, `_`) removed, runs of
/// whitespace collapsed to one space — and searched for any of ``phrases``
/// starting at a word boundary and, when the phrase ends in a letter, ending
/// at one ("i can't assist" does not match "hi can't assistance").
///
/// The phrase list is curated for precision on persona-style, first-person
/// text. It has three families:
///
/// - AI disclaimers: "as an ai language model", "as an ai assistant", …
/// - an apology followed by an inability: "sorry, but i can't",
///   "i apologize, but i cannot", "sorry, i'm unable", …
/// - an inability followed by a task verb: "i can't assist", "i cannot help
///   with", "i'm unable to provide", "i won't write that", "i must decline", …
///
/// Bare "I can't" or "I am unable to" are *not* refusals ("I can't help but
/// smile", "I am unable to forget that summer"): a narrator may say them.
/// A run that wants no refusal check sets `filters.reject_refusals: false`.
///
/// Matching walks a byte trie of the phrases from each word start in the
/// window, so the cost does not grow with the number of phrases.
public enum RefusalDetector {
    /// How many Unicode scalars from the start of the output are examined.
    public static let window = 200

    /// Every phrase recognized, normalized (lowercase ASCII, straight apostrophes).
    public static let phrases: [String] = {
        let disclaimers = [
            "as an ai language model", "as a language model", "as an ai assistant", "as an ai model",
            "as an artificial intelligence", "as an ai developed by", "as an ai, i",
            "i'm an ai language model", "i am an ai language model", "i'm just an ai", "i am just an ai",
        ]
        let inabilities = [
            "i can't", "i cannot", "i can not", "i won't", "i will not",
            "i'm unable to", "i am unable to", "i'm not able to", "i am not able to",
        ]
        let apologies = ["sorry, but ", "sorry, ", "apologize, but ", "apologise, but ", "apologies, but ", "apologize, ", "apologies, "]
        let apologyInabilities = [
            "i can't", "i cannot", "i can not", "i won't", "i will not",
            "i'm unable", "i am unable", "i'm not able", "i am not able",
        ]
        let tasks = [
            "help with", "help you with", "assist", "comply", "fulfill", "fulfil",
            "provide that", "provide this", "provide such", "provide the requested", "provide content",
            "provide information", "provide assistance", "provide help",
            "create that", "create this", "create content", "generate that", "generate this", "generate content",
            "write that", "write this", "write content", "produce that", "produce this", "produce content",
            "engage in", "participate in", "do that", "answer that", "answer this",
            "continue with this", "continue with that", "support that", "support this",
        ]
        let declines = ["i must decline", "i must respectfully decline", "i have to decline", "i must refuse"]
        var phrases = disclaimers + declines
        for apology in apologies {
            for inability in apologyInabilities { phrases.append(apology + inability) }
        }
        for inability in inabilities {
            for task in tasks { phrases.append(inability + " " + task) }
        }
        return phrases
    }()

    /// The phrase found at the earliest position in the start of `text`
    /// (the longest one there), or nil.
    public static func matchedPhrase(in text: String) -> String? {
        let bytes = normalizedStart(of: text)
        for start in bytes.indices where start == 0 || !isWordByte(bytes[start - 1]) {
            if let phrase = trie.longestMatch(in: bytes, from: start) { return phrases[phrase] }
        }
        return nil
    }

    /// Whether `text` opens with a refusal or apology.
    public static func isRefusal(_ text: String) -> Bool {
        matchedPhrase(in: text) != nil
    }

    // MARK: Normalization

    /// Non-ASCII letters and digits become this byte (a word byte no phrase contains).
    static let otherWordByte: UInt8 = 0x80
    /// Other non-ASCII scalars become this byte (not a word byte).
    static let otherByte: UInt8 = 0x81

    /// The first ``window`` scalars after leading whitespace, normalized to bytes:
    /// ASCII lowercased, apostrophes straightened, emphasis removed, whitespace collapsed.
    static func normalizedStart(of text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(window)
        var examined = 0
        var pendingSpace = false
        var skippingLeadingWhitespace = true
        for scalar in text.unicodeScalars {
            let isSpace = WordTokenizer.isWhitespace(scalar)
            if skippingLeadingWhitespace {
                if isSpace { continue }
                skippingLeadingWhitespace = false
            }
            guard examined < window else { break }
            examined += 1
            if isSpace {
                pendingSpace = true
                continue
            }
            let byte: UInt8
            switch scalar.value {
            case 0x2A, 0x5F: continue  // * _ (Markdown emphasis)
            case 0x27, 0x60, 0xB4, 0x2BC, 0x2018, 0x2019: byte = 0x27  // ' ` ´ ʼ ‘ ’
            case 0x41...0x5A: byte = UInt8(scalar.value) | 0x20
            case 0...0x7F: byte = UInt8(scalar.value)
            default: byte = WordTokenizer.isWordScalar(scalar) ? otherWordByte : otherByte
            }
            if pendingSpace, !bytes.isEmpty { bytes.append(0x20) }
            pendingSpace = false
            bytes.append(byte)
        }
        return bytes
    }

    @inline(__always)
    static func isWordByte(_ byte: UInt8) -> Bool {
        byte == otherWordByte || (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A)
    }

    // MARK: Trie

    static let trie = PhraseTrie(phrases.map { Array($0.utf8) })

    /// A byte trie over the phrases.
    struct PhraseTrie: Sendable {
        /// Per node: its children as (byte, node) pairs, and the phrase ending there.
        private var children: [[(byte: UInt8, node: Int)]] = [[]]
        private var terminal: [Int?] = [nil]

        init(_ phrases: [[UInt8]]) {
            for (index, phrase) in phrases.enumerated() {
                var node = 0
                for byte in phrase {
                    if let child = children[node].first(where: { $0.byte == byte })?.node {
                        node = child
                    } else {
                        children.append([])
                        terminal.append(nil)
                        children[node].append((byte, children.count - 1))
                        node = children.count - 1
                    }
                }
                if terminal[node] == nil { terminal[node] = index }
            }
        }

        /// The longest phrase that starts at `start` in `bytes` and ends at a
        /// word boundary (if it ends in a word byte), as an index into the phrases.
        func longestMatch(in bytes: [UInt8], from start: Int) -> Int? {
            var node = 0
            var best: Int?
            var position = start
            while position < bytes.count,
                  let child = children[node].first(where: { $0.byte == bytes[position] })?.node {
                node = child
                position += 1
                if let phrase = terminal[node] {
                    let endsInWord = RefusalDetector.isWordByte(bytes[position - 1])
                    let atBoundary = position == bytes.count || !RefusalDetector.isWordByte(bytes[position])
                    if !endsInWord || atBoundary { best = phrase }
                }
            }
            return best
        }
    }
}
