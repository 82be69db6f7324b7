/// A count per 64-bit key, for keys that are already hashes (`TextHash`, n-gram hashes):
/// one open-addressing table with linear probing, so an increment is a multiply, a shift
/// and usually one probe, instead of `Dictionary`'s SipHash of the key and its separate
/// bucket metadata. It holds only positive counts (a key with count 0 is absent).
///
/// It encodes exactly as `[UInt64: Int]` does (an unkeyed list of alternating keys and
/// counts), so states stored with the dictionary decode into it and the other way round.
/// Equality and hashing ignore order, like `Dictionary`'s.
struct HashCounts: Sendable {
    /// A key and its count side by side: one cache line per probe. Count 0 marks an
    /// empty slot.
    private struct Slot: Sendable {
        var key: UInt64
        var count: Int
    }

    private var slots: [Slot]
    /// Occupied slots.
    private(set) var count = 0
    /// 64 − log2(slot count): the slot of a key is the top bits of its Fibonacci product.
    private var shift: UInt64

    /// An empty table.
    init(minimumCapacity: Int = 0) {
        var size = 16
        while size / 2 < minimumCapacity { size *= 2 }
        slots = [Slot](repeating: Slot(key: 0, count: 0), count: size)
        shift = UInt64(64 - size.trailingZeroBitCount)
    }

    var isEmpty: Bool { count == 0 }

    /// The slot where `key` is, or the empty slot where it would go.
    @inline(__always)
    private func slot(of key: UInt64) -> Int {
        slots.withUnsafeBufferPointer { slots in
            let mask = slots.count - 1
            var index = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
            while slots[index].count != 0 && slots[index].key != key {
                index = (index + 1) & mask
            }
            return index
        }
    }

    /// The count of `key`, or nil if it is absent.
    subscript(key: UInt64) -> Int? {
        let count = slots[slot(of: key)].count
        return count == 0 ? nil : count
    }

    /// Adds `amount` (> 0) to the count of `key` (absent counts as 0).
    mutating func add(_ key: UInt64, _ amount: Int) {
        precondition(amount > 0, "HashCounts holds positive counts only")
        let index = slot(of: key)
        if slots[index].count != 0 {
            slots[index].count += amount
            return
        }
        slots[index] = Slot(key: key, count: amount)
        count += 1
        // Load at most 1/2: probes stay short.
        if count * 2 > slots.count { resize(to: slots.count * 2) }
    }

    /// Calls `body` for every key and count (in slot order: not meaningful).
    func forEach(_ body: (UInt64, Int) throws -> Void) rethrows {
        for slot in slots where slot.count != 0 {
            try body(slot.key, slot.count)
        }
    }

    /// Every key and count, in slot order.
    var pairs: [(key: UInt64, value: Int)] {
        var pairs: [(key: UInt64, value: Int)] = []
        pairs.reserveCapacity(count)
        forEach { key, value in pairs.append((key, value)) }
        return pairs
    }

    /// Removes every key for which `shouldRemove` is true.
    mutating func removeAll(where shouldRemove: (UInt64, Int) -> Bool) {
        var kept = HashCounts(minimumCapacity: count)
        forEach { key, value in
            if !shouldRemove(key, value) { kept.add(key, value) }
        }
        self = kept
    }

    private mutating func resize(to size: Int) {
        let old = slots
        slots = [Slot](repeating: Slot(key: 0, count: 0), count: size)
        shift = UInt64(64 - size.trailingZeroBitCount)
        for slot in old where slot.count != 0 {
            slots[self.slot(of: slot.key)] = slot
        }
    }
}

extension HashCounts: Equatable {
    static func == (lhs: HashCounts, rhs: HashCounts) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var equal = true
        lhs.forEach { key, value in
            if equal && rhs[key] != value { equal = false }
        }
        return equal
    }
}

extension HashCounts: Hashable {
    func hash(into hasher: inout Hasher) {
        // Order-independent: a commutative sum of the mixed pairs.
        var sum: UInt64 = 0
        forEach { key, value in sum &+= PortableHash.combine(key, UInt64(bitPattern: Int64(value))) }
        hasher.combine(count)
        hasher.combine(sum)
    }
}

extension HashCounts: Codable {
    /// Decodes `[UInt64: Int]`'s form: alternating keys and counts.
    init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        self.init(minimumCapacity: (container.count ?? 0) / 2)
        while !container.isAtEnd {
            let key = try container.decode(UInt64.self)
            guard !container.isAtEnd else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "a count table has a key without a count")
            }
            let value = try container.decode(Int.self)
            guard value > 0 else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "a count table holds the count \(value) (counts are positive)")
            }
            guard self[key] == nil else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "a count table holds the key \(key) twice")
            }
            add(key, value)
        }
    }

    /// Encodes as `[UInt64: Int]` does: alternating keys and counts.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        try forEach { key, value in
            try container.encode(key)
            try container.encode(value)
        }
    }
}
