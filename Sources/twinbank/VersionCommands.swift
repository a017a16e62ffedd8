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

struct BranchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "branch",
        abstract: "List branches, or create one at a commit (default: the head of the current branch).",
        discussion: "Creating a branch does not switch to it: use 'twinbank switch'.")
    @OptionGroup var bankOptions: BankOptions
    @Argument(help: "The branch to create (without it: list the branches).") var name: String?
    @Argument(help: "The commit the new branch starts at (id or prefix, branch, tag; default: HEAD).") var commit: String?
    @OptionGroup var output: OutputOptions

    func run() throws {
        let bank = try bankOptions.open()
        if let name {
            let c = try bank.createBranch(name, at: commit)
            if output.json { try printJSON(c); return }
            print("created branch \(name) at \(c.id.abbreviated()) (\(c.commit.message)); switch to it with 'twinbank switch \(name)'")
            return
        }
        let (_, branches) = try bank.branchHeads()
        if output.json { try printJSON(branches); return }
        for b in branches {
            let head = b.head.map { "\($0.id.abbreviated()) \($0.commit.message)" } ?? "(no commits yet)"
            print("\(b.current ? "*" : " ") \(b.name)  \(head)")
        }
    }
}

struct SwitchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switch",
        abstract: "Switch to a branch: its head's twin and aggregate definitions become the bank's, and commits go to it.",
        discussion: """
            Refused when twin or aggregate definitions have uncommitted changes (they are named); commit them first, \
            or give --force to discard them (the discarded state is kept as a tree under a 'discarded/' reference). \
            The thread is shared by all branches: switching never adds or removes events.
            """)
    @OptionGroup var bankOptions: BankOptions
    @Argument(help: "The branch to switch to.") var name: String
    @Flag(help: "Discard uncommitted definition changes (each is listed).") var force = false
    @OptionGroup var output: OutputOptions

    func run() throws {
        let bank = try bankOptions.open()
        let r = try bank.switchBranch(name, force: force)
        if output.json { try printJSON(r); return }
        for c in r.discarded { print("discarded uncommitted change: \(c)") }
        if let tree = r.discardedTree, let ref = r.discardedReference {
            print("the discarded definitions are kept as tree \(tree.abbreviated()) (reference \(ref))")
        }
        if let c = r.commit {
            print("switched to branch \(r.to): definitions as of commit \(c.abbreviated())")
        } else {
            print("switched to branch \(r.to) (no commits yet: definitions unchanged)")
        }
    }
}
