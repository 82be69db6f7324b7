import Foundation
import Testing
@testable import PersonaForgeCore

/// `HashCounts` (the open-addressing count table of the diversity metrics) against
/// `Dictionary`, and the ASCII byte path of `DiversityAccumulator.add` against its
/// general path.
@Suite("Count tables and the diversity byte path")
struct HashCountsTests {
    typealias Generator = DedupTestCorpus.Generator

    @Test func randomAddsAndRemovalsAgreeWithADictionary() {
        var random = Generator(state: 12)
        var table = HashCounts()
        var reference: [UInt64: Int] = [:]
        for step in 0..<60_000 {
            // Small keys collide in the slot function's top bits; hashes spread out.
            let key = step % 3 == 0 ? UInt64.random(in: 0..<2_000, using: &random) : random.next() % 50_000 &* 0x1_0000_0001
            let amount = Int.random(in: 1...3, using: &random)
            table.add(key, amount)
            reference[key, default: 0] += amount
            if step % 10_000 == 9_999 {
                let cut = random.next()
                table.removeAll { key, value in (key ^ cut) % 3 == 0 || value == 1 }
                reference = reference.filter { key, value in !((key ^ cut) % 3 == 0 || value == 1) }
            }
        }
        #expect(table.count == reference.count)
        var seen: [UInt64: Int] = [:]
        table.forEach { key, value in seen[key] = value }
        #expect(seen == reference)
        for (key, value) in reference.prefix(500) { #expect(table[key] == value) }
        #expect(table[0xDEAD_BEEF_0000_0001] == nil)
    }

    @Test func itEncodesAsADictionaryDoesAndDecodesWhatADictionaryWrote() throws {
        var random = Generator(state: 5)
        var reference: [UInt64: Int] = [:]
        for _ in 0..<3_000 { reference[random.next(), default: 0] += Int.random(in: 1...9, using: &random) }
        reference[UInt64.max] = 7
        reference[0] = 1

        let fromDictionary = try JSONDecoder().decode(HashCounts.self, from: JSONEncoder().encode(reference))
        var pairs: [UInt64: Int] = [:]
        fromDictionary.forEach { key, value in pairs[key] = value }
        #expect(pairs == reference)

        let back = try JSONDecoder().decode([UInt64: Int].self, from: JSONEncoder().encode(fromDictionary))
        #expect(back == reference)
    }

    @Test func equalityAndHashIgnoreInsertionOrder() {
        var forward = HashCounts()
        var backward = HashCounts()
        let keys = (0..<1_000 as Range<UInt64>).map { PortableHash.mix($0) }
        for key in keys { forward.add(key, 2) }
        for key in keys.reversed() { backward.add(key, 1); backward.add(key, 1) }
        #expect(forward == backward)
        #expect(forward.hashValue == backward.hashValue)
        backward.add(keys[17], 1)
        #expect(forward != backward)
    }

    @Test(arguments: [
        "[1]", "[1,0]", "[1,-4]", "[1,2,1,3]",
    ])
    func aDamagedTableIsRefused(json: String) {
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(HashCounts.self, from: Data(json.utf8))
        }
    }

    /// Texts with every kind of ASCII whitespace, runs of spaces, leading and trailing
    /// separators, empty texts, and (in `allowWide`) non-ASCII words.
    static func texts(count: Int, seed: UInt64, allowWide: Bool) -> [String] {
        var random = Generator(state: seed)
        let words = ["alpha", "Beta", "gamma", "delta", "ε", "naïve", "x", "1024", "end.", "—", "ok"]
        let separators = [" ", "  ", "\t", "\n", "\r\n", "\u{0B}", "\u{0C}", "\u{1C}", "\u{1F}", " \n "]
        return (0..<count).map { _ in
            var text = ""
            let length = Int.random(in: 0...40, using: &random)
            if random.next() % 5 == 0 { text += separators.randomElement(using: &random)! }
            for index in 0..<length {
                var word = words.randomElement(using: &random)!
                if !allowWide { word = String(word.unicodeScalars.filter(\.isASCII).map(Character.init)) }
                text += word
                if index < length - 1 || random.next() % 4 == 0 { text += separators.randomElement(using: &random)! }
            }
            return text
        }
    }

    @Test(arguments: [false, true])
    func theBytePathAgreesWithTheGeneralPath(allowWide: Bool) throws {
        var configuration = DiversityConfiguration()
        // Small limits: both paths go through overflows, pinning and sampling.
        configuration.exactNGramLimit = 64
        configuration.selfRepetitionRecordLimit = 50
        configuration.selfRepetitionNGramLimit = 64
        configuration.homogenizationSampleSize = 16
        configuration.exactLengthLimit = 100
        var fast = DiversityAccumulator(configuration: configuration)
        var general = DiversityAccumulator(configuration: configuration)
        let texts = Self.texts(count: 400, seed: allowWide ? 2 : 1, allowWide: allowWide)
        #expect(texts.contains(""))
        for text in texts {
            fast.add(text)
            general.addThroughSubstrings(text)
        }
        #expect(fast.ngrams == general.ngrams)
        #expect(fast.selfRepetition == general.selfRepetition)
        #expect(fast.wordLengths == general.wordLengths)
        #expect(fast.characterLengths == general.characterLengths)
        #expect(fast.homogenizationSample.elements == general.homogenizationSample.elements)
        #expect(fast.snapshot() == general.snapshot())
        #expect(!fast.ngrams.isExact, "the limits are meant to make the tables sample")
    }
}
