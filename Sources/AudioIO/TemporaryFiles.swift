#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The process's unpublished output files (the temporary files writers fill before moving them into place), so that a
/// signal that ends the process (interrupt, termination, hang-up) deletes them instead of leaving them behind.
///
/// Paths live in preallocated C buffers the signal handler can read without allocating; `installSignalCleanup()`
/// sets the handlers once per process (the CLI does it at start). It also makes the process ignore `SIGXFSZ`, so a
/// file-size limit turns into a write error the writer handles (deleting its temporary file) instead of killing it.
public enum TemporaryFiles {
    static let slotCount = 32
    static let slotBytes = 4_096
    private nonisolated(unsafe) static let paths = UnsafeMutablePointer<CChar>.allocate(capacity: slotCount * slotBytes)
    private nonisolated(unsafe) static let used: UnsafeMutablePointer<sig_atomic_t> = {
        let p = UnsafeMutablePointer<sig_atomic_t>.allocate(capacity: slotCount)
        p.initialize(repeating: 0, count: slotCount)
        return p
    }()
    private static let lock = Mutex(())

    /// Registers `path` for deletion if a signal ends the process; returns a slot for `unregister`, or nil when every
    /// slot is taken or the path is too long (the file is then only cleaned up by the normal error paths).
    static func register(_ path: String) -> Int? {
        lock.withLock { _ in
            let bytes = Array(path.utf8CString)
            guard bytes.count <= slotBytes else { return nil }
            for slot in 0..<slotCount where used[slot] == 0 {
                let buffer = paths + slot * slotBytes
                for (i, b) in bytes.enumerated() { buffer[i] = b }
                used[slot] = 1
                return slot
            }
            return nil
        }
    }

    /// Forgets a registered path (after it was published or deleted).
    static func unregister(_ slot: Int?) {
        guard let slot else { return }
        lock.withLock { _ in used[slot] = 0 }
    }

    /// Paths registered now (for tests).
    static var registered: [String] {
        lock.withLock { _ in (0..<slotCount).filter { used[$0] != 0 }.map { String(cString: paths + $0 * slotBytes) } }
    }

    /// Installs handlers for SIGINT, SIGTERM and SIGHUP that delete every registered file and then let the signal end
    /// the process as it would have (exit status 128 + signal), and ignores SIGXFSZ. Call once, early.
    public static func installSignalCleanup() {
        _ = paths  // allocate before any handler can run
        _ = used
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            var action = sigaction()
            #if canImport(Glibc)
            action.__sigaction_handler.sa_handler = deleteAndReraise
            #else
            action.__sigaction_u.__sa_handler = deleteAndReraise
            #endif
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(sig, &action, nil)
        }
        signal(SIGXFSZ, SIG_IGN)
    }

    /// The signal handler: unlinks every registered file (async-signal-safe: no allocation, no locks), then lets the
    /// signal end the process as it would have.
    private static let deleteAndReraise: @convention(c) (Int32) -> Void = { sig in
        for slot in 0..<TemporaryFiles.slotCount where TemporaryFiles.used[slot] != 0 {
            unlink(TemporaryFiles.paths + slot * TemporaryFiles.slotBytes)
        }
        signal(sig, SIG_DFL)
        raise(sig)
    }
}
