import Foundation

/// The documents a benchmark runs on: a JSONL file's field, or generated text.
enum BenchmarkCorpus {
    /// Reads the string `field` of every line of a JSONL file.
    static func load(path: String, field: String) throws -> [String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        var documents: [String] = []
        for line in data.split(separator: 0x0A) where !line.isEmpty {
            let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
            if let text = object?[field] as? String { documents.append(text) }
        }
        return documents
    }

    /// `count` documents of `words` words drawn (Zipf-like) from a fixed
    /// synthetic vocabulary with punctuation, deterministic for a seed.
    static func generate(count: Int, words: Int, seed: UInt64 = 7) -> [String] {
        var state = seed
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        let vocabulary: [String] = (0..<20_000).map { _ in
            let length = 2 + Int(next() % 9)
            return String((0..<length).map { _ in letters[Int(next() % 26)] })
        }
        return (0..<count).map { _ in
            var text = ""
            text.reserveCapacity(words * 7)
            for i in 0..<words {
                // Squaring a uniform value skews towards frequent words.
                let u = Double(next() % 1_000_000) / 1_000_000
                let word = vocabulary[Int(u * u * Double(vocabulary.count))]
                text += i == 0 ? word.capitalized : word
                text += i % 12 == 11 ? ". " : " "
            }
            return text
        }
    }
}
