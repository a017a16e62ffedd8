#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file opened for reading in chunks (the pings and cases readers), with errors that name the file.
struct TracingInputFile {
    let path: String
    let what: String
    let code: PopulationError.Code
    private let fd: Int32
    /// The size in bytes, when the file is a regular file.
    let size: Int?

    init(path: String, what: String, code: PopulationError.Code) throws(PopulationError) {
        self.path = path
        self.what = what
        self.code = code
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw PopulationError(code, "cannot read the \(what) file '\(path)': \(String(cString: strerror(errno)))", value: path)
        }
        guard (st.st_mode & S_IFMT) != S_IFDIR else {
            throw PopulationError(code, "'\(path)' is a folder, not a \(what) file", value: path)
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw PopulationError(code, "cannot read the \(what) file '\(path)': \(String(cString: strerror(errno)))", value: path)
        }
        self.fd = fd
        self.size = (st.st_mode & S_IFMT) == S_IFREG ? Int(st.st_size) : nil
    }

    /// Reads up to `buffer.count` bytes; 0 at the end of the file.
    func readChunk(into buffer: UnsafeMutableRawBufferPointer) throws(PopulationError) -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            let n = read(fd, base, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw PopulationError(code, "cannot read the \(what) file '\(path)': \(String(cString: strerror(errno)))", value: path)
        }
    }

    /// The whole file (for small files such as a list of index cases).
    func readAll() throws(PopulationError) -> [UInt8] {
        var out: [UInt8] = []
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 1)
        defer { chunk.deallocate() }
        while true {
            let n = try readChunk(into: chunk)
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
        }
    }

    func closeFile() { _ = close(fd) }
}
