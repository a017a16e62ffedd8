/// Checks resources against the R4 rules TwinFHIR knows (see `Schema`): JSON shape of each element (array for
/// 0..*, single value for 0..1), required elements (min cardinality), required value sets, primitive formats,
/// choice-type `[x]` exclusivity, reference target types where R4 constrains them, local (`#id`) references
/// resolving to a contained resource (ref-1), no empty objects or arrays (ele-1).
///
/// Unknown elements are not errors: they are kept on a round trip. Resource types outside
/// `Schema.validatedTypes` get only the resource-level checks (known `resourceType`, valid `id`).
public struct Validator: Sendable {
    public let schema: Schema

    public init(schema: Schema = .r4) { self.schema = schema }

    /// All the problems found in `resource`, in document order; empty if it is valid.
    public func validate(_ resource: JSONValue) -> [FHIRError] {
        var walk = Walk(schema: schema)
        walk.resource(resource, isRoot: true, containedScope: nil)
        return walk.issues
    }

    /// Validates a Bundle that holds only some entries of a larger bundle (as read by a stream): references
    /// to entries resolve through `entryType` (fullUrl -> resourceType of any entry of the whole bundle)
    /// rather than against the entries present.
    func validate(partOfBundle resource: JSONValue, entryType: @escaping (String) -> String?) -> [FHIRError] {
        var walk = Walk(schema: schema)
        walk.rootBundleEntryType = entryType
        walk.resource(resource, isRoot: true, containedScope: nil)
        return walk.issues
    }

    struct Walk {
        let schema: Schema
        var issues: [FHIRError] = []
        /// contained id -> resourceType, innermost resource last.
        var containedStack: [[String: String]] = []
        /// fullUrl -> resourceType of the enclosing bundles, innermost last.
        var bundleStack: [[String: String]] = []
        /// For a partial bundle: fullUrl -> resourceType over the whole bundle.
        var rootBundleEntryType: ((String) -> String?)?
        /// The location being checked, built into a string only when an issue is reported.
        var path: [PathComponent] = []

        enum PathComponent {
            case root(String), key(String), index(Int), primitiveExtension(String)
        }

        init(schema: Schema) { self.schema = schema }

        func location(_ suffix: String) -> String {
            var s = ""
            for c in path {
                switch c {
                case .root(let r): s += r
                case .key(let k): s += "." + k
                case .index(let i): s += "[\(i)]"
                case .primitiveExtension(let k): s += "._" + k
                }
            }
            return (s.isEmpty ? "$" : s) + suffix
        }

        mutating func issue(_ suffix: String, _ message: String, value: String? = nil, rule: String, code: FHIRError.Code = .invalidResource) {
            issues.append(FHIRError(code, message, location: location(suffix), value: value, rule: rule))
        }

        /// `containedScope`: when the resource is itself contained, references resolve in its container.
        mutating func resource(_ v: JSONValue, isRoot: Bool, containedScope: [String: String]?) {
            guard case .object(let o) = v else {
                issue("", "a resource must be a JSON object, found a \(v.kindName)", rule: "R4 JSON format")
                return
            }
            guard case .string(let rt)? = o["resourceType"] else {
                issue("", "the resource has no resourceType string", rule: "R4 JSON format: resourceType", code: .unknownResourceType)
                return
            }
            if isRoot { path.append(.root(rt)) }
            defer { if isRoot { path.removeLast() } }
            guard ResourceTypes.r4.contains(rt) else {
                issue("", "'\(rt)' is not an R4 resource type", value: rt, rule: "R4 resource list", code: .unknownResourceType)
                return
            }
            if let id = o["id"], let msg = Primitive.id.check(id) {
                issue(".id", msg, value: id.stringValue, rule: "format id")
            }
            var contained: [String: String] = containedScope ?? [:]
            if containedScope == nil, let c = o["contained"] {
                for r in c.list {
                    if let id = r["id"]?.stringValue, let t = r["resourceType"]?.stringValue { contained[id] = t }
                }
            }
            var pushedBundle = false
            if rt == "Bundle" {
                var map: [String: String] = [:]
                if !(isRoot && rootBundleEntryType != nil) {
                    for e in o["entry"]?.list ?? [] {
                        if let u = e["fullUrl"]?.stringValue, let t = e["resource"]?["resourceType"]?.stringValue { map[u] = t }
                    }
                }
                bundleStack.append(map)
                pushedBundle = true
            }
            containedStack.append(contained)
            defer {
                containedStack.removeLast()
                if pushedBundle { bundleStack.removeLast() }
            }
            if Schema.validatedTypes.contains(rt), let def = schema.types[rt] {
                complex(o, def, isResource: true)
            } else if let c = o["contained"] {
                // Generic resources: still check contained resources' resource-level rules.
                path.append(.key("contained"))
                for (i, r) in c.list.enumerated() {
                    path.append(.index(i))
                    resource(r, isRoot: false, containedScope: contained)
                    path.removeLast()
                }
                path.removeLast()
            }
        }

