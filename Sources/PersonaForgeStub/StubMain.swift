#if canImport(Glibc)
import Glibc
#endif

/// `personaforge-stub`: an instant OpenAI-compatible server for benchmarks and load tests.
///
///     personaforge-stub [--port 0] [--words 80] [--near-duplicate-percent 20]
///                       [--families 64] [--vocabulary 4096]
///
/// One thread, one epoll loop, HTTP/1.1 keep-alive. It answers
/// `POST …/chat/completions` and `POST …/completions` at once with a deterministic
/// text drawn from the request body's hash (the same request gets the same text), so
/// runs are reproducible; `--near-duplicate-percent` of the requests get a text from a
/// small set of families with one of the last four words changed: near-duplicates of
/// each other (J ≥ 0.87 at 80 words and 5-word shingles), work for the dedup. `GET /health`, `GET …/models`
/// and `GET /stats` (requests served and this process's CPU seconds, so a benchmark can
/// report the stub's own cost per request) are served too. It prints
/// `listening on 127.0.0.1:PORT` once ready.
@main
struct StubMain {
    static func main() {
        var options = StubOptions()
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = arguments.next() {
            if argument == "--help" {
                print("personaforge-stub [--port 0] [--words 80] [--near-duplicate-percent 20] [--families 64] [--vocabulary 4096]")
                return
            }
            guard let value = arguments.next(), let number = Int(value), number >= 0 else {
                fail("\(argument) needs a non-negative integer")
            }
            switch argument {
            case "--port": options.port = number
            case "--words": options.words = max(1, number)
            case "--near-duplicate-percent": options.nearDuplicatePercent = min(100, number)
            case "--families": options.families = max(1, number)
            case "--vocabulary": options.vocabulary = max(16, number)
            default: fail("unknown option \(argument)")
            }
        }
        signal(SIGPIPE, SIG_IGN)
        let server: StubServer
        do {
            server = try StubServer(options: options)
        } catch {
            fail("\(error)")
        }
        let line = "listening on 127.0.0.1:\(server.port)\n"
        _ = line.withCString { Glibc.write(1, $0, strlen($0)) }
        server.run()
    }

    static func fail(_ message: String) -> Never {
        let line = "personaforge-stub: \(message)\n"
        _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
        exit(64)
    }
}

struct StubOptions {
    var port = 0
    var words = 80
    var nearDuplicatePercent = 20
    var families = 64
    var vocabulary = 4096
}

struct StubError: Error, CustomStringConvertible {
    var description: String
    init(_ operation: String) { description = "\(operation): \(String(cString: strerror(errno)))" }
}
