#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The one way Twinbank writes a file or a folder of files a person asked for (`--out`, `--ndjson`, a bundle):
/// it never deletes or overwrites anything it did not create.
///
/// Promises:
/// - An existing folder is never replaced, emptied or written over by ``write(_:to:overwrite:)``: it is refused.
/// - An existing file is refused unless `overwrite` is set (the command's `--force`); with it, the file is
///   replaced in one atomic rename, so a reader sees the old file or the new one, never a mix.
/// - The bytes go to a temporary file in the same folder (named `.NAME.PID-RANDOM.tmp`, created exclusively, so
///   it never replaces anything either), are flushed to disk, and only then take the final name; a failure at any
///   point removes the temporary file and leaves the target as it was.
/// - Without `overwrite`, the final step is a hard link that fails if the name appeared meanwhile, so a file
///   created by someone else between the check and the write is not replaced either.
///
/// Errors are ``TwinError`` with code ``TwinError/Code/outputExists`` (a folder, or a file without
/// `overwrite`) or ``TwinError/Code/cannotWrite`` (no parent folder, permissions, a full disk), naming the path.
public enum OutputFile {
    /// Checks, before any long computation, that ``write(_:to:overwrite:)`` to `path` would not be refused:
    /// `path` is not a folder, not an existing file unless `overwrite`, and its parent folder exists.
    public static func checkWritable(_ path: String, overwrite: Bool) throws(TwinError) {
        guard !path.isEmpty else { throw TwinError(.cannotWrite, "the output path is empty", value: path) }
        switch kind(path) {
        case .folder:
            throw TwinError(.outputExists, "'\(path)' is an existing folder: give the path of a new file (nothing was written, the folder is untouched)", value: path)
        case .file where !overwrite:
            throw TwinError(.outputExists, "'\(path)' exists: give a new path, or --force to replace it (nothing was written)", value: path)
        case .other:
            throw TwinError(.outputExists, "'\(path)' exists and is not a regular file: give a new path (nothing was written)", value: path)
        default: break
        }
        let parent = folder(of: path)
        guard kind(parent) == .folder else {
            throw TwinError(.cannotWrite, "cannot write '\(path)': the folder '\(parent)' does not exist", value: path)
        }
    }

    /// Writes `bytes` to the file `path` (see the type's promises).
    public static func write(_ bytes: [UInt8], to path: String, overwrite: Bool) throws(TwinError) {
        try checkWritable(path, overwrite: overwrite)
        let tmp = try temporaryFile(beside: path, bytes: bytes)
        try commit(tmp, to: path, overwrite: overwrite)
    }

    /// Writes `text` as UTF-8 to the file `path` (see ``write(_:to:overwrite:)``).
    public static func write(_ text: String, to path: String, overwrite: Bool) throws(TwinError) {
        try write(Array(text.utf8), to: path, overwrite: overwrite)
    }

    /// Checks, before any long computation, that ``writeFiles(_:intoFolder:overwrite:)`` into `folder` would not be
    /// refused: `folder` is missing (it will be created, its parent must exist), an empty folder, or a non-empty
    /// folder when `overwrite` is set. A path that is a file is refused.
    public static func checkFolderWritable(_ folder: String, overwrite: Bool) throws(TwinError) {
        guard !folder.isEmpty else { throw TwinError(.cannotWrite, "the output folder path is empty", value: folder) }
        switch kind(folder) {
        case .missing:
            let parent = Self.folder(of: folder)
            guard kind(parent) == .folder else {
                throw TwinError(.cannotWrite, "cannot create the folder '\(folder)': '\(parent)' does not exist", value: folder)
            }
        case .folder:
            if !overwrite && !isEmptyFolder(folder) {
                throw TwinError(.outputExists, "the folder '\(folder)' is not empty: give a new or empty folder, or --force to replace only the files this command writes (nothing was written)", value: folder)
            }
        case .file, .other:
            throw TwinError(.outputExists, "'\(folder)' exists and is not a folder: give the path of a new folder (nothing was written)", value: folder)
        }
    }

