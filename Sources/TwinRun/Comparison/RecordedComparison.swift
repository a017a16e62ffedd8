import Foundation
import TwinBank
import TwinCore

/// A comparison as ``ComparisonEngine`` recorded it in a twin's thread, read back: the recommendation event coded
/// ``ComparisonEngine/comparisonCode`` whose text is the ranking (`1. usual: time in range ...; 2. ...`) and whose
/// provenance notes name the forks (`forks=TWIN.cmpN.usual,...`), one per option, each holding the option's
/// interventions and predictions.
public struct RecordedComparison: Sendable, Hashable {
    /// One ranked option.
    public struct Option: Sendable, Hashable {
        /// 1 = best.
        public var rank: Int
        public var name: String
        /// The option's fork (nil if the notes do not name one for it).
        public var fork: TwinID?
        /// The option's figures as recorded (`time in range 72.3 % (90 % band 60.1-80.2), LBGI 1.23`).
        public var figures: String
    }

    /// The recorded event.
    public var event: Event
    /// The options, best first.
    public var options: [Option]

    /// The comparison `event` records, nil if it is not a current recommendation coded
    /// ``ComparisonEngine/comparisonCode`` whose text is a ranking (`RANK. NAME: FIGURES` or `RANK. NAME`, joined by `; `).
    public init?(_ event: Event) {
        guard event.category == .recommendation, event.code.key == ComparisonEngine.comparisonCode.key,
              event.retractedAtSequence == nil, !event.isErased, case .text(let text)? = event.value else { return nil }
        let forks = Self.forks(in: event.provenance.notes ?? "")
        var options: [Option] = []
        // entries start `N. NAME: `; names hold letters, digits, `-` and `_` (OptionSyntax), so `; N. NAME: ` only starts one
        let entries = text.split(separator: "; ").reduce(into: [String]()) { out, piece in
            if Self.entry(String(piece)) != nil || out.isEmpty { out.append(String(piece)) } else { out[out.count - 1] += "; " + piece }
        }
        for entry in entries {
            guard let (rank, name, figures) = Self.entry(entry) else { return nil }
            options.append(Option(rank: rank, name: name, fork: forks.first { $0.rawValue.hasSuffix(".\(name)") }, figures: figures))
        }
        guard !options.isEmpty else { return nil }
        self.event = event
        self.options = options.sorted { $0.rank < $1.rank }
    }

    /// `RANK. NAME: FIGURES` (or `RANK. NAME`) split, nil if `text` is not one.
    static func entry(_ text: String) -> (Int, String, String)? {
        guard let dot = text.firstIndex(of: "."), let rank = Int(text[..<dot]), rank > 0 else { return nil }
        let rest = text[text.index(after: dot)...].drop { $0 == " " }
        // `RANK. NAME` alone is an entry without figures
        let colon = rest.firstIndex(of: ":") ?? rest.endIndex
        let name = String(rest[..<colon])
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else { return nil }
        return (rank, name, colon == rest.endIndex ? "" : rest[rest.index(after: colon)...].trimmingCharacters(in: .whitespaces))
    }

    /// The twins named by `forks=A,B,...` in recorded notes.
    static func forks(in notes: String) -> [TwinID] {
        guard let range = notes.range(of: "forks=") else { return [] }
        let list = notes[range.upperBound...].prefix { !$0.isWhitespace }
        return list.split(separator: ",").compactMap { try? TwinID(String($0)) }
    }

    /// The latest comparison recorded in `twin`'s current thread (by effective time, then sequence), nil if none.
    /// - Throws: the bank's errors (``TwinBank/BankError`` `unknownTwin`, `accessDenied`).
    public static func latest(of twin: TwinID, in bank: Bank) throws -> RecordedComparison? {
        let events = try bank.events(ThreadQuery(twin: twin, code: ComparisonEngine.comparisonCode.key, category: .recommendation))
        return events.filter { $0.twin == twin }.reversed().lazy.compactMap(RecordedComparison.init).first
    }
}
