import Foundation

/// Carbohydrate the readings say was eaten but was not announced (issue 26 item 1), found from the glucose
/// twin's innovations: readings that keep coming in above what the twin predicted.
///
/// ``detect(innovations:corrections:carbohydrate:settings:)`` is a pure function of the estimator's innovations
/// (``ModelHealth/Innovation``), the carbohydrate its updates added (``GlucoseFilterBank/gutCorrections``) and
/// the announced meals. It runs a one-sided CUSUM on the normalised innovations z = residual / √variance:
/// S ← max(0, S + z − ``Settings/drift``); when S exceeds ``Settings/threshold`` a meal is inferred, made of the
/// readings from where S left 0 to where it returns to 0. Its amount is what the twin's updates added over those readings
/// (a lower bound: the filters also move their parameters). It is ``Kind/unannounced`` when no announced
/// carbohydrate lies within ``Settings/announcedWindow`` minutes before its first reading, else
/// ``Kind/largerThanAnnounced``. The meal was eaten before its first reading (typically 10 to 30 minutes).
///
/// Measured on the departing people of `Scripts/glucose/departing_people.py` (`twinbank-bench
/// glucose-departures`, white 8 mg/dL noise): see the README; rising glucose from a fall in insulin sensitivity
/// looks the same to it, so an inferred meal is a possibility to confirm, never an input of the model.
public struct InferredMeal: Sendable, Hashable, Codable {
    /// One reading's correction of the carbohydrate in the gut.
    public struct Correction: Sendable, Hashable, Codable {
        /// Minute of the reading (model time).
        public var minute: Int
        /// Carbohydrate added to the gut by the reading's update (mg; negative: removed).
        public var milligrams: Double
        public init(minute: Int, milligrams: Double) { self.minute = minute; self.milligrams = milligrams }
    }

    public enum Kind: String, Sendable, Hashable, Codable {
        /// No meal was announced shortly before: a snack or a meal not told.
        case unannounced
        /// A meal was announced shortly before: more was eaten than announced (or it is absorbed faster).
        case largerThanAnnounced = "larger-than-announced"
    }

    public struct Settings: Sendable, Hashable, Codable {
        /// The CUSUM's drift: normalised innovations below it pull the sum down (chosen on the tuning people).
        public var drift = 0.5
        /// The CUSUM's threshold (chosen on the tuning people: fewer false meals than 3, more found than 5).
        public var threshold = 4.0
        /// Minutes before the first reading in which an announced meal makes it ``Kind/largerThanAnnounced``.
        public var announcedWindow = 120
        public init() {}
    }

    public var kind: Kind
    /// The first reading (minute) of the meal's evidence, and the reading at which it was inferred.
    public var firstMinute: Int
    public var lastMinute: Int
    /// Carbohydrate inferred, g.
    public var grams: Double
    /// Readings in the episode.
    public var readings: Int
    /// The mean residual of the readings from the first until the CUSUM returned to 0 (reading minus prediction,
    /// mg/dL) and the CUSUM when it fired.
    public var meanResidual: Double
    public var cusum: Double
    /// Announced carbohydrate in ``Settings/announcedWindow`` before the first reading, g (0 for unannounced).
    public var announcedGrams: Double

    public init(kind: Kind, firstMinute: Int, lastMinute: Int, grams: Double, readings: Int, meanResidual: Double, cusum: Double, announcedGrams: Double) {
        self.kind = kind; self.firstMinute = firstMinute; self.lastMinute = lastMinute; self.grams = grams
        self.readings = readings; self.meanResidual = meanResidual; self.cusum = cusum; self.announcedGrams = announcedGrams
    }

    /// The evidence in words: what the readings did and what the twin concluded.
    public var evidence: String {
        func r(_ x: Double) -> String { String(format: "%.1f", x) }
        let what = "\(readings) readings from minute \(firstMinute) on (inferred at minute \(lastMinute)) were above the twin's predictions by \(r(meanResidual)) mg/dL on average (CUSUM of normalised innovations \(r(cusum)))"
        switch kind {
        case .unannounced:
            return what + "; no meal was announced in the \(Settings().announcedWindow) minutes before; the twin's updates added \(Int(grams.rounded())) g of carbohydrate"
        case .largerThanAnnounced:
            return what + " after \(Int(announcedGrams.rounded())) g announced; the twin's updates added \(Int(grams.rounded())) g of carbohydrate"
        }
    }

    /// The inferred meals; `innovations` and `corrections` in reading order (corrections matched by minute; none:
    /// amount 0), `carbohydrate` the announced carbohydrate per minute (g/min) from minute 0. A meal's readings run
    /// from where the CUSUM left 0 to where it returns to 0 (or the last reading), so a long rise is one meal;
    /// ``lastMinute`` is the reading at which it was first inferred.
    public static func detect(innovations: [ModelHealth.Innovation], corrections: [Correction] = [], carbohydrate: [Double],
                              settings: Settings = Settings()) -> [InferredMeal] {
        let added = Dictionary(corrections.map { ($0.minute, $0.milligrams) }, uniquingKeysWith: +)
        var meals: [InferredMeal] = []
        var s = 0.0, first = 0
        var residuals: [Double] = [], milligrams = 0.0
        var fired: (minute: Int, cusum: Double)?
        func close() {
            guard let fired else { return }
            let from = max(first - settings.announcedWindow, 0), to = min(first, carbohydrate.count - 1)
            let announced = from <= to ? carbohydrate[from...to].reduce(0, +) : 0
            meals.append(InferredMeal(kind: announced > 0 ? .largerThanAnnounced : .unannounced, firstMinute: first, lastMinute: fired.minute,
                                      grams: max(milligrams, 0) / 1000, readings: residuals.count,
                                      meanResidual: residuals.reduce(0, +) / Double(max(residuals.count, 1)), cusum: fired.cusum, announcedGrams: announced))
        }
        for innovation in innovations where innovation.variance > 0 && innovation.residual.isFinite {
            let minute = Int(innovation.time.rounded())
            if s == 0 { first = minute; residuals = []; milligrams = 0; fired = nil }
            s = max(0, s + innovation.residual / innovation.variance.squareRoot() - settings.drift)
            guard s > 0 else { close(); fired = nil; continue }
            residuals.append(innovation.residual)
            milligrams += added[minute] ?? 0
            if fired == nil, s > settings.threshold { fired = (minute, s) }
        }
        close()
        return meals
    }
}
