/// Everything `personaforge report` shows about one run, read from PostgreSQL by
/// ``RunReportQueries`` in a bounded number of bounded queries (server-side
/// `GROUP BY` and `LIMIT`), so a report of a run with billions of records stays
/// small. Plain values: the terminal and HTML renderers are pure functions of it.
public struct RunReport: Sendable {
    /// The run's counters and state.
    public var run: RunSummary
    /// The config as submitted (YAML text).
    public var configYAML: String
    /// The run's sampling seed.
    public var seed: UInt64
    /// Conditions in the space (the product of the axis sizes).
    public var conditionCount: Int64
    /// Generation settings taken from the stored config (nil when it no longer loads).
    public var generation: Generation?
    /// Filtered and failed records by reason, most frequent first.
    public var rejectReasons: [ReasonCount]
    /// Records stored over time, bucketed by `created_at`.
    public var timeline: Timeline
    /// Metric snapshots (live and final) in the order they were taken, at most the most recent few hundred.
    public var snapshots: [MetricSnapshot]
    /// Coverage and yield per axis, in axis order.
    public var axes: [AxisCoverage]
    /// Kept and generated counts over two axes (bucketed when large); nil for one-axis runs.
    public var heatmap: CoverageHeatmap?
    /// Character lengths of the kept records.
    public var lengths: LengthHistogram
    /// A few records to read: kept ones first, then rejected ones.
    public var samples: [SampleRecord]

    /// Creates a report from its parts.
    public init(
        run: RunSummary, configYAML: String = "", seed: UInt64 = 0, conditionCount: Int64 = 0, generation: Generation? = nil,
        rejectReasons: [ReasonCount] = [], timeline: Timeline = Timeline(), snapshots: [MetricSnapshot] = [],
        axes: [AxisCoverage] = [], heatmap: CoverageHeatmap? = nil, lengths: LengthHistogram = LengthHistogram(),
        samples: [SampleRecord] = []
    ) {
        self.run = run
        self.configYAML = configYAML
        self.seed = seed
        self.conditionCount = conditionCount
        self.generation = generation
        self.rejectReasons = rejectReasons
        self.timeline = timeline
        self.snapshots = snapshots
        self.axes = axes
        self.heatmap = heatmap
        self.lengths = lengths
        self.samples = samples
    }

    /// The latest snapshot (live or final), if any.
    public var latestSnapshot: MetricSnapshot? { snapshots.last }

    /// Model, sampling and prompts of a run.
    public struct Generation: Sendable, Hashable {
        /// The model name sent to the endpoint.
        public var model: String
        /// The API style (`chat` or `completions`).
        public var api: String
        /// Sampling parameters of the run's model settings.
        public var temperature: Double
        public var topP: Double
        public var maxTokens: Int
        /// Samples per condition and the sampling budget (nil: the whole space).
        public var samplesPerCondition: Int
        public var limit: Int?
        /// The prompt templates, one per step.
        public var steps: [Step]
        /// Whether near-duplicate removal was on, and its Jaccard threshold.
        public var dedupEnabled: Bool
        public var dedupThreshold: Double

        /// One step's templates (Mustache, as written in the config).
        public struct Step: Sendable, Hashable {
            public var name: String
            public var system: String?
            public var user: String

            public init(name: String, system: String?, user: String) {
                self.name = name
                self.system = system
                self.user = user
            }
        }

        public init(
            model: String, api: String, temperature: Double, topP: Double, maxTokens: Int, samplesPerCondition: Int, limit: Int?,
            steps: [Step], dedupEnabled: Bool, dedupThreshold: Double
        ) {
            self.model = model
            self.api = api
            self.temperature = temperature
            self.topP = topP
            self.maxTokens = maxTokens
            self.samplesPerCondition = samplesPerCondition
            self.limit = limit
            self.steps = steps
            self.dedupEnabled = dedupEnabled
            self.dedupThreshold = dedupThreshold
        }
    }

    /// How many records ended with one status and reason.
    public struct ReasonCount: Sendable, Hashable {
        /// `filtered` or `failed`.
        public var status: String
        /// The reject reason or failure class ("" when none was stored).
        public var reason: String
        public var count: Int64

        public init(status: String, reason: String, count: Int64) {
            self.status = status
            self.reason = reason
            self.count = count
        }
    }

