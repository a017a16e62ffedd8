import Foundation

/// A synthetic single-lead ECG for demonstrations and tests: each beat is a sum of Gaussian waves (P, Q, R, S, T,
/// after the morphology of P. E. McSharry et al., "A dynamical model for generating synthetic electrocardiogram
/// signals", IEEE Trans. Biomed. Eng. 50 (2003) 289-294, written as a sum of waves in time rather than as their
/// ODE), at beat-to-beat intervals with respiratory sinus arrhythmia (a 0.25 Hz sine) and random variation, plus
/// white noise. Not a physiological model: a signal with known beats, to show and check the ECG path.
public struct SyntheticECG: Sendable {
    /// Sampling rate, Hz; mean heart rate, beats/min; respiratory modulation and random variation of the interval
    /// (SD), ms; noise SD, mV.
    public var samplingRate = 250.0, heartRate = 72.0, respiratoryModulation = 40.0, intervalVariation = 20.0, noise = 0.02

    public init() {}

    /// `seconds` of signal (mV) and the sample index of each R peak, drawn with `generator`.
    public func generate(seconds: Double, using generator: inout some RandomNumberGenerator & Sendable) -> (signal: [Double], beats: [Int]) {
        let n = Int(seconds * samplingRate)
        var signal = [Double](repeating: 0, count: n)
        var beats: [Int] = []
        let mean = 60 / heartRate
        var t = 0.5
        // (offset from R s, amplitude mV, width s): P, Q, R, S; T follows at a rate-dependent offset
        let waves: [(Double, Double, Double)] = [(-0.2, 0.15, 0.025), (-0.03, -0.12, 0.01), (0, 1.1, 0.01), (0.03, -0.25, 0.01)]
        func normal() -> Double {
            let u = Double.random(in: Double.ulpOfOne..<1, using: &generator), v = Double.random(in: 0..<1, using: &generator)
            return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
        }
        while t < seconds - 0.5 {
            let r = Int((t * samplingRate).rounded())
            beats.append(r)
            let interval = mean + respiratoryModulation / 1000 * sin(2 * .pi * 0.25 * t) + intervalVariation / 1000 * normal()
            let tWave = (0.28 * (interval / mean).squareRoot(), 0.3, 0.04)
            for (offset, amplitude, width) in waves + [tWave] {
                let centre = t + offset
                let from = max(Int(((centre - 4 * width) * samplingRate).rounded(.down)), 0)
                let to = min(Int(((centre + 4 * width) * samplingRate).rounded(.up)), n - 1)
                guard from <= to else { continue }
                for k in from...to {
                    let dt = Double(k) / samplingRate - centre
                    signal[k] += amplitude * exp(-dt * dt / (2 * width * width))
                }
            }
            t += max(interval, 0.3)
        }
        for k in 0..<n { signal[k] += noise * normal() }
        return (signal, beats)
    }
}
