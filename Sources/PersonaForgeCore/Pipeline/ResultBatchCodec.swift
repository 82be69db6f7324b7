/// The binary form of a ``ResultBatch`` on the results stream.
///
/// JSON through `Codable` cost a worker about half of its CPU per record and the
/// reducer about half of its own (measured with `perf` in `personaforge-bench
/// --end-to-end`): a signature alone is 128 numbers. This form is a flat byte string:
///
///     "PFB" 0x02                      magic and version (0x01: the same without cost)
///     shard: str run, int shard, int start, int count
///     str worker, int attempt, int record count, then per record:
///       int sample_position, int position, int sample
///       int axis count, per axis: str axis, int index, str text, int field count, (str key, str value)…
///       str prompt_hash, str text
///       int step count, per step: str name, str text, str? finish_reason, int? prompt_tokens, int? completion_tokens
///       str model, int sampling count, (str key, f64 value)…
///       str? finish_reason, int prompt_tokens, int completion_tokens
///       byte status (0 kept, 1 filtered, 2 failed, 3 duplicate), str? reason, str? detail
///       bytes? signature, int latency_ms, f64? cost (version 2)
///
/// `int` is a zigzag LEB128 varint, counts are plain LEB128, `str` and `bytes` a
/// LEB128 length and the bytes
/// (UTF-8 for strings), `f64` 8 bytes little-endian, `X?` a byte 0 (absent) or 1 and X.
/// `QueueCodec.decodeBatch` reads the JSON form too (first byte `{`), so batches pushed
/// by workers of an older version are still stored after an upgrade.
public enum ResultBatchCodec {
    static let magic: [UInt8] = [0x50, 0x46, 0x42, 0x02]  // "PFB" 2
    /// Version 1, before records carried their cost: still read, so batches that
    /// workers of the previous version pushed are stored after an upgrade.
    static let magicVersion1: [UInt8] = [0x50, 0x46, 0x42, 0x01]

    public static func encode(_ batch: ResultBatch) -> [UInt8] {
        encode(batch, version: 2)
    }

    /// `version` 1 (no cost) only so that tests can make what older workers pushed.
    static func encode(_ batch: ResultBatch, version: Int) -> [UInt8] {
        var writer = ByteWriter()
        writer.bytes.reserveCapacity(64 + batch.records.count * (1_200 + (batch.records.first?.text.utf8.count ?? 0) * 2))
        writer.bytes.append(contentsOf: version == 1 ? magicVersion1 : magic)
        writer.string(batch.shard.runID)
        writer.int(batch.shard.shard)
        writer.int(batch.shard.start)
        writer.int(batch.shard.count)
        writer.string(batch.worker)
        writer.int(batch.attempt)
        writer.count(batch.records.count)
        for record in batch.records {
            writer.int(record.samplePosition)
            writer.int(record.conditionPosition)
            writer.int(record.sampleIndex)
            writer.count(record.condition.count)
            for value in record.condition {
                writer.string(value.axis)
                writer.int(value.index)
                writer.string(value.value.text)
                writer.count(value.value.fields.count)
                for key in value.value.fields.keys.sorted() {
                    writer.string(key)
                    writer.string(value.value.fields[key]!)
                }
            }
            writer.string(record.promptHash)
            writer.string(record.text)
            writer.count(record.steps.count)
            for step in record.steps {
                writer.string(step.name)
                writer.string(step.text)
                writer.optionalString(step.finishReason)
                writer.optionalInt(step.promptTokens)
                writer.optionalInt(step.completionTokens)
            }
            writer.string(record.model)
            writer.count(record.sampling.count)
            for key in record.sampling.keys.sorted() {
                writer.string(key)
                writer.double(record.sampling[key]!)
            }
            writer.optionalString(record.finishReason)
            writer.int(record.promptTokens)
            writer.int(record.completionTokens)
            writer.bytes.append(statusCode(record.status))
            writer.optionalString(record.reason)
            writer.optionalString(record.detail)
            if let signature = record.signature {
                writer.bytes.append(1)
                writer.count(signature.count)
                writer.bytes.append(contentsOf: signature)
            } else {
                writer.bytes.append(0)
            }
            writer.int(record.latencyMilliseconds)
            if version == 1 { continue }
            if let cost = record.cost {
                writer.bytes.append(1)
                writer.double(cost)
            } else {
                writer.bytes.append(0)
            }
        }
        return writer.bytes
    }

