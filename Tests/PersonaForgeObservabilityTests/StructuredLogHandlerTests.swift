import Foundation
import Logging
import PersonaForgeObservability
import Testing

@Suite struct StructuredLogHandlerTests {
    let time = Date(timeIntervalSince1970: 1_700_000_000.25)

    @Test func jsonLinesAreOneParseableObjectWithEscapedValues() throws {
        let line = StructuredLogHandler.line(
            format: .json, timestamp: time, level: .warning, label: "personaforge.worker",
            message: "shard \"7\" released\nnext", metadata: ["shard": "7", "error": .string("tab\there")]
        )
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["msg"] == "shard \"7\" released\nnext")
        #expect(object["level"] == "warning")
        #expect(object["logger"] == "personaforge.worker")
        #expect(object["error"] == "tab\there")
        #expect(object["ts"]?.hasPrefix("2023-11-14T22:13:20.25") == true)
    }

    @Test func logfmtQuotesOnlyWhatNeedsQuoting() {
        let line = StructuredLogHandler.line(
            format: .logfmt, timestamp: time, level: .info, label: "personaforge.reducer",
            message: "stored result batches", metadata: ["batches": "3", "note": "a=b \"c\""]
        )
        #expect(line.hasSuffix(#"level=info logger=personaforge.reducer msg="stored result batches" batches=3 note="a=b \"c\"""#))
    }
}
