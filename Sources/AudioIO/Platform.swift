#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin wrappers over the POSIX calls AudioIO needs, so the rest reads as Swift.
enum Platform {
    enum FileKind { case missing, directory, regular, other }

    struct Status {
        var kind: FileKind
        var size: Int
        var device: UInt64
        var inode: UInt64
    }

    /// `stat(2)` of a path, following links.
    static func status(_ path: String) -> Status {
        var st = stat()
        guard stat(path, &st) == 0 else { return Status(kind: .missing, size: 0, device: 0, inode: 0) }
        let type = st.st_mode & S_IFMT
        let kind: FileKind = type == S_IFDIR ? .directory : (type == S_IFREG ? .regular : .other)
        return Status(kind: kind, size: Int(st.st_size), device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }

    /// `stat` of an open descriptor.
    static func status(fd: Int32) -> Status {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return Status(kind: .missing, size: 0, device: 0, inode: 0) }
        let type = st.st_mode & S_IFMT
        let kind: FileKind = type == S_IFDIR ? .directory : (type == S_IFREG ? .regular : .other)
        return Status(kind: kind, size: Int(st.st_size), device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }

    static func isReadable(_ path: String) -> Bool { access(path, R_OK) == 0 }

    static var lastErrorMessage: String { String(cString: strerror(errno)) }

    /// Reads up to `count` bytes from the start of a file.
    static func readPrefix(_ path: String, count: Int) -> [UInt8]? {
        guard let fp = fopen(path, "rb") else { return nil }
        defer { fclose(fp) }
        var bytes = [UInt8](repeating: 0, count: count)
        let n = fread(&bytes, 1, count, fp)
        return Array(bytes[0..<n])
    }

    /// Reads `count` bytes at `offset`, or fewer at the end of the file.
    static func read(_ fp: UnsafeMutablePointer<FILE>, at offset: Int, count: Int) -> [UInt8] {
        guard fseeko(fp, off_t(offset), SEEK_SET) == 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        let n = fread(&bytes, 1, count, fp)
        return Array(bytes[0..<n])
    }

    /// Flushes a file's data to disk.
    static func fsyncPath(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return fsync(fd) == 0
    }

    static func remove(_ path: String) { unlink(path) }

    /// Atomically replaces `to` with `from`.
    static func rename(_ from: String, _ to: String) -> Bool { Glibc.rename(from, to) == 0 }

    /// Atomically publishes `from` at `to` only if `to` does not exist (link + unlink).
    /// Returns `EEXIST` when `to` exists, 0 on success, another errno otherwise.
    static func publishNoClobber(_ from: String, _ to: String) -> Int32 {
        if link(from, to) == 0 { unlink(from); return 0 }
        let e = errno
        // Filesystems without hard links: fall back to a checked rename.
        if e == EPERM || e == ENOTSUP || e == EXDEV {
            if status(to).kind != .missing { return EEXIST }
            return Glibc.rename(from, to) == 0 ? 0 : errno
        }
        return e
    }

    static func errorMessage(_ code: Int32) -> String { String(cString: strerror(code)) }

    static var processID: Int32 { getpid() }
}

#if canImport(Glibc)
typealias CFile = UnsafeMutablePointer<FILE>
func fopenForRead(_ path: String) -> CFile? { fopen(path, "rb") }
func fcloseFile(_ fp: CFile) { fclose(fp) }
#endif

let EEXIST_VALUE: Int32 = EEXIST