    /// Writes several files into `folder` (created if missing). Every file is first written to a temporary file in
    /// the folder; only when all are written do they take their names, so a failure leaves no new file (and, if
    /// this call created the folder, no folder). With `overwrite`, only the files named here are replaced: other
    /// files in the folder are never touched. Without it, a non-empty folder is refused.
    /// - Returns: the paths written, in the order given.
    @discardableResult
    public static func writeFiles(_ files: [(name: String, bytes: [UInt8])], intoFolder folder: String, overwrite: Bool) throws(TwinError) -> [String] {
        try checkFolderWritable(folder, overwrite: overwrite)
        for f in files where f.name.isEmpty || f.name.contains("/") || f.name == "." || f.name == ".." {
            throw TwinError(.cannotWrite, "'\(f.name)' is not a file name", value: f.name)
        }
        var created = false
        if kind(folder) == .missing {
            guard mkdir(folder, 0o777) == 0 else {
                throw TwinError(.cannotWrite, "cannot create the folder '\(folder)': \(errorText())", value: folder)
            }
            created = true
        }
        var temporaries: [(tmp: String, path: String)] = []
        do throws(TwinError) {
            for f in files {
                let path = join(folder, f.name)
                try checkWritable(path, overwrite: overwrite)
                temporaries.append((try temporaryFile(beside: path, bytes: f.bytes), path))
            }
        } catch {
            for t in temporaries { discard(t.tmp) }
            if created { rmdir(folder) }
            throw error
        }
        var written: [String] = []
        for (i, t) in temporaries.enumerated() {
            do throws(TwinError) {
                try commit(t.tmp, to: t.path, overwrite: overwrite)
                written.append(t.path)
            } catch {
                for rest in temporaries[(i + 1)...] { discard(rest.tmp) }
                // Files this call placed before the failure were created by it (or, with overwrite, asked for).
                if created { for w in written { unlink(w) }; rmdir(folder) }
                throw error
            }
        }
        return written
    }

    /// Removes the temporary files of writes still in progress: for an interrupt handler that is about to exit,
    /// so an interrupted command leaves nothing behind. Safe to call from any thread.
    public static func removeTemporaryFiles() {
        let paths = inFlight.withLock { set in
            let all = set
            set.removeAll()
            return all
        }
        for p in paths { unlink(p) }
    }

    // MARK: Implementation

    private static let inFlight = Mutex<Set<String>>([])

    enum Kind { case missing, file, folder, other }

    static func kind(_ path: String) -> Kind {
        var st = stat()
        guard stat(path, &st) == 0 else {
            var lst = stat()
            // A dangling symbolic link is still something the user made: do not replace it.
            return lstat(path, &lst) == 0 ? .other : .missing
        }
        switch st.st_mode & S_IFMT {
        case S_IFDIR: return .folder
        case S_IFREG: return .file
        default: return .other
        }
    }