    /// Whether `bytes` are in this form (rather than JSON).
    public static func isBinary(_ bytes: [UInt8]) -> Bool {
        version(of: bytes) != nil
    }

    /// 2 or 1 for the binary forms, nil for anything else.
    static func version(of bytes: [UInt8]) -> Int? {
        guard bytes.count >= magic.count else { return nil }
        let head = Array(bytes.prefix(magic.count))
        return head == magic ? 2 : head == magicVersion1 ? 1 : nil
    }

    public static func decode(_ bytes: [UInt8]) throws(ResultBatchCodecError) -> ResultBatch {
        guard let version = version(of: bytes) else { throw ResultBatchCodecError("not a binary result batch (no PFB1 or PFB2 magic)") }
        var reader = ByteReader(bytes: bytes, offset: magic.count)
        let shard = ShardDescriptor(
            runID: try reader.string(), shard: try reader.int(), start: try reader.int(), count: try reader.int())
        let worker = try reader.string()
        let attempt = try reader.int()
        // 17: one byte for each of a record's 17 fields when all are empty, zero or absent (it was 18,
        // so the shortest records the encoder writes were refused; found by fuzzing).
        let count = try reader.count(minimumBytesEach: 17)
        var records: [GeneratedRecord] = []
        records.reserveCapacity(count)
        for _ in 0..<count {
            let samplePosition = try reader.int()
            let conditionPosition = try reader.int()
            let sampleIndex = try reader.int()
            var condition: [NamedAxisValue] = []
            for _ in 0..<(try reader.count(minimumBytesEach: 4)) {
                let axis = try reader.string()
                let index = try reader.int()
                let text = try reader.string()
                var fields: [String: String] = [:]
                for _ in 0..<(try reader.count(minimumBytesEach: 2)) {
                    let key = try reader.string()
                    fields[key] = try reader.string()
                }
                condition.append(NamedAxisValue(axis: axis, index: index, value: AxisValue(text, fields: fields)))
            }
            let promptHash = try reader.string()
            let text = try reader.string()
            var steps: [GeneratedRecord.Step] = []
            for _ in 0..<(try reader.count(minimumBytesEach: 5)) {
                steps.append(GeneratedRecord.Step(
                    name: try reader.string(), text: try reader.string(), finishReason: try reader.optionalString(),
                    promptTokens: try reader.optionalInt(), completionTokens: try reader.optionalInt()))
            }
            let model = try reader.string()
            var sampling: [String: Double] = [:]
            for _ in 0..<(try reader.count(minimumBytesEach: 9)) {
                let key = try reader.string()
                sampling[key] = try reader.double()
            }
            let finishReason = try reader.optionalString()
            let promptTokens = try reader.int()
            let completionTokens = try reader.int()
            let status = try status(try reader.byte())
            let reason = try reader.optionalString()
            let detail = try reader.optionalString()
            var signature: [UInt8]?
            if try reader.flag() {
                signature = try reader.bytes(try reader.count(minimumBytesEach: 1))
            }
            let latency = try reader.int()
            var cost: Double?
            if version >= 2, try reader.flag() { cost = try reader.double() }
            records.append(GeneratedRecord(
                samplePosition: samplePosition, conditionPosition: conditionPosition, sampleIndex: sampleIndex,
                condition: condition, promptHash: promptHash, text: text, steps: steps, model: model, sampling: sampling,
                finishReason: finishReason, promptTokens: promptTokens, completionTokens: completionTokens, status: status,
                reason: reason, detail: detail, signature: signature, latencyMilliseconds: latency, cost: cost))
        }
        guard reader.offset == bytes.count else {
            throw ResultBatchCodecError("\(bytes.count - reader.offset) bytes after the last record")
        }
        return ResultBatch(shard: shard, worker: worker, attempt: attempt, records: records)
    }