    /// Records per time bucket and status (not cumulative).
    public struct Timeline: Sendable, Hashable {
        /// Width of a bucket in seconds.
        public var bucketSeconds: Double
        /// When the first record was stored (database clock, ISO-like text).
        public var start: String?
        /// Buckets in time order; bucket `i` covers [start + i·width, start + (i+1)·width).
        public var buckets: [StatusCounts]

        public init(bucketSeconds: Double = 1, start: String? = nil, buckets: [StatusCounts] = []) {
            self.bucketSeconds = bucketSeconds
            self.start = start
            self.buckets = buckets
        }
    }

    /// Counts by record status.
    public struct StatusCounts: Sendable, Hashable {
        /// Records with each status.
        public var kept: Int64
        public var filtered: Int64
        public var failed: Int64
        public var duplicate: Int64

        public init(kept: Int64 = 0, filtered: Int64 = 0, failed: Int64 = 0, duplicate: Int64 = 0) {
            self.kept = kept
            self.filtered = filtered
            self.failed = failed
            self.duplicate = duplicate
        }

        /// All records counted.
        public var total: Int64 { kept + filtered + failed + duplicate }

        /// Adds `count` records of `status` (unknown statuses are ignored).
        public mutating func add(_ count: Int64, status: String) {
            switch status {
            case "kept": kept += count
            case "filtered": filtered += count
            case "failed": failed += count
            case "duplicate": duplicate += count
            default: break
            }
        }
    }

    /// One row of `metric_snapshots`; only the numeric metrics are kept.
    public struct MetricSnapshot: Sendable, Hashable {
        /// When it was taken (database clock, text).
        public var takenAt: String
        /// Kept records the snapshot measured.
        public var recordsSeen: Int64
        /// Whether it was taken after the run completed.
        public var isFinal: Bool
        /// Metric name → value (see docs/metrics.md).
        public var metrics: [String: Double]

        public init(takenAt: String, recordsSeen: Int64, isFinal: Bool, metrics: [String: Double]) {
            self.takenAt = takenAt
            self.recordsSeen = recordsSeen
            self.isFinal = isFinal
            self.metrics = metrics
        }
    }

    /// Coverage and yield of one axis.
    public struct AxisCoverage: Sendable, Hashable {
        public var axis: String
        /// Values in the axis (nil when unknown).
        public var size: Int64?
        /// Values that produced at least one record so far.
        public var valuesSeen: Int64
        /// The values shown: every value of a small axis (in index order), else the
        /// lowest-yield ones (`allValues` false).
        public var values: [AxisValueStats]
        public var allValues: Bool
        /// The values with the fewest generated records (under-covered), fewest first.
        public var leastCovered: [AxisValueStats]

        public init(axis: String, size: Int64?, valuesSeen: Int64, values: [AxisValueStats], allValues: Bool, leastCovered: [AxisValueStats]) {
            self.axis = axis
            self.size = size
            self.valuesSeen = valuesSeen
            self.values = values
            self.allValues = allValues
            self.leastCovered = leastCovered
        }

        /// Values of the axis no record has used yet (nil when the size is unknown).
        public var valuesUnseen: Int64? { size.map { max(0, $0 - valuesSeen) } }
    }

    /// Counts for one axis value (a row of `axis_coverage`).
    public struct AxisValueStats: Sendable, Hashable {
        public var index: Int64
        /// Display form of the value (nil for table-backed axes).
        public var label: String?
        public var counts: StatusCounts
        public var tokens: Int64
        /// Why its records were filtered or failed, most frequent first.
        public var rejectReasons: [RejectReasonCount]

        public init(index: Int64, label: String?, counts: StatusCounts, tokens: Int64 = 0, rejectReasons: [RejectReasonCount] = []) {
            self.index = index
            self.label = label
            self.counts = counts
            self.tokens = tokens
            self.rejectReasons = rejectReasons
        }

        /// Kept / generated (0 when nothing was generated).
        public var yield: Double { counts.total > 0 ? Double(counts.kept) / Double(counts.total) : 0 }
        /// Duplicate / generated (0 when nothing was generated).
        public var duplicateRate: Double { counts.total > 0 ? Double(counts.duplicate) / Double(counts.total) : 0 }
        /// The label, or `#index` when there is none.
        public var displayLabel: String { label ?? "#\(index)" }
    }

