//! What a gate concludes: one [`Check`] per limit and metric, gathered in a [`Verdict`]. A
//! missed limit is a failed check, never an error; a check the runs cannot decide is
//! inconclusive, neither a failure nor a pass.

use crate::gate::{Judgement, Outcome, Reason};
use crate::metric::{Bound, Unit};

/// Where a check's limit comes from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CheckKind {
    /// A fixed limit from the thresholds.
    Absolute {
        /// The limit, in the check's unit.
        limit: f64,
    },
    /// A change relative to the baseline's runs of the same metric.
    Baseline {
        /// The regression allowed, in % of the baseline's value (the effective threshold,
        /// with the resolution floor, is the judgement's `threshold`).
        max_regression_pct: f64,
    },
}

/// One limit applied to one metric of one build's runs.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Check {
    /// The metric's name (`ticks.p99_us`, `components.strategy.trimmed_mean_us`, …).
    pub metric: String,
    /// Which side of the limit passes (for a baseline check: which direction is worse).
    pub bound: Bound,
    /// The unit of values, limits and changes.
    pub unit: Unit,
    /// Absolute or relative to a baseline.
    pub kind: CheckKind,
    /// The test: estimate, interval, effective threshold, outcome and why.
    pub judgement: Judgement,
}

impl Check {
    /// A name unique within a verdict: the metric, with ` vs baseline` for relative checks.
    pub fn name(&self) -> String {
        match self.kind {
            CheckKind::Absolute { .. } => self.metric.clone(),
            CheckKind::Baseline { .. } => format!("{} vs baseline", self.metric),
        }
    }

    /// Pass, fail or inconclusive.
    pub fn outcome(&self) -> Outcome {
        self.judgement.outcome
    }

    /// Whether the check passed (not failed, not inconclusive).
    pub fn passed(&self) -> bool {
        self.outcome() == Outcome::Pass
    }

    /// The estimate (the mean of the runs' values); `None` when a report lacks the metric.
    pub fn value(&self) -> Option<f64> {
        self.judgement.value
    }

    /// Why the value is missing, when it is.
    pub fn note(&self) -> Option<&str> {
        match &self.judgement.reason {
            Reason::Missing(why) => Some(why),
            _ => None,
        }
    }
}

/// The outcome of every check of a [`Thresholds`](super::Thresholds) against one build's runs.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Verdict {
    /// Every check, in the order of the thresholds file's sections.
    pub checks: Vec<Check>,
    /// Runs judged, and runs of the baseline (0 without one).
    pub runs: (usize, usize),
    /// Checks with a random answer: the family Holm's method holds at the false-alarm rate.
    pub tested: usize,
    /// The family-wise false-alarm rate, in %.
    pub false_alarm_pct: f64,
}

impl Verdict {
    /// Whether no check failed (inconclusive checks are not failures).
    pub fn passed(&self) -> bool {
        !self.checks.iter().any(|c| c.outcome() == Outcome::Fail)
    }

    /// Fail if any check failed, else inconclusive if the runs saw a change they could not
    /// decide (a check with too few samples was not judged, and does not count), else pass.
    pub fn outcome(&self) -> Outcome {
        if !self.passed() {
            Outcome::Fail
        } else if self.checks.iter().any(|c| c.judgement.undecided()) {
            Outcome::Inconclusive
        } else {
            Outcome::Pass
        }
    }

    /// The checks that failed.
    pub fn violations(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.outcome() == Outcome::Fail)
    }

    /// The checks the runs could not decide.
    pub fn inconclusive(&self) -> impl Iterator<Item = &Check> {
        self.checks
            .iter()
            .filter(|c| c.outcome() == Outcome::Inconclusive)
    }
}
