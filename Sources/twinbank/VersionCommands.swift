import ArgumentParser
import TwinBank
import TwinCore

struct CommitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commit", abstract: "Commit the bank's definitions and pin its thread.")
    @OptionGroup var bankOptions: BankOptions
    @Option(name: .shortAndLong, help: "The commit message.") var message: String
    @Option(help: "The author (default: $USER or 'local').") var author: String?
    @OptionGroup var output: OutputOptions

    func run() throws {
        let bank = try bankOptions.open()
        let c = try bank.commit(message: message, author: author)
        if output.json { try printJSON(c); return }
        print("[\(c.names.first ?? "main") \(c.id.abbreviated())] \(message)")
    }
}

struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "log", abstract: "List commits, newest first.")
    @OptionGroup var bankOptions: BankOptions
    @Argument(help: "Start from this commit, branch or tag (default: the current branch).") var from: String?
    @OptionGroup var output: OutputOptions

    func run() throws {
        let bank = try bankOptions.open()
        let commits = try bank.log(from)
        if output.json { try printJSON(commits); return }
        for c in commits {
            let names = c.names.isEmpty ? "" : " (\(c.names.joined(separator: ", ")))"
            print("commit \(c.id.hex)\(names)")
            print("Author: \(c.commit.author)")
            print("Date:   \(c.commit.time)")
            print("Thread: pinned at sequence \(c.commit.threadPin)")
            print("\n    \(c.commit.message)\n")
        }
        if commits.isEmpty { print("(no commits)") }
    }
}

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "diff", abstract: "What changed between two commits.")
    @OptionGroup var bankOptions: BankOptions
    @Argument(help: "The older commit.") var a: String
    @Argument(help: "The newer commit.") var b: String
    @OptionGroup var output: OutputOptions

    func run() throws {
        let bank = try bankOptions.open()
        let d = try bank.diff(a, b)
        if output.json { try printJSON(d); return }
        print("diff \(d.from.abbreviated()) .. \(d.to.abbreviated())")
        for p in d.added { print("+ \(p)") }
        for p in d.removed { print("- \(p)") }
        for c in d.changed {
            print("~ \(c.path)")
            for a in c.attributes { print("    \(a.key): \(a.old.map { "\($0)" } ?? "-") -> \(a.new.map { "\($0)" } ?? "-")") }
            for f in c.fields { print("    \(f) changed") }
        }
        print("thread: \(d.toPin - d.fromPin) sequence number(s) between the pins (\(d.fromPin) -> \(d.toPin))")
        for (twin, n) in d.eventsPerTwin.sorted(by: { $0.key < $1.key }) { print("    \(twin): \(n) event(s)") }
    }
}

struct TagCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tag", abstract: "Tag a commit (default: the current one).")
    @OptionGroup var bankOptions: BankOptions
    @Argument(help: "The tag name.") var name: String
    @Argument(help: "The commit (default: the head of the current branch).") var commit: String?
    @OptionGroup var output: OutputOptions

    func run() throws {
        let bank = try bankOptions.open()
        let c = try bank.tag(name, at: commit)
        if output.json { try printJSON(c); return }
        print("tagged \(c.id.abbreviated()) as \(name)")
    }
}