    /// How many records of an axis value were filtered (or failed) for one reason.
    public struct RejectReasonCount: Sendable, Hashable {
        /// `filtered` or `failed`.
        public var status: String
        public var reason: String
        public var records: Int64

        public init(status: String, reason: String, records: Int64) {
            self.status = status
            self.reason = reason
            self.records = records
        }
    }

    /// Records over a grid of two axes; large axes are cut into equal ranges of value indices.
    public struct CoverageHeatmap: Sendable, Hashable {
        public var rowAxis: String
        public var columnAxis: String
        public var rows: [Band]
        public var columns: [Band]
        /// `cells[row][column]`.
        public var cells: [[Cell]]

        public init(rowAxis: String, columnAxis: String, rows: [Band], columns: [Band], cells: [[Cell]]) {
            self.rowAxis = rowAxis
            self.columnAxis = columnAxis
            self.rows = rows
            self.columns = columns
            self.cells = cells
        }

        /// A row or column: one value, or a range of value indices.
        public struct Band: Sendable, Hashable {
            public var label: String
            /// Value indices covered, inclusive.
            public var first: Int64
            public var last: Int64

            public init(label: String, first: Int64, last: Int64) {
                self.label = label
                self.first = first
                self.last = last
            }
        }

        /// Records of one cell.
        public struct Cell: Sendable, Hashable {
            public var generated: Int64
            public var kept: Int64

            public init(generated: Int64 = 0, kept: Int64 = 0) {
                self.generated = generated
                self.kept = kept
            }
        }
    }

    /// A histogram of kept records' lengths in characters, in equal-width bins.
    public struct LengthHistogram: Sendable, Hashable {
        /// The lower edge of the first bin and the width of every bin.
        public var lowerBound: Int64
        public var binWidth: Int64
        public var counts: [Int64]

        public init(lowerBound: Int64 = 0, binWidth: Int64 = 1, counts: [Int64] = []) {
            self.lowerBound = lowerBound
            self.binWidth = binWidth
            self.counts = counts
        }
    }

    /// One record to show.
    public struct SampleRecord: Sendable, Hashable {
        public var position: Int64
        public var sample: Int64
        public var status: String
        public var reason: String?
        /// (axis, value text) in axis order, values cut to a readable length.
        public var condition: [(axis: String, value: String)]
        /// The text, cut to a readable length.
        public var text: String

        public init(position: Int64, sample: Int64, status: String, reason: String?, condition: [(axis: String, value: String)], text: String) {
            self.position = position
            self.sample = sample
            self.status = status
            self.reason = reason
            self.condition = condition
            self.text = text
        }

        public static func == (lhs: Self, rhs: Self) -> Bool {
            lhs.position == rhs.position && lhs.sample == rhs.sample && lhs.status == rhs.status && lhs.reason == rhs.reason
                && lhs.text == rhs.text && lhs.condition.map(\.axis) == rhs.condition.map(\.axis)
                && lhs.condition.map(\.value) == rhs.condition.map(\.value)
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(position)
            hasher.combine(sample)
            hasher.combine(text)
        }
    }
}

extension RunSummary {
    /// A summary from its fields (the store builds these from `runs`; tests and
    /// renderers build them by hand).
    public init(
        id: String, name: String, state: RunState, configHash: String = "", model: String? = nil, sampleCount: Int64,
        shardSize: Int64 = 1, shardCount: Int64 = 0, nextShard: Int64 = 0, shardsDone: Int64 = 0, shardsDead: Int64 = 0,
        kept: Int64 = 0, filtered: Int64 = 0, failed: Int64 = 0, duplicate: Int64 = 0, promptTokens: Int64 = 0,
        completionTokens: Int64 = 0, createdAt: String = "", startedAt: String? = nil, finishedAt: String? = nil,
        elapsedSeconds: Double? = nil
    ) {
        self.init(
            id: id, name: name, state: state, configHash: configHash, model: model, sampleCount: sampleCount, shardSize: shardSize,
            shardCount: shardCount, nextShard: nextShard, shardsDone: shardsDone, shardsDead: shardsDead,
            generated: kept + filtered + failed + duplicate, kept: kept, filtered: filtered, failed: failed, duplicate: duplicate,
            promptTokens: promptTokens, completionTokens: completionTokens, createdAt: createdAt, startedAt: startedAt,
            finishedAt: finishedAt, elapsedSeconds: elapsedSeconds
        )
    }
}
