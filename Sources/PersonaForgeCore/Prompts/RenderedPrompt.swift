/// The messages of one step for one sample, ready to send.
public struct RenderedPrompt: Sendable, Hashable, Codable {
    /// Step name.
    public var step: String
    /// System message, if the step has one.
    public var system: String?
    /// User message.
    public var user: String

    /// Creates a prompt.
    public init(step: String, system: String?, user: String) {
        self.step = step
        self.system = system
        self.user = user
    }
}

/// One axis value of a condition, with its axis name (ordered, for display and JSON).
public struct NamedAxisValue: Sendable, Hashable, Codable {
    /// Axis name.
    public var axis: String
    /// Value index on the axis.
    public var index: Int
    /// The value.
    public var value: AxisValue

    /// Creates a named value.
    public init(axis: String, index: Int, value: AxisValue) {
        self.axis = axis
        self.index = index
        self.value = value
    }
}

/// A sample as `plan` previews it: where it is, its condition and every step's
/// prompt (later steps show a placeholder for earlier outputs).
public struct RenderedSample: Sendable, Hashable, Codable {
    /// Sample position in the run.
    public var samplePosition: Int
    /// Condition and sample index.
    public var address: SampleAddress
    /// The condition's axis values in axis order.
    public var condition: [NamedAxisValue]
    /// One prompt per step.
    public var prompts: [RenderedPrompt]

    /// Creates a rendered sample.
    public init(samplePosition: Int, address: SampleAddress, condition: [NamedAxisValue], prompts: [RenderedPrompt]) {
        self.samplePosition = samplePosition
        self.address = address
        self.condition = condition
        self.prompts = prompts
    }
}
