import Foundation
import TwinBank
import TwinCore
import TwinServerAPI

/// Commits and branches, as `twinbank commit` and `twinbank branch` make them (``TwinBank/Bank/commit(message:author:)``,
/// ``TwinBank/Bank/branchHeads()``, ``TwinBank/Bank/createBranch(_:at:)``; the gate's `commit` to write, `read` to list).
extension TwinAPI {
    static func commitSummary(_ c: CommitInfo) -> S.CommitSummary {
        S.CommitSummary(id: c.id.hex, author: c.commit.author, time: c.commit.time.iso8601, message: c.commit.message,
                        threadPin: c.commit.threadPin, parents: c.commit.parents.map(\.hex), names: c.names)
    }

    func createCommit(_ input: Operations.CreateCommit.Input) async throws -> Operations.CreateCommit.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: true)
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON", field: "body") }
        guard !body.message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ServerError(.badRequest, "a commit needs a message saying what it records", field: "message", value: body.message)
        }
        if let author = body.author, author.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty || author.count > 256 {
            throw ServerError(.badRequest, "the author is a name of 1 to 256 characters (or leave it out: the token's subject)", field: "author", value: String(author.prefix(300)))
        }
        let commit: CommitInfo
        do {
            commit = try await served.run(call) { bank in try bank.commit(message: body.message, author: body.author) }
        } catch let e as BankError where e.code == .nothingToCommit {
            throw ServerError(ServerError.Code("nothingToCommit", .conflict), e.message, value: e.value)
        }
        return .created(.init(body: .json(Self.commitSummary(commit))))
    }

    func listBranches(_ input: Operations.ListBranches.Input) async throws -> Operations.ListBranches.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: false)
        let limit = try Self.pageSize(input.query.limit)
        let after = try input.query.cursor.map { try Self.twinCursor($0) }  // a branch name has a twin id's rules
        let branches = try await served.run(call) { bank in try bank.branchHeads().branches }
        let (page, next) = Self.page(branches, key: \.name, after: after, limit: limit)
        return .ok(.init(body: .json(.init(items: page.map { S.Branch(name: $0.name, current: $0.current, head: $0.head.map(Self.commitSummary)) },
                                           nextCursor: next))))
    }

    func createBranch(_ input: Operations.CreateBranch.Input) async throws -> Operations.CreateBranch.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: true)
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON", field: "body") }
        guard (try? TwinID(body.name)) != nil else {
            throw ServerError(.badRequest, "invalid branch name '\(body.name.prefix(200))': a letter or digit, then letters, digits and . _ : # - (at most 128)", field: "name", value: String(body.name.prefix(200)))
        }
        if let from = body.from, from.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ServerError(.badRequest, "name the commit the branch starts at (an id or prefix, a branch, a tag), or leave `from` out for HEAD", field: "from")
        }
        let name = body.name, from = body.from
        let created = try await served.run(call) { bank -> (CommitInfo, Bool) in
            if let from { do { _ = try bank.resolveCommit(from) } catch let e as BankError { throw ErrorMapping.bank(e, field: "from") } }
            do {
                let c = try bank.createBranch(name, at: from)
                return (c, try bank.branchHeads().current == name)
            } catch let e as BankError where e.code == .invalidReference {
                // the name was checked above: the branch exists
                throw ServerError(ServerError.Code("branchExists", .conflict), e.message, field: "name", value: e.value)
            } catch let e as BankError where e.code == .unknownCommit || e.code == .ambiguousCommit {
                throw ErrorMapping.bank(e, field: "from")
            }
        }
        return .created(.init(body: .json(S.Branch(name: name, current: created.1, head: Self.commitSummary(created.0)))))
    }
}

/// Tags and the branch switch, as `twinbank tag` and `twinbank switch` make them (``TwinBank/Bank/tag(_:at:)``,
/// ``TwinBank/Bank/tags()``, ``TwinBank/Bank/switchBranch(_:force:)``; the gate's `commit` to write, `read` to list).
extension TwinAPI {
    func listTags(_ input: Operations.ListTags.Input) async throws -> Operations.ListTags.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: false)
        let limit = try Self.pageSize(input.query.limit)
        let after = try input.query.cursor.map { try Self.twinCursor($0) }  // a tag name has a twin id's rules
        let (page, next) = try await served.run(call) { bank -> ([(String, CommitInfo)], String?) in
            let (tags, next) = Self.page(try bank.tags(), key: \.name, after: after, limit: limit)
            return (try tags.map { ($0.name, try bank.resolveCommit($0.commit.hex)) }, next)
        }
        return .ok(.init(body: .json(.init(items: page.map { S.Tag(name: $0.0, commit: Self.commitSummary($0.1)) }, nextCursor: next))))
    }

    func createTag(_ input: Operations.CreateTag.Input) async throws -> Operations.CreateTag.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: true)
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON", field: "body") }
        guard (try? TwinID(body.name)) != nil else {
            throw ServerError(.badRequest, "invalid tag name '\(body.name.prefix(200))': a letter or digit, then letters, digits and . _ : # - (at most 128)", field: "name", value: String(body.name.prefix(200)))
        }
        if let commit = body.commit, commit.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ServerError(.badRequest, "name the commit to tag (an id or prefix, a branch, a tag), or leave `commit` out for HEAD", field: "commit")
        }
        let name = body.name, commit = body.commit
        let tagged = try await served.run(call) { bank -> CommitInfo in
            do { _ = try bank.resolveCommit(commit ?? "HEAD") } catch let e as BankError { throw ErrorMapping.bank(e, field: "commit") }
            do {
                return try bank.tag(name, at: commit)
            } catch let e as BankError where e.code == .invalidReference {
                // the name and the commit were checked above: the tag exists on another commit
                throw ServerError(ServerError.Code("tagExists", .conflict), e.message, field: "name", value: e.value)
            } catch let e as BankError where e.code == .unknownCommit || e.code == .ambiguousCommit {
                throw ErrorMapping.bank(e, field: "commit")
            }
        }
        return .created(.init(body: .json(S.Tag(name: name, commit: Self.commitSummary(tagged)))))
    }

    func switchBranch(_ input: Operations.SwitchBranch.Input) async throws -> Operations.SwitchBranch.Output {
        let call = try caller(purpose: input.headers.xPurposeOfUse, write: true)
        guard case .json(let body) = input.body else { throw ServerError(.badRequest, "the body must be JSON", field: "body") }
        guard (try? TwinID(body.name)) != nil else {
            throw ServerError(.badRequest, "invalid branch name '\(body.name.prefix(200))': a letter or digit, then letters, digits and . _ : # - (at most 128)", field: "name", value: String(body.name.prefix(200)))
        }
        let name = body.name, force = body.force ?? false
        let r = try await served.run(call) { bank -> BranchSwitch in
            do {
                return try bank.switchBranch(name, force: force)
            } catch let e as BankError where e.code == .invalidReference {
                // the name was checked above: no such branch
                throw ServerError(ServerError.Code("unknownBranch", .notFound), e.message, field: "name", value: e.value)
            } catch let e as BankError where e.code == .uncommittedChanges {
                throw ServerError(ServerError.Code("uncommittedChanges", .conflict), e.message, field: "force", value: e.value)
            }
        }
        return .ok(.init(body: .json(S.BranchSwitch(from: r.from, to: r.to, commit: r.commit?.hex, discarded: r.discarded.map(\.description),
                                                    discardedReference: r.discardedReference))))
    }
}