        mutating func complex(_ o: JSONObject, _ def: Schema.TypeDefinition, isResource: Bool) {
            if o.isEmpty {
                issue("", "an element must have a value or children; this object is empty", rule: "ele-1")
                return
            }
            var seenChoices: [String] = []
            for m in o.members {
                let key = m.key
                if isResource && key == "resourceType" { continue }
                if key.utf8.first == UInt8(ascii: "_") {
                    primitiveExtension(String(key.dropFirst()), m.value, o, def)
                    continue
                }
                guard let el = def.elements[key] else { continue }  // unknown element: preserved, not checked
                if let g = el.choice {
                    if seenChoices.contains(g) {
                        issue(".\(key)", "only one of \(def.name).\(g)[x] may be present", rule: "choice type \(g)[x]: one of \(def.choices[g]?.names.joined(separator: ", ") ?? "")")
                    } else {
                        seenChoices.append(g)
                    }
                }
                path.append(.key(key))
                defer { path.removeLast() }
                if el.isList {
                    guard case .array(let items) = m.value else {
                        issue("", "\(def.name).\(key) has cardinality 0..* and must be a JSON array, found a \(m.value.kindName)", rule: "R4 JSON format: arrays for repeating elements")
                        continue
                    }
                    if items.isEmpty {
                        issue("", "an array must not be empty", rule: "ele-1")
                        continue
                    }
                    for (i, item) in items.enumerated() {
                        if case .null = item {
                            if !(isPrimitive(el.kind) && o["_" + key] != nil) { issue("[\(i)]", "null is not allowed here", rule: "R4 JSON format: null only pairs with _\(key)") }
                            continue
                        }
                        path.append(.index(i))
                        value(item, el, def)
                        path.removeLast()
                    }
                } else {
                    if case .array = m.value {
                        issue("", "\(def.name).\(key) has cardinality 0..1 and must not be an array", rule: "cardinality \(el.min)..1")
                        continue
                    }
                    value(m.value, el, def)
                }
            }
            for r in def.required where o[r.name] == nil && o["_" + r.name] == nil {
                issue(".\(r.name)", "\(def.name).\(r.name) is required and missing", rule: "cardinality \(r.min)..\(r.isList ? "*" : "1")")
            }
            for (g, c) in def.choices where c.required && !seenChoices.contains(g) {
                if !c.names.contains(where: { o["_" + $0] != nil }) {
                    issue(".\(g)[x]", "\(def.name).\(g)[x] is required and missing", rule: "cardinality 1..1 (one of \(c.names.joined(separator: ", ")))")
                }
            }
        }

        func isPrimitive(_ k: Schema.Kind) -> Bool { if case .primitive = k { return true }; return false }

        mutating func value(_ v: JSONValue, _ el: Schema.Element, _ def: Schema.TypeDefinition) {
            switch el.kind {
            case .primitive(let p):
                if let msg = p.check(v) {
                    issue("", msg, value: v.stringValue ?? v.numberText, rule: "format \(p.rawValue)")
                    return
                }
                if let vs = el.requiredValueSet, case .string(let code) = v, !vs.codes.contains(code) {
                    issue("", "value '\(code)' is not in the required value set \(vs.url)", value: code, rule: "required binding \(vs.url)")
                }
            case .complex(let t):
                guard case .object(let o) = v else {
                    issue("", "a \(t) must be a JSON object, found a \(v.kindName)", rule: "R4 JSON format")
                    return
                }
                guard let tdef = schema.types[t] else { return }
                complex(o, tdef, isResource: false)
                if t == "Reference" { reference(o, el) }
                if let vs = el.requiredValueSet { codedBinding(o, t, vs) }
            case .resource:
                let inContained = el.name == "contained"
                resource(v, isRoot: false, containedScope: inContained ? containedStack.last : nil)
            }
        }

