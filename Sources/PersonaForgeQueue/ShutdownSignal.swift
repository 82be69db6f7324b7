import Foundation
import PersonaForgeSupport

/// A one-way flag set by SIGTERM/SIGINT (or by code), that loops poll and can await.
///
/// Services stop *taking* work when it is set and finish what they hold within
/// their grace period; hard cancellation is a separate, later step.
public final class ShutdownSignal: Sendable {
    private struct State {
        var requested = false
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = LockedBox(State())

    public init() {}

    public var isRequested: Bool { state.withLock { $0.requested } }

    public func request() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            if state.requested { return [] }
            state.requested = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        waiters.forEach { $0.resume() }
    }

    /// Returns once shutdown is requested, or when the calling task is cancelled.
    public func wait() async {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.requested || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
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
