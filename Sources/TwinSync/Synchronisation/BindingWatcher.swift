import TwinBank
import TwinCore

/// Keeps any bound twin's estimate and forecast current: on each update that brings a reading or an input of
/// one of ``binding``'s codes, it runs the ``BindingSynchroniser`` as the thread was known right after the
/// update (window end: the update's latest bound event, at most `knownAt`) and returns what it would write
/// (the estimate and forecast events), each carrying the update's marker. Deterministic in the thread as known
/// then, as ``ThreadWatcher`` requires.
public struct BindingWatcher: ThreadWatcher {
    public var binding: ThreadBinding
    /// The synchroniser's settings; `to`, `knownAt` and `context` are set per update.
    public var options: BindingSynchroniser.Options
    /// The twins the binding belongs to (nil: any twin whose thread holds its codes).
    public var twins: Set<TwinID>?
    public var name: String { "binding-\(binding.name)" }

    public init(binding: ThreadBinding, options: BindingSynchroniser.Options = .init(), twins: Set<TwinID>? = nil) {
        self.binding = binding
        self.options = options
        self.twins = twins
    }

    public func isTrigger(_ event: Event) -> Bool {
        if let twins, !twins.contains(event.twin) { return false }
        return switch event.category {
        case .observation: binding.outputs.contains { $0.code.key == event.code.key }
        case .intervention: binding.inputs.contains { $0.code.key == event.code.key }
        default: false
        }
    }

    public func evaluate(_ update: ThreadUpdate, in bank: Bank) async throws -> [EventDraft] {
        let readings = update.events.filter { $0.category == .observation && isTrigger($0) }
        guard let latest = readings.map(\.effective.start).max() else { return [] }
        var o = options
        o.knownAt = update.recorded
        o.to = min(latest, update.recorded)
        o.context = ([options.context].compactMap { $0 } + [update.marker(watcher: name)]).joined(separator: " ")
        return try await BindingSynchroniser.compute(update.twin, in: bank, binding: binding, options: o).drafts
    }
}
