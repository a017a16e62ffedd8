extension UVAPadovaParameters {
    /// The writable parameter named `name` (the property names: `Vmx`, `kp3`, `kabs`, ...), or nil for any other
    /// name. The one name-to-parameter table: the twin's filters, estimates and comparisons all read and set
    /// parameters by name through it.
    public static func keyPath(named name: String) -> WritableKeyPath<UVAPadovaParameters, Double>? {
        keyPaths[name]
    }

    /// Built once: the twin's filters look parameters up on every propagation. Key paths are immutable, so the
    /// table is safe to share (the standard library does not mark WritableKeyPath Sendable).
    nonisolated(unsafe) private static let keyPaths: [String: WritableKeyPath<UVAPadovaParameters, Double>] = [
        "BW": \.BW, "EGPb": \.EGPb, "Gb": \.Gb, "Ib": \.Ib, "kabs": \.kabs, "kmax": \.kmax, "kmin": \.kmin, "b": \.b, "d": \.d,
        "Vg": \.Vg, "Vi": \.Vi, "Ipb": \.Ipb, "Vmx": \.Vmx, "Km0": \.Km0, "k2": \.k2, "k1": \.k1, "p2u": \.p2u, "m1": \.m1,
        "m5": \.m5, "CL": \.CL, "HEb": \.HEb, "m2": \.m2, "m4": \.m4, "m30": \.m30, "Ilb": \.Ilb, "ki": \.ki, "kp2": \.kp2,
        "kp3": \.kp3, "f": \.f, "Gpb": \.Gpb, "ke1": \.ke1, "ke2": \.ke2, "Fsnc": \.Fsnc, "Gtb": \.Gtb, "Vm0": \.Vm0,
        "Rdb": \.Rdb, "PCRb": \.PCRb, "kd": \.kd, "ksc": \.ksc, "ka1": \.ka1, "ka2": \.ka2, "dosekempt": \.dosekempt,
        "u2ss": \.u2ss, "isc1ss": \.isc1ss, "isc2ss": \.isc2ss, "kp1": \.kp1,
    ]
}