        mutating func primitiveExtension(_ base: String, _ v: JSONValue, _ o: JSONObject, _ def: Schema.TypeDefinition) {
            guard let el = def.elements[base] else { return }
            guard isPrimitive(el.kind) else {
                issue("._\(base)", "_\(base) is only allowed for primitive elements; \(def.name).\(base) is not primitive", rule: "R4 JSON format: primitive extensions")
                return
            }
            let items: [JSONValue]
            if el.isList {
                guard case .array(let a) = v else {
                    issue("._\(base)", "_\(base) must be an array like \(base)", rule: "R4 JSON format: primitive extensions")
                    return
                }
                if let values = o[base]?.arrayValue, values.count != a.count {
                    issue("._\(base)", "_\(base) has \(a.count) items but \(base) has \(values.count)", rule: "R4 JSON format: primitive extensions")
                }
                items = a
            } else {
                items = [v]
            }
            for (i, item) in items.enumerated() {
                let p = el.isList ? "._\(base)[\(i)]" : "._\(base)"
                switch item {
                case .null: continue
                case .object(let eo):
                    if eo.isEmpty { issue(p, "an element must have a value or children; this object is empty", rule: "ele-1") }
                    for (j, x) in (eo["extension"]?.list ?? []).enumerated() {
                        if case .object(let xo) = x, let xdef = schema.types["Extension"] {
                            path.append(.primitiveExtension(el.isList ? "\(base)[\(i)]" : base))
                            path.append(.key("extension"))
                            path.append(.index(j))
                            complex(xo, xdef, isResource: false)
                            path.removeLast(3)
                        }
                    }
                default:
                    issue(p, "_\(base) must hold JSON objects, found a \(item.kindName)", rule: "R4 JSON format: primitive extensions")
                }
            }
        }

        mutating func codedBinding(_ o: JSONObject, _ type: String, _ vs: ValueSet) {
            let codings: [JSONValue] = type == "Coding" ? [.object(o)] : (o["coding"]?.list ?? [])
            var fromSystem = false
            for (i, c) in codings.enumerated() where c["system"]?.stringValue == vs.system {
                fromSystem = true
                if let code = c["code"]?.stringValue, !vs.codes.contains(code) {
                    let p = type == "Coding" ? ".code" : ".coding[\(i)].code"
                    issue(p, "value '\(code)' is not in the required value set \(vs.url)", value: code, rule: "required binding \(vs.url)")
                }
            }
            if !fromSystem {
                issue("", "no coding from the required value set \(vs.url) (system \(vs.system))", rule: "required binding \(vs.url)")
            }
        }

        mutating func reference(_ o: JSONObject, _ el: Schema.Element) {
            guard let ref = o["reference"]?.stringValue else { return }
            var target: String?
            if ref.hasPrefix("#") {
                if ref == "#" { return }  // the container itself
                let id = String(ref.dropFirst())
                guard let t = containedStack.last?[id] else {
                    issue(".reference", "local reference '\(ref)' does not resolve to a contained resource", value: ref, rule: "ref-1", code: .danglingReference)
                    return
                }
                target = t
            } else if ref.hasPrefix("urn:") {
                if bundleStack.count == 1, let lookup = rootBundleEntryType { target = lookup(ref) } else { target = bundleStack.last?[ref] }
            } else {
                target = Self.resourceType(inReference: ref)
            }
            if target == nil, let t = o["type"]?.stringValue, ResourceTypes.r4.contains(t) { target = t }
            guard let targets = el.referenceTargets, let t = target else { return }
            if !targets.contains(t) {
                issue("", "a reference to a \(t) is not allowed here; R4 allows \(targets.joined(separator: " | "))", value: ref, rule: "reference target type Reference(\(targets.joined(separator: "|")))")
            }
        }

        /// The resource type named by a relative (`Patient/1`), absolute (`http://x/fhir/Patient/1/_history/2`)
        /// or conditional (`Patient?identifier=...`) reference, if any.
        static func resourceType(inReference ref: String) -> String? {
            let noQuery = ref.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
            if noQuery.count == 2 {
                let t = String(noQuery[0].split(separator: "/").last ?? "")
                return ResourceTypes.r4.contains(t) ? t : nil
            }
            var parts = ref.split(separator: "/", omittingEmptySubsequences: false)
            if parts.count >= 4 && parts[parts.count - 2] == "_history" { parts.removeLast(2) }
            guard parts.count >= 2 else { return nil }
            let t = String(parts[parts.count - 2])
            return ResourceTypes.r4.contains(t) ? t : nil
        }
    }
}
