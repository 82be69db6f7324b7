/// An adaptive limit on in-flight LLM requests: additive increase,
/// multiplicative decrease (AIMD, as in TCP congestion control).
///
/// The worker asks for ``limit`` before starting a request and reports how
/// each one ended:
///
/// - ``recordSuccess()``: after a *window* of consecutive successes the
///   limit grows by 1 (up to `maximum`). The window is `increaseEvery` when
///   given; when nil it is the current limit, so the limit grows by about
///   one per "round" of requests, as TCP's congestion window does per RTT.
/// - ``recordOverload()`` (429 or 503): the limit halves (not below
///   `minimum`) and the success streak restarts. A server that is overloaded
///   rejects many requests at once, and the requests already in flight when
///   the limit dropped report their 429s afterwards; they are not news. So
///   after a decrease, the next *n* completions are a cooldown, where n is
///   the limit before the decrease minus one — the most *other* requests
///   that can have been in flight when the overload that caused it arrived:
///   overloads during it are ignored and successes during it do not count
///   towards an increase. A burst of 429s therefore halves the limit once.
/// - ``recordFailure()``: any other failure (timeout, transport, 500): no
///   change to the limit, but it ends the success streak and counts as a
///   completion for the cooldown.
///
/// A value type with no clock: share it behind the worker's lock or actor.
public struct AIMDConcurrency: Sendable, Hashable {
    /// The current limit on in-flight requests, in `minimum...maximum`.
    public private(set) var limit: Int
    /// The lowest the limit goes.
    public let minimum: Int
    /// The highest the limit goes.
    public let maximum: Int
    /// Successes needed for +1; nil means "the current limit".
    public let increaseEvery: Int?
    /// Consecutive successes counted towards the next increase.
    public private(set) var successStreak = 0
    /// Completions still to come in the cooldown after a decrease.
    public private(set) var cooldownRemaining = 0

    /// Creates a limit starting at `initial`.
    ///
    /// Out-of-range arguments are corrected rather than trapped on:
    /// `minimum` is at least 1, `maximum` at least `minimum`, `initial` is
    /// clamped into `minimum...maximum`, and `increaseEvery` is at least 1.
    public init(initial: Int, minimum: Int = 1, maximum: Int, increaseEvery: Int? = nil) {
        self.minimum = max(1, minimum)
        self.maximum = max(self.minimum, maximum)
        self.limit = min(max(initial, self.minimum), self.maximum)
        self.increaseEvery = increaseEvery.map { max(1, $0) }
    }

    /// The successes needed for the next +1 at the current limit.
    public var increaseWindow: Int { increaseEvery ?? limit }

    /// Whether overloads are being ignored because the limit just dropped.
    public var isCoolingDown: Bool { cooldownRemaining > 0 }

    /// A request succeeded.
    public mutating func recordSuccess() {
        if cooldownRemaining > 0 {
            cooldownRemaining -= 1
            return
        }
        successStreak += 1
        if successStreak >= increaseWindow {
            successStreak = 0
            limit = min(maximum, limit + 1)
        }
    }

    /// A request was rejected as overload (HTTP 429 or 503).
    /// - Returns: whether the limit was decreased (false during a cooldown).
    @discardableResult
    public mutating func recordOverload() -> Bool {
        successStreak = 0
        if cooldownRemaining > 0 {
            cooldownRemaining -= 1
            return false
        }
        cooldownRemaining = limit - 1
        limit = max(minimum, limit / 2)
        return true
    }

    /// A request failed for a reason that says nothing about load.
    public mutating func recordFailure() {
        successStreak = 0
        if cooldownRemaining > 0 { cooldownRemaining -= 1 }
    }
}
