import PersonaForgeCore

/// Admits at most ``limit`` LLM requests at once; the limit follows AIMD (halved on
/// overload, grown back on success).
actor ConcurrencyGate {
    private var control: AIMDConcurrency
    private var inFlight = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(maximum: Int, minimum: Int) {
        control = AIMDConcurrency(initial: maximum, minimum: minimum, maximum: maximum)
    }

    var limit: Int { control.limit }

    func acquire() async {
        if inFlight < control.limit {
            inFlight += 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    enum Outcome { case success, overload, other }

    func release(_ outcome: Outcome) {
        switch outcome {
        case .success: control.recordSuccess()
        case .overload: _ = control.recordOverload()
        case .other: break
        }
        inFlight -= 1
        while inFlight < control.limit, !waiters.isEmpty {
            inFlight += 1
            waiters.removeFirst().resume()
        }
    }
}
