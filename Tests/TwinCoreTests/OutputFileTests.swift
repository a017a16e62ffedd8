import Foundation
import Testing
import TwinCore

/// ``OutputFile``'s promises: nothing it did not create is deleted or overwritten, and a failure leaves nothing.
@Suite struct OutputFileTests {
    let dir: URL

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("outputfile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
    func read(_ name: String) -> String? { try? String(contentsOfFile: path(name), encoding: .utf8) }
    func names() -> Set<String> { Set((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []) }

    func code(_ body: () throws -> Void) -> TwinError.Code? {
        do { try body(); return nil } catch { return (error as? TwinError)?.code }
    }

    @Test func writesANewFileAndRefusesToReplaceIt() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        try OutputFile.write("one", to: path("a.txt"), overwrite: false)
        #expect(read("a.txt") == "one")
        #expect(code { try OutputFile.write("two", to: path("a.txt"), overwrite: false) } == .outputExists)
        #expect(read("a.txt") == "one")
        try OutputFile.write("three", to: path("a.txt"), overwrite: true)
        #expect(read("a.txt") == "three")
        #expect(names() == ["a.txt"])
    }

    /// A stream is written piece by piece to a temporary file that takes its name only on commit.
    @Test func aStreamIsNamedOnlyWhenCommitted() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let stream = try OutputFile.Stream(path: path("big.txt"), overwrite: false)
        try stream.write(Array("one ".utf8))
        try stream.write(Array("two".utf8))
        #expect(read("big.txt") == nil)
        #expect(names().count == 1 && names().first!.hasPrefix(".big.txt."))
        try stream.commit()
        #expect(read("big.txt") == "one two")
        #expect(names() == ["big.txt"])
        #expect(code { try stream.write([1]) } == .cannotWrite)
        // an existing file is refused up front, and kept
        #expect(code { _ = try OutputFile.Stream(path: path("big.txt"), overwrite: false) } == .outputExists)
        // discarded, or dropped before the commit, it leaves nothing
        let dropped = try OutputFile.Stream(path: path("gone.txt"), overwrite: false)
        try dropped.write(Array("x".utf8))
        dropped.discard()
        do {
            let abandoned = try OutputFile.Stream(path: path("gone2.txt"), overwrite: false)
            try abandoned.write(Array("y".utf8))
        }
        #expect(names() == ["big.txt"])
        // a file that appears before the commit is not replaced
        let late = try OutputFile.Stream(path: path("late.txt"), overwrite: false)
        try late.write(Array("mine".utf8))
        try OutputFile.write("theirs", to: path("late.txt"), overwrite: false)
        #expect(code { try late.commit() } == .outputExists)
        #expect(read("late.txt") == "theirs")
        #expect(names() == ["big.txt", "late.txt"])
    }

    @Test func neverTouchesAFolderEvenWithOverwrite() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(atPath: path("work"), withIntermediateDirectories: false)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: path("work/keep.txt")))
        for overwrite in [false, true] {
            #expect(code { try OutputFile.write("x", to: path("work"), overwrite: overwrite) } == .outputExists)
            #expect(code { try OutputFile.checkWritable(path("work"), overwrite: overwrite) } == .outputExists)
        }
        #expect(read("work/keep.txt") == "keep")
        #expect(names() == ["work"])
    }

    @Test func aMissingFolderIsAnErrorAndCreatesNothing() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(code { try OutputFile.write("x", to: path("missing/a.txt"), overwrite: true) } == .cannotWrite)
        #expect(names().isEmpty)
    }

    @Test func aDanglingSymbolicLinkIsNotReplaced() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createSymbolicLink(atPath: path("link"), withDestinationPath: path("nowhere"))
        #expect(code { try OutputFile.write("x", to: path("link"), overwrite: true) } == .outputExists)
        #expect(names() == ["link"])
    }

    @Test func foldersOfFiles() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = path("nd")
        let written = try OutputFile.writeFiles([("A.ndjson", Array("a\n".utf8)), ("B.ndjson", Array("b\n".utf8))], intoFolder: out, overwrite: false)
        #expect(written == [out + "/A.ndjson", out + "/B.ndjson"])
        // Not empty now: refused without overwrite, nothing changes.
        #expect(code { try OutputFile.writeFiles([("A.ndjson", Array("new".utf8))], intoFolder: out, overwrite: false) } == .outputExists)
        #expect(read("nd/A.ndjson") == "a\n")
        // With overwrite only the named files are replaced.
        try Data("mine".utf8).write(to: URL(fileURLWithPath: out + "/mine.txt"))
        try OutputFile.writeFiles([("A.ndjson", Array("new".utf8))], intoFolder: out, overwrite: true)
        #expect(read("nd/A.ndjson") == "new")
        #expect(read("nd/B.ndjson") == "b\n")
        #expect(read("nd/mine.txt") == "mine")
        // A file where the folder should be is refused.
        try Data("f".utf8).write(to: URL(fileURLWithPath: path("file")))
        #expect(code { try OutputFile.writeFiles([("A", [])], intoFolder: path("file"), overwrite: true) } == .outputExists)
        #expect(read("file") == "f")
    }

    @Test func aFailedFolderWriteLeavesNoFolderItCreated() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        // The second name is not a file name: nothing is written, no folder is created.
        #expect(code { try OutputFile.writeFiles([("A", Array("a".utf8)), ("x/y", [])], intoFolder: path("nd"), overwrite: false) } == .cannotWrite)
        #expect(names().isEmpty)
        // A sub-folder in the way of one file: the other files stay temporary and are removed.
        try FileManager.default.createDirectory(atPath: path("nd2/B"), withIntermediateDirectories: true)
        #expect(code { try OutputFile.writeFiles([("A", Array("a".utf8)), ("B", Array("b".utf8))], intoFolder: path("nd2"), overwrite: true) } == .outputExists)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: path("nd2"))) == ["B"])
    }
}
