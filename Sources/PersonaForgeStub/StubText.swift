/// The stub's answers: a deterministic text per request body, as an OpenAI-style JSON body.
struct StubText {
    private let words: [[UInt8]]
    private let length: Int
    private let nearDuplicatePercent: UInt64
    private let families: UInt64
    private var served: UInt64 = 0

    init(options: StubOptions) {
        length = options.words
        nearDuplicatePercent = UInt64(options.nearDuplicatePercent)
        families = UInt64(options.families)
        // Pronounceable lowercase words: nothing to escape in JSON.
        let consonants = Array("bcdfghjklmnprstvwz".utf8)
        let vowels = Array("aeiou".utf8)
        var state: UInt64 = 0x5EED
        var vocabulary: [[UInt8]] = []
        var seen = Set<[UInt8]>()
        while vocabulary.count < options.vocabulary {
            let syllables = 1 + Int(Self.next(&state) % 3)
            var word: [UInt8] = []
            for _ in 0..<syllables {
                word.append(consonants[Int(Self.next(&state) % UInt64(consonants.count))])
                word.append(vowels[Int(Self.next(&state) % UInt64(vowels.count))])
                if Self.next(&state) % 2 == 0 { word.append(consonants[Int(Self.next(&state) % UInt64(consonants.count))]) }
            }
            if seen.insert(word).inserted { vocabulary.append(word) }
        }
        words = vocabulary
    }

    /// splitmix64.
    static func next(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// FNV-1a of the body: the same request gets the same answer.
    static func hash(_ body: ArraySlice<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in body { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return hash
    }

    /// The value of a top-level `"n": K` in the body, if any (1…128).
    static func sampleCount(_ body: ArraySlice<UInt8>) -> Int {
        let key = Array(#""n":"#.utf8)
        var index = body.startIndex
        while index + key.count < body.endIndex {
            if body[index] == key[0] && body[index + 1] == key[1] && body[index + 2] == key[2] && body[index + 3] == key[3] {
                var digit = index + key.count
                while digit < body.endIndex && body[digit] == 32 { digit += 1 }
                var value = 0
                while digit < body.endIndex && body[digit] >= 48 && body[digit] <= 57 && value < 1000 {
                    value = value * 10 + Int(body[digit] - 48)
                    digit += 1
                }
                return min(max(value, 1), 128)
            }
            index += 1
        }
        return 1
    }

    private func appendText(for seed: UInt64, to output: inout [UInt8]) {
        var state = seed
        var changed = -1
        var replacement = 0
        if seed % 100 < nearDuplicatePercent {
            // A family member: the family's text with one word changed.
            state = 0xFA31_1100 &+ (seed >> 8) % families
            // In the last 4 words: two members differ in at most 2 of the last 4 words,
            // so J ≥ 0.87 between any two members of a family at 80 words.
            changed = length - 1 - Int((seed >> 24) % UInt64(min(4, length)))
            replacement = Int((seed >> 40) % UInt64(words.count))
        }
        for position in 0..<length {
            let word = Int(Self.next(&state) % UInt64(words.count))
            if position > 0 { output.append(32) }
            output.append(contentsOf: words[position == changed ? replacement : word])
        }
    }

    mutating func completion(for body: ArraySlice<UInt8>, chat: Bool) -> [UInt8] {
        served += 1
        let seed = Self.hash(body)
        let count = Self.sampleCount(body)
        var output: [UInt8] = []
        output.reserveCapacity(200 + count * (length * 7 + 100))
        output.append(contentsOf: #"{"id":"stub-\#(served)","object":"\#(chat ? "chat.completion" : "text_completion")","model":"stub","choices":["#.utf8)
        for choice in 0..<count {
            if choice > 0 { output.append(UInt8(ascii: ",")) }
            output.append(contentsOf: chat
                ? #"{"index":\#(choice),"message":{"role":"assistant","content":""#.utf8
                : #"{"index":\#(choice),"text":""#.utf8)
            var sampleSeed = seed &+ UInt64(choice)
            appendText(for: choice == 0 ? seed : Self.next(&sampleSeed), to: &output)
            output.append(contentsOf: chat ? #""},"finish_reason":"stop"}"#.utf8 : #"","finish_reason":"stop"}"#.utf8)
        }
        let promptTokens = body.count / 4
        let completionTokens = count * length
        output.append(contentsOf: #"],"usage":{"prompt_tokens":\#(promptTokens),"completion_tokens":\#(completionTokens),"total_tokens":\#(promptTokens + completionTokens)}}"#.utf8)
        return output
    }
}
