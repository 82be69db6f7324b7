import Foundation
import PersonaForgeSupport

/// A one-way flag set by SIGTERM/SIGINT (or by code), that loops poll and can await.
///
/// Services stop *taking* work when it is set and finish what they hold within
/// their grace period; hard cancellation is a separate, later step.
public final class ShutdownSignal: Sendable {
    private let state = LockedBox<(requested: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    public init() {}

    public var isRequested: Bool { state.withLock { $0.requested } }

    public func request() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            if state.requested { return [] }
            state.requested = true
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }

    /// Returns once shutdown is requested.
    public func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state -> Bool in
                if state.requested { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Sleeps for `duration` or until shutdown is requested, whichever is first.
    public func sleep(for duration: Duration) async {
        if isRequested { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: duration) }
            group.addTask { await self.wait() }
            await group.next()
            group.cancelAll()
        }
    }

    /// Requests shutdown on SIGTERM and SIGINT. The sources are kept alive for the
    /// process's lifetime.
    public func installSignalHandlers() {
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in request() }
            source.resume()
            ShutdownSignal.sources.withLock { $0.append(source) }
        }
    }

    private static let sources = LockedBox<[any DispatchSourceSignal]>([])
}
