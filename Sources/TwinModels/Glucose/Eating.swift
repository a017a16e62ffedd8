/// How a person eats announced carbohydrate, as simglucose 0.2.11's patient does (`T1DPatient._announce_meal`
/// and the eating detection in `T1DPatient.step`): a meal is announced as grams at one minute (the `CHO` column of
/// a simglucose trace, a recorded meal event) and eaten at no more than ``rate`` g/min, what is not yet eaten
/// carried over to the next minute; an **eating episode** starts at the first minute with food after a minute
/// without, and ``foodTaken`` counts the grams eaten in the current or last episode (the gastric-emptying memory
/// of the UVA/Padova model, with the stomach content at the episode's start).
///
/// A value type advanced minute by minute: the simulator (``GlucoseSimulator``) and the glucose twin's filters
/// share it, so that a twin given a trace's meals eats them exactly as the person it models did.
public struct Eating: Sendable, Hashable {
    /// simglucose's eating rate, g/min (a 45 g meal takes 9 minutes).
    public static let simglucoseRate = 5.0

    /// The most eaten in one minute, g/min.
    public let rate: Double
    /// Announced carbohydrate not yet eaten, g.
    public private(set) var planned = 0.0
    /// Eaten in the last minute advanced, g/min.
    public private(set) var lastEaten = 0.0
    /// Whether the last minute advanced belongs to an eating episode.
    public private(set) var isEating = false
    /// Grams eaten in the current or last eating episode (0 before the first).
    public private(set) var foodTaken = 0.0

    /// - Parameter rate: the most eaten in one minute (g/min); must be positive.
    public init(rate: Double = Eating.simglucoseRate) {
        precondition(rate > 0 && rate.isFinite, "an eating rate must be positive")
        self.rate = rate
    }

    /// One minute with `announced` grams newly announced: what is eaten over it (g/min) and whether an eating
    /// episode starts with it (the caller then records the stomach content, as the model's memory needs).
    public mutating func advance(announced: Double) -> (eaten: Double, startsEpisode: Bool) {
        var pending = planned + max(announced, 0)
        var eaten = 0.0
        if pending > 0 {
            eaten = min(rate, pending)
            pending = max(0, pending - eaten)
        }
        let starts = eaten > 0 && lastEaten <= 0
        if starts { foodTaken = 0; isEating = true }
        if isEating { foodTaken += eaten }
        if eaten <= 0 && lastEaten > 0 { isEating = false }
        planned = pending
        lastEaten = eaten
        return (eaten, starts)
    }

    /// The eating of a whole per-minute series of announced carbohydrate from minute 0: per minute, the grams
    /// eaten, whether an episode starts and the food taken after it (what ``advance(announced:)`` gives).
    public static func schedule(announced: [Double], rate: Double = Eating.simglucoseRate) -> (eaten: [Double], startsEpisode: [Bool], foodTaken: [Double]) {
        var eating = Eating(rate: rate)
        var eaten = [Double](repeating: 0, count: announced.count), starts = [Bool](repeating: false, count: announced.count)
        var taken = eaten
        for k in announced.indices {
            let step = eating.advance(announced: announced[k])
            eaten[k] = step.eaten; starts[k] = step.startsEpisode; taken[k] = eating.foodTaken
        }
        return (eaten, starts, taken)
    }
}
