//! What a gate concludes: one [`Check`] per limit and metric, gathered in a [`Verdict`]. A
//! missed limit is a failed check, never an error.

use crate::metric::{Bound, Unit};

/// Where a check's limit comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CheckKind {
    /// A fixed limit from the thresholds.
    Absolute,
    /// A limit derived from a baseline report's value of the same metric.
    Baseline {
        /// The baseline's value.
        baseline: f64,
        /// The regression allowed, in %.
        max_regression_pct: f64,
        /// The resolution floor, in the check's unit, when it and not `max_regression_pct` set
        /// the limit (`limit = baseline + floor`): a latency cannot regress by less than the
        /// reports can resolve, the larger of their
        /// [`Report::latency_resolution_ns`](crate::Report::latency_resolution_ns). `None` when
        /// the percentage set the limit or the metric has no floor (throughput, counts, memory,
        /// CPU %). Outputs show it, so a limit of +71 % under a 10 % rule is not a surprise.
        resolution_floor: Option<f64>,
    },
}

/// One limit applied to one metric of one report.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Check {
    /// The metric's name (`ticks.p99_us`, `components.strategy.mean_us`, …).
    pub metric: String,
    /// Its value in the report, in `unit`; `None` when the report lacks it (see `note`).
    pub value: Option<f64>,
    /// The limit, in `unit`.
    pub limit: f64,
    /// Which side of the limit passes.
    pub bound: Bound,
    /// The unit of `value` and `limit`.
    pub unit: Unit,
    /// Absolute or relative to a baseline.
    pub kind: CheckKind,
    /// Whether the value is present and on the right side of the limit.
    pub passed: bool,
    /// Why the value is missing, when it is.
    pub note: Option<String>,
}

impl Check {
    /// A name unique within a verdict: the metric, with ` vs baseline` for relative checks.
    pub fn name(&self) -> String {
        match self.kind {
            CheckKind::Absolute => self.metric.clone(),
            CheckKind::Baseline { .. } => format!("{} vs baseline", self.metric),
        }
    }
}

/// The outcome of every check of a [`Thresholds`](super::Thresholds) against one report.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Verdict {
    /// Every check, in the order of the thresholds file's sections.
    pub checks: Vec<Check>,
}

impl Verdict {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }

    /// The checks that failed.
    pub fn violations(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.passed)
    }
}
