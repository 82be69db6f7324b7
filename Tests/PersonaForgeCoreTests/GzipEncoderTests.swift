import Foundation
import PersonaForgeCompression
import PersonaForgeCore
import Testing

/// The streaming gzip encoder, checked by the real `gzip` tool and Python's gzip module.
@Suite struct GzipEncoderTests {
    /// Encodes `input` fed in pieces of the given sizes (cycled) and returns the gzip bytes.
    static func encode(_ input: [UInt8], pieces: [Int], level: Int = 6) -> (bytes: [UInt8], reportedIn: Int, reportedOut: Int) {
        var encoder = GzipEncoder(level: level)
        var output: [UInt8] = []
        var offset = 0
        var piece = 0
        while offset < input.count {
            let size = min(pieces[piece % pieces.count], input.count - offset)
            input[offset..<offset + size].withUnsafeBytes { encoder.compress($0) { output += $0 } }
            offset += size
            piece += 1
        }
        encoder.finish { output += $0 }
        return (output, encoder.inputByteCount, encoder.outputByteCount)
    }

    /// JSONL-like text with repetition and some noise: about `lines` lines.
    static func corpus(lines: Int) -> [UInt8] {
        var generator = SplitMix64(state: 7)
        var text = ""
        for line in 0..<lines {
            text += "{\"position\":\(line),\"text\":\"persona \(generator.next() % 500) asks about topic \(generator.next() % 40): ünïcødé 🎉 \(generator.next())\"}\n"
        }
        return Array(text.utf8)
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, output: Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    @Test(arguments: [[1], [7, 4096, 3], [65536 * 3]])
    func roundTripsThroughGzipAndPython(pieces: [Int]) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let input = Self.corpus(lines: 20_000)  // ~2 MB: several 64 KiB output buffers
        let encoded = Self.encode(input, pieces: pieces)
        #expect(encoded.reportedIn == input.count)
        #expect(encoded.reportedOut == encoded.bytes.count)
        #expect(encoded.bytes.count < input.count / 3)
        #expect(Array(encoded.bytes.prefix(3)) == [0x1F, 0x8B, 0x08])  // gzip magic, deflate
        let path = directory.path + "/out.jsonl.gz"
        try Data(encoded.bytes).write(to: URL(fileURLWithPath: path))
        #expect(try Self.run(["gzip", "-t", path]).status == 0)
        let decompressed = try Self.run(["gzip", "-dc", path])
        #expect(decompressed.status == 0)
        #expect(Array(decompressed.output) == input)
        let python = try Self.run(["python3", "-c", "import gzip, sys; sys.stdout.buffer.write(gzip.open(sys.argv[1]).read())", path])
        #expect(python.status == 0)
        #expect(Array(python.output) == input)
    }

    @Test func theSameInputGivesTheSameBytes() {
        let input = Self.corpus(lines: 100)
        #expect(Self.encode(input, pieces: [13]).bytes == Self.encode(input, pieces: [1000]).bytes)
        // mtime 0 in the header: bytes 4...7.
        #expect(Array(Self.encode(input, pieces: [13]).bytes[4..<8]) == [0, 0, 0, 0])
    }

    @Test func emptyInputIsAValidEmptyMember() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let encoded = Self.encode([], pieces: [1])
        let path = directory.path + "/empty.gz"
        try Data(encoded.bytes).write(to: URL(fileURLWithPath: path))
        let decompressed = try Self.run(["gzip", "-dc", path])
        #expect(decompressed.status == 0)
        #expect(decompressed.output.isEmpty)
    }

    @Test func aThrowingSinkStopsTheEncoder() {
        struct Full: Error {}
        var encoder = GzipEncoder(level: 1)
        let input = Self.corpus(lines: 5_000)
        var caught: (any Error)?
        do {
            // 5,000 lines at level 1 fill the 64 KiB output buffer: the sink is called.
            try input.withUnsafeBytes { bytes in try encoder.compress(bytes) { _ in throw Full() } }
        } catch {
            caught = error
        }
        #expect(caught is Full)
    }
}