    private static func statusCode(_ status: GeneratedRecord.Status) -> UInt8 {
        switch status {
        case .kept: 0
        case .filtered: 1
        case .failed: 2
        case .duplicate: 3
        }
    }

    private static func status(_ code: UInt8) throws(ResultBatchCodecError) -> GeneratedRecord.Status {
        switch code {
        case 0: .kept
        case 1: .filtered
        case 2: .failed
        case 3: .duplicate
        default: throw ResultBatchCodecError("unknown record status \(code)")
        }
    }
}

/// A result batch whose bytes are not a valid binary batch.
public struct ResultBatchCodecError: Error, CustomStringConvertible, Equatable {
    public let description: String
    init(_ description: String) { self.description = description }
}

private struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func unsigned(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    /// A count or length: plain LEB128 (never negative).
    mutating func count(_ value: Int) {
        unsigned(UInt64(value))
    }

    mutating func int(_ value: Int) {
        let value = Int64(value)
        unsigned(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            unsigned(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func optionalString(_ value: String?) {
        guard let value else { bytes.append(0); return }
        bytes.append(1)
        string(value)
    }

    mutating func optionalInt(_ value: Int?) {
        guard let value else { bytes.append(0); return }
        bytes.append(1)
        int(value)
    }

    mutating func double(_ value: Double) {
        let bits = value.bitPattern
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
    }
}

private struct ByteReader {
    let bytes: [UInt8]
    var offset: Int

    mutating func byte() throws(ResultBatchCodecError) -> UInt8 {
        guard offset < bytes.count else { throw ResultBatchCodecError("truncated at byte \(offset)") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func flag() throws(ResultBatchCodecError) -> Bool {
        switch try byte() {
        case 0: return false
        case 1: return true
        case let other: throw ResultBatchCodecError("byte \(offset - 1) is \(other), not an optional's 0 or 1")
        }
    }

    mutating func unsigned() throws(ResultBatchCodecError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let next = try byte()
            guard shift < 64, shift < 63 || next <= 1 else { throw ResultBatchCodecError("varint too long at byte \(offset)") }
            value |= UInt64(next & 0x7F) << shift
            if next & 0x80 == 0 { return value }
            shift += 7
        }
    }

    mutating func int() throws(ResultBatchCodecError) -> Int {
        let raw = try unsigned()
        return Int(Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1))))
    }

    mutating func optionalInt() throws(ResultBatchCodecError) -> Int? {
        try flag() ? try int() : nil
    }

    /// A count of items that each take at least `minimumBytesEach` bytes: a count the
    /// remaining bytes cannot hold is refused before anything is allocated for it.
    mutating func count(minimumBytesEach: Int) throws(ResultBatchCodecError) -> Int {
        let raw = try unsigned()
        guard raw <= UInt64(bytes.count - offset) / UInt64(max(1, minimumBytesEach)) else {
            throw ResultBatchCodecError("count \(raw) at byte \(offset) exceeds what the remaining \(bytes.count - offset) bytes hold")
        }
        return Int(raw)
    }

    mutating func bytes(_ count: Int) throws(ResultBatchCodecError) -> [UInt8] {
        guard count <= bytes.count - offset else { throw ResultBatchCodecError("truncated: \(count) bytes wanted at byte \(offset)") }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    mutating func string() throws(ResultBatchCodecError) -> String {
        let length = try count(minimumBytesEach: 1)
        defer { offset += length }
        return bytes.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[offset..<(offset + length)]), as: UTF8.self) }
    }

    mutating func optionalString() throws(ResultBatchCodecError) -> String? {
        try flag() ? try string() : nil
    }

    mutating func double() throws(ResultBatchCodecError) -> Double {
        guard offset + 8 <= bytes.count else { throw ResultBatchCodecError("truncated double at byte \(offset)") }
        var bits: UInt64 = 0
        for index in 0..<8 { bits |= UInt64(bytes[offset + index]) << UInt64(8 * index) }
        offset += 8
        return Double(bitPattern: bits)
    }
}
