import CProcess
import Foundation
import Synchronization

/// A program run as Omnifin's child: started on a thread of its own that then waits for it (so Linux's parent-death
/// signal, tied to that thread, fires only when Omnifin itself dies: the child never outlives it), its output read
/// line by line on another thread.
final class ChildProcess: Sendable {
    /// How a child ended.
    enum Exit: Sendable, Equatable, CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)

        var description: String {
            switch self {
            case .exited(let code): "exited with status \(code)"
            case .signalled(let signal): "was killed by signal \(signal)\(signal == SIGKILL ? " (SIGKILL: out of memory?)" : "")"
            }
        }
    }

    /// Why the program could not be started.
    struct SpawnError: Error, CustomStringConvertible {
        var description: String
    }

    let pid: pid_t
    private let exit = Mutex<(value: Exit?, waiters: [CheckedContinuation<Exit, Never>])>((nil, []))

    private init(pid: pid_t) {
        self.pid = pid
    }

    /// Starts `path` with `arguments` and `environment` (`nil`: Omnifin's own); `onLine` receives every line it writes
    /// to its standard output or error.
    /// - Throws: ``SpawnError`` when the program is not executable or the fork fails.
    static func spawn(
        _ path: String, arguments: [String], environment: [String: String]? = nil, onLine: @escaping @Sendable (String) -> Void
    ) throws(SpawnError) -> ChildProcess {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw SpawnError(description: "\(path) is not an executable program")
        }
        let started = Mutex<Result<(ChildProcess, Int32), SpawnError>?>(nil)
        let signal = DispatchSemaphore(value: 0)
        let thread = Thread {
            var fd: Int32 = -1
            let argv = ([path] + arguments).map { strdup($0) } + [nil]
            let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
            let pid = argv.withUnsafeBufferPointer { arguments in
                if let envp {
                    return envp.withUnsafeBufferPointer { omnifin_spawn_supervised(path, arguments.baseAddress, $0.baseAddress, &fd) }
                }
                return omnifin_spawn_supervised(path, arguments.baseAddress, nil, &fd)
            }
            for pointer in argv { free(pointer) }
            for pointer in envp ?? [] { free(pointer) }
            guard pid > 0 else {
                started.withLock { $0 = .failure(SpawnError(description: "cannot start \(path): \(String(cString: strerror(-pid)))")) }
                signal.signal()
                return
            }
            let child = ChildProcess(pid: pid)
            started.withLock { $0 = .success((child, fd)) }
            signal.signal()
            // This thread lives exactly as long as the child.
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 {
                guard errno == EINTR else {
                    status = 0
                    break
                }
            }
            child.finish(status & 0x7f == 0 ? .exited((status >> 8) & 0xff) : .signalled(status & 0x7f))
        }
        thread.name = "omnifin-child"
        thread.start()
        signal.wait()
        switch started.withLock({ $0 })! {
        case .failure(let error):
            throw error
        case .success(let (child, fd)):
            let reader = Thread { Self.readLines(fd, onLine) }
            reader.name = "omnifin-child-output"
            reader.start()
            return child
        }
    }

    /// Waits for the child to end.
    func waitForExit() async -> Exit {
        await withCheckedContinuation { continuation in
            let done: Exit? = exit.withLock { state in
                if let value = state.value { return value }
                state.waiters.append(continuation)
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    /// How it ended, or `nil` while it runs.
    var exitStatus: Exit? { exit.withLock { $0.value } }

    /// Sends `signal` (SIGTERM by default) unless the child has ended.
    func send(_ signal: Int32 = SIGTERM) {
        guard exitStatus == nil else { return }
        kill(pid, signal)
    }

    /// SIGTERM, then SIGKILL when it has not ended after `grace`.
    func stop(grace: Duration = .seconds(5)) async {
        send(SIGTERM)
        let deadline = ContinuousClock.now + grace
        while exitStatus == nil, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        send(SIGKILL)
        _ = await waitForExit()
    }

    private func finish(_ value: Exit) {
        let waiters = exit.withLock { state in
            state.value = value
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: value) }
    }

    private static func readLines(_ fd: Int32, _ onLine: @Sendable (String) -> Void) {
        defer { close(fd) }
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            pending.append(contentsOf: buffer[0..<count])
            while let newline = pending.firstIndex(of: 10) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                if !line.isEmpty { onLine(line) }
            }
            // A line longer than 64 KB goes out in pieces.
            if pending.count > 65_536 {
                onLine(String(decoding: pending, as: UTF8.self))
                pending = []
            }
        }
        if !pending.isEmpty { onLine(String(decoding: pending, as: UTF8.self)) }
    }
}
