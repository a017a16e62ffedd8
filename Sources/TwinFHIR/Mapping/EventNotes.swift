/// The FHIR facts an imported event keeps in `Provenance.notes`, so an export can rebuild the resource and a
/// re-import gives the same event: the origin (bundle), the resource's status, and for an Observation
/// component, the panel it belongs to. Written as one compact JSON object with sorted keys.
struct EventNotes: Sendable, Hashable {
    var origin: String
    var status: String?
    var panel: JSONValue?
    var category: JSONValue?

    var text: String {
        var o = JSONObject()
        if let category { o["category"] = category }
        o["origin"] = .string(origin)
        if let panel { o["panel"] = panel }
        if let status { o["status"] = .string(status) }
        return JSONWriter().string(.object(o))
    }

    init(origin: String, status: String? = nil, panel: JSONValue? = nil, category: JSONValue? = nil) {
        self.origin = origin; self.status = status; self.panel = panel; self.category = category
    }

    init?(_ text: String?) {
        guard let text, let v = try? JSONReader().read(text), let o = v["origin"]?.stringValue else { return nil }
        origin = o
        status = v["status"]?.stringValue
        panel = v["panel"]
        category = v["category"]
    }
}