    static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let parent = String(path[..<slash])
        return parent.isEmpty ? "/" : parent
    }

    static func join(_ folder: String, _ name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }

    static func isEmptyFolder(_ path: String) -> Bool {
        guard let dir = opendir(path) else { return false }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { return false }
        }
        return true
    }

    static func errorText() -> String { String(cString: strerror(errno)) }

    fileprivate static func discard(_ tmp: String) {
        unlink(tmp)
        _ = inFlight.withLock { $0.remove(tmp) }
    }

    /// Creates a new, empty temporary file beside `path` (exclusively: it never replaces a file), registered for
    /// ``removeTemporaryFiles()``; returns its descriptor and path.
    fileprivate static func openTemporary(beside path: String) throws(TwinError) -> (fd: Int32, tmp: String) {
        let dir = folder(of: path)
        let base = path.split(separator: "/").last.map(String.init) ?? "output"
        var fd: Int32 = -1
        var tmp = ""
        for _ in 0..<16 {
            tmp = join(dir, ".\(base).\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp")
            // Registered before it exists, so an interrupt between open and rename still finds it.
            _ = inFlight.withLock { $0.insert(tmp) }
            fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if fd >= 0 { break }
            let e = errno
            _ = inFlight.withLock { $0.remove(tmp) }
            if e != EEXIST { throw TwinError(.cannotWrite, "cannot write '\(path)': \(String(cString: strerror(e)))", value: path) }
        }
        guard fd >= 0 else { throw TwinError(.cannotWrite, "cannot write '\(path)': no free temporary name in '\(dir)'", value: path) }
        return (fd, tmp)
    }

    /// Writes all of `bytes` to `fd`; nil, or the error's text.
    fileprivate static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> String? {
        var offset = 0
        var failure: String? = nil
        bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = posixWrite(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errorText(); return
                }
                offset += n
            }
        }
        return failure
    }

    /// Creates a new temporary file beside `path` holding `bytes`, flushed to disk. Never replaces a file.
    private static func temporaryFile(beside path: String, bytes: [UInt8]) throws(TwinError) -> String {
        let (fd, tmp) = try openTemporary(beside: path)
        var failure = writeAll(fd, bytes)
        if failure == nil && fsync(fd) != 0 { failure = errorText() }
        if close(fd) != 0 && failure == nil { failure = errorText() }
        if let failure {
            discard(tmp)
            throw TwinError(.cannotWrite, "cannot write '\(path)': \(failure) (nothing was written)", value: path)
        }
        return tmp
    }

    /// A file written piece by piece (a backup too large to hold in memory), with the promises of
    /// ``OutputFile``: the pieces go to a temporary file beside `path`; ``commit()`` flushes it and gives it its
    /// name (refusing a file that appeared meanwhile unless `overwrite`); ``discard()``, or a failure, or
    /// dropping the stream before ``commit()``, removes the temporary file and leaves `path` as it was.
    public final class Stream {
        /// The file this stream becomes on ``commit()``.
        public let path: String
        let overwrite: Bool
        let tmp: String
        var fd: Int32
        var done = false

        /// Checks `path` as ``OutputFile/checkWritable(_:overwrite:)`` does and opens the temporary file.
        public init(path: String, overwrite: Bool) throws(TwinError) {
            try OutputFile.checkWritable(path, overwrite: overwrite)
            (fd, tmp) = try OutputFile.openTemporary(beside: path)
            self.path = path; self.overwrite = overwrite
        }

        /// Appends bytes. On failure the temporary file is removed and the stream is finished.
        public func write(_ bytes: [UInt8]) throws(TwinError) {
            guard !done else { throw TwinError(.cannotWrite, "cannot write '\(path)': the output was already finished", value: path) }
            if let failure = OutputFile.writeAll(fd, bytes) {
                discard()
                throw TwinError(.cannotWrite, "cannot write '\(path)': \(failure) (nothing was written)", value: path)
            }
        }

        /// Flushes the bytes to disk and gives the file its name.
        public func commit() throws(TwinError) {
            guard !done else { throw TwinError(.cannotWrite, "cannot write '\(path)': the output was already finished", value: path) }
            var failure: String? = nil
            if fsync(fd) != 0 { failure = OutputFile.errorText() }
            if close(fd) != 0 && failure == nil { failure = OutputFile.errorText() }
            fd = -1
            done = true
            if let failure {
                OutputFile.discard(tmp)
                throw TwinError(.cannotWrite, "cannot write '\(path)': \(failure) (nothing was written)", value: path)
            }
            try OutputFile.commit(tmp, to: path, overwrite: overwrite)
        }

        /// Removes the temporary file (nothing is written at `path`). Safe to call more than once.
        public func discard() {
            guard !done else { return }
            done = true
            if fd >= 0 { close(fd); fd = -1 }
            OutputFile.discard(tmp)
        }

        deinit { discard() }
    }

    /// Gives the finished temporary file its final name.
    fileprivate static func commit(_ tmp: String, to path: String, overwrite: Bool) throws(TwinError) {
        defer { discard(tmp) }
        if overwrite {
            // rename(2) replaces a file atomically and fails on a folder, which checkWritable refused already.
            guard kind(path) != .folder else {
                throw TwinError(.outputExists, "'\(path)' is an existing folder: give the path of a new file (nothing was written, the folder is untouched)", value: path)
            }
            guard rename(tmp, path) == 0 else {
                throw TwinError(.cannotWrite, "cannot write '\(path)': \(errorText()) (nothing was written)", value: path)
            }
            return
        }
        if link(tmp, path) == 0 { return }
        let e = errno
        if e == EEXIST {
            throw TwinError(.outputExists, "'\(path)' exists: give a new path, or --force to replace it (nothing was written)", value: path)
        }
        // A file system without hard links: check, then rename (a narrow race instead of none).
        if e == EPERM || e == ENOTSUP || e == EOPNOTSUPP || e == EXDEV || e == EMLINK {
            guard kind(path) == .missing else {
                throw TwinError(.outputExists, "'\(path)' exists: give a new path, or --force to replace it (nothing was written)", value: path)
            }
            if rename(tmp, path) == 0 { return }
        }
        throw TwinError(.cannotWrite, "cannot write '\(path)': \(String(cString: strerror(e))) (nothing was written)", value: path)
    }
}

/// `write(2)`, outside ``OutputFile`` whose own `write` methods would shadow it.
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
