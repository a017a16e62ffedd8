import ArgumentParser

/// Checks the subcommand words of a command line against each command group's subcommands, so that
/// `twinbank aggregate lst --bank b` says "unknown subcommand 'lst'; did you mean 'list'?" rather than
/// ArgumentParser's "Unknown option '--bank'". Generic: it walks the groups' configurations, nothing is listed here.
enum SubcommandSpelling {
    /// The problem with the first word that should name a subcommand and does not, or nil when every group on the
    /// path is followed by one of its subcommands (or by an option, `help`, or nothing, which ArgumentParser handles).
    static func check(_ arguments: [String], root: any ParsableCommand.Type) -> String? {
        var command = root
        var path = [root._commandName]
        for word in arguments {
            let subcommands = command.configuration.subcommands
            guard !subcommands.isEmpty, command.configuration.defaultSubcommand == nil else { return nil }
            if word.hasPrefix("-") || word == "help" { return nil }
            let names = subcommands.map { ($0, [$0._commandName] + $0.configuration.aliases) }
            guard let next = names.first(where: { $0.1.contains(word) })?.0 else {
                let all = names.map(\.1[0])
                if let guess = suggestion(for: word, among: all) {
                    return "unknown subcommand '\(word)'; did you mean '\(guess)'? (see '\(path.joined(separator: " ")) --help')"
                }
                return "unknown subcommand '\(word)' of '\(path.joined(separator: " "))'; expected one of: \(all.joined(separator: ", "))"
            }
            command = next
            path.append(next._commandName)
        }
        return nil
    }

    /// The closest name by edit distance (insertions, deletions, substitutions, transpositions), when it is close
    /// enough to be a slip: at most 2 edits and fewer than the word's length, or the word is a prefix of it.
    static func suggestion(for word: String, among names: [String]) -> String? {
        let scored = names.map { (name: $0, distance: editDistance(word, $0)) }
        if let best = scored.min(by: { $0.distance < $1.distance }),
           best.distance <= 2, best.distance < max(2, word.count) {
            return best.name
        }
        return names.first { $0.hasPrefix(word) && word.count >= 2 }
    }

    /// Optimal string alignment distance (Damerau-Levenshtein without repeated edits of a substring).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.lowercased()), b = Array(b.lowercased())
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }
}
