import Foundation
import TwinCore
import TwinSync

extension SBMLBinding {
    /// This SBML model bound to a twin, as a thread binding (``TwinSync/ThreadBinding``, kind `sbml`): the twin's
    /// attributes still set the bound parameters, each output's code is read as the model variable (in the
    /// model's unit: ``Output/scale`` times the thread unit, written `10*N.UNIT` in UCUM for a power of ten),
    /// with `noise` as its measurement error; `estimated` are the parameters to estimate. The model's time unit
    /// comes from ``modelTimePerHour`` (3600: s, 60: min, 1: h, 1/24: d).
    /// - Throws: ``RunError`` `invalidBinding` naming a time unit or an output scale a thread binding cannot state.
    public func threadBinding(name: String, noise: ThreadBinding.NoiseModel, estimated: [ThreadBinding.EstimatedParameter] = [],
                              origin: Instant? = nil) throws -> ThreadBinding {
        let timeUnit: ModelTimeUnit
        switch modelTimePerHour {
        case 3600: timeUnit = .s
        case 60: timeUnit = .min
        case 1: timeUnit = .h
        case 1.0 / 24: timeUnit = .d
        default: throw RunError(.invalidBinding, "binding '\(name)': \(modelTimePerHour) model time units per hour is not seconds, minutes, hours or days", value: "\(modelTimePerHour)")
        }
        let outputs = try outputs.map { o -> ThreadBinding.MeasuredOutput in
            var unit = o.unit
            if o.scale != 1 {
                let exponent = log10(o.scale)
                guard o.scale > 0, exponent == exponent.rounded(), (try? UCUMUnit(parsing: "10*\(Int(exponent)).\(o.unit)")) != nil else {
                    throw RunError(.invalidBinding, "binding '\(name)': output '\(o.variable)' scales by \(o.scale), which is not a power of ten a UCUM unit can state", value: "\(o.scale)")
                }
                unit = "10*\(Int(exponent)).\(o.unit)"
            }
            return ThreadBinding.MeasuredOutput(code: o.code, output: o.variable, unit: unit, noise: noise)
        }
        return ThreadBinding(name: name, model: .init(kind: .sbml, file: modelPath, id: modelID), timeUnit: timeUnit, origin: origin, outputs: outputs,
                             parameters: parameters.map { ThreadBinding.ParameterSetting(parameter: $0.parameter, attribute: $0.attribute, unit: $0.unit ?? "1") },
                             estimated: estimated)
    }
}
