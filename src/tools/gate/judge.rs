//! The tests themselves: a family of questions about one or more runs (and a baseline's runs),
//! each answered with an estimate, an interval and a pass, a failure or an honest "cannot
//! tell", the family's false-alarm rate held by Holm's method. See the [`gate`](super) module
//! docs for the method in words.

use crate::metric::{Bound, Metric, Unit};
use crate::report::least_resolved_change;

use super::distribution::{Df, upper_quantile, upper_tail};
use super::estimate::{Estimate, Run};
use super::{GateOptions, Judgement, Noise, Outcome, Reason, holm};

/// Which way a relative question looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Worse than the baseline (slower, larger, lower throughput): what a gate fails on.
    Worse,
    /// Better than the baseline: what `compare` calls faster.
    Better,
}

/// One question of a family.
#[derive(Debug, Clone)]
pub(crate) enum Question {
    /// Is the metric on the wrong side of `limit`?
    Absolute { metric: Metric, limit: f64 },
    /// Did the metric move in `direction` by more than `pct` % of the baseline's value (and
    /// more than the runs can resolve)?
    Relative {
        metric: Metric,
        pct: f64,
        direction: Direction,
    },
}

impl Question {
    fn metric(&self) -> &Metric {
        match self {
            Question::Absolute { metric, .. } | Question::Relative { metric, .. } => metric,
        }
    }
}

/// The estimates of one metric over the runs of one side.
struct Side {
    runs: Vec<Estimate>,
}

impl Side {
    fn gather(
        runs: &[&Run<'_>],
        metric: &Metric,
        options: &GateOptions,
    ) -> std::result::Result<Side, String> {
        let runs = runs
            .iter()
            .map(|run| run.estimate(metric, options.resamples, options.seed))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(Side { runs })
    }

    fn count(&self) -> f64 {
        self.runs.len() as f64
    }

    /// The runs' mean: every run counts once, however many values it holds (runs, not
    /// values, are what repeat the experiment).
    fn mean(&self) -> f64 {
        self.runs.iter().map(|e| e.value).sum::<f64>() / self.count()
    }

    /// The sampling variance of `mean` from the runs' own noise.
    fn within_variance(&self) -> f64 {
        self.runs.iter().map(|e| e.se * e.se).sum::<f64>() / (self.count() * self.count())
    }

    fn sum_of_squares(&self) -> f64 {
        let mean = self.mean();
        self.runs.iter().map(|e| (e.value - mean).powi(2)).sum()
    }

    fn quantum(&self) -> f64 {
        self.runs.iter().map(|e| e.quantum).fold(0.0, f64::max)
    }

    /// The coarsest resolution among the runs.
    fn resolution(&self) -> f64 {
        self.runs.iter().map(|e| e.resolution).fold(0.0, f64::max)
    }

    fn subtracted(&self) -> f64 {
        self.runs.iter().map(|e| e.subtracted).sum::<f64>() / self.count()
    }

    fn fewest_samples(&self) -> Option<u64> {
        self.runs.iter().filter_map(|e| e.samples).min()
    }
}

/// A question with its statistic, before the family's levels are known.
struct Tested {
    /// Estimate of the new side (the value, for absolute questions).
    value: f64,
    base: Option<f64>,
    /// The interval's centre: the change (relative) or the value (absolute).
    centre: f64,
    /// How far past the threshold in the bad direction the estimate is (> 0: beyond).
    excess: f64,
    threshold: f64,
    floor: Option<f64>,
    /// The reports' resolution, when it (not the clock's step) set `floor`.
    resolution: Option<f64>,
    /// Whether the resolution floor, not the percentage, set `threshold`, and the change is
    /// beyond the percentage: a pass that says "below resolution".
    floor_decides: bool,
    se: f64,
    se_within: f64,
    df: Df,
    noise: Noise,
    runs: (usize, usize),
    samples: Option<u64>,
    /// Raw p-values: with the whole noise, and with the sampling noise alone.
    p: f64,
    p_within: f64,
}

enum Asked {
    Missing(String, (usize, usize)),
    TooFew {
        samples: u64,
        needed: u64,
        runs: (usize, usize),
        value: f64,
        base: Option<f64>,
    },
    Tested(Box<Tested>),
}

/// Answers every question about `new` (and `base`, for the relative ones) as one family.
pub(crate) fn judge(
    questions: &[Question],
    new: &[&Run<'_>],
    base: &[&Run<'_>],
    options: &GateOptions,
) -> Vec<Judgement> {
    let prepared: Vec<Asked> = questions
        .iter()
        .map(|q| prepare(q, new, base, options))
        .collect();
    // The family: every question with a random answer. Exact comparisons (single values
    // against an absolute limit) and questions that could not be asked are not tests.
    let tested: Vec<usize> = prepared
        .iter()
        .enumerate()
        .filter(|(_, p)| matches!(p, Asked::Tested(t) if t.se > 0.0))
        .map(|(i, _)| i)
        .collect();
    let k = tested.len().max(1);
    let p_of = |f: fn(&Tested) -> f64| -> Vec<f64> {
        tested
            .iter()
            .map(|&i| match &prepared[i] {
                Asked::Tested(t) => f(t),
                _ => 1.0,
            })
            .collect()
    };
    let adjusted = holm::adjust(&p_of(|t| t.p));
    let adjusted_within = holm::adjust(&p_of(|t| t.p_within));
    let alpha = options.alpha();
    prepared
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let slot = tested.iter().position(|&j| j == i);
            let adjusted = slot.map(|s| (adjusted[s], adjusted_within[s]));
            conclude(p, adjusted, k, alpha)
        })
        .collect()
}

fn prepare(
    question: &Question,
    new: &[&Run<'_>],
    base: &[&Run<'_>],
    options: &GateOptions,
) -> Asked {
    let metric = question.metric();
    let runs = (base.len(), new.len());
    let new_side = match Side::gather(new, metric, options) {
        Ok(side) if !side.runs.is_empty() => side,
        Ok(_) => return Asked::Missing("no report".to_owned(), runs),
        Err(why) => return Asked::Missing(why, runs),
    };
    let base_side = match question {
        Question::Absolute { .. } => None,
        Question::Relative { .. } => match Side::gather(base, metric, options) {
            Ok(side) if !side.runs.is_empty() => Some(side),
            Ok(_) => return Asked::Missing("no baseline report".to_owned(), runs),
            Err(why) => return Asked::Missing(format!("not in the baseline: {why}"), runs),
        },
    };
    let needed = metric.min_samples();
    let fewest = new_side
        .fewest_samples()
        .into_iter()
        .chain(base_side.as_ref().and_then(Side::fewest_samples))
        .min();
    if let (Some(samples), Some(needed)) = (fewest, needed)
        && samples < needed
    {
        return Asked::TooFew {
            samples,
            needed,
            runs,
            value: new_side.mean(),
            base: base_side.as_ref().map(Side::mean),
        };
    }
    let worse_is_up = metric.bound() == Bound::AtMost;
    Asked::Tested(Box::new(match (question, base_side) {
        (Question::Absolute { limit, .. }, _) => {
            let value = new_side.mean();
            let sign = if worse_is_up { 1.0 } else { -1.0 };
            let excess = snap(sign * (value - limit), value.abs() + limit.abs());
            let se = new_side.within_variance().sqrt();
            let p = tail(excess, se, None);
            Tested {
                value,
                base: None,
                centre: value,
                excess,
                threshold: *limit,
                floor: None,
                resolution: None,
                floor_decides: false,
                se,
                se_within: se,
                df: None,
                noise: Noise::WithinRuns,
                runs,
                samples: fewest,
                p,
                p_within: p,
            }
        }
        (Question::Relative { pct, direction, .. }, Some(base_side)) => relative(
            metric, *pct, *direction, &new_side, &base_side, options, runs, fewest,
        ),
        (Question::Relative { .. }, None) => {
            return Asked::Missing("no baseline report".to_owned(), runs);
        }
    }))
}

#[allow(clippy::too_many_arguments)]
fn relative(
    metric: &Metric,
    pct: f64,
    direction: Direction,
    new: &Side,
    base: &Side,
    options: &GateOptions,
    runs: (usize, usize),
    samples: Option<u64>,
) -> Tested {
    let (value, base_value) = (new.mean(), base.mean());
    let change = value - base_value;
    let worse_is_up = metric.bound() == Bound::AtMost;
    let sign = match (worse_is_up, direction) {
        (true, Direction::Worse) | (false, Direction::Better) => 1.0,
        _ => -1.0,
    };
    let moved = sign * change;
    let by_pct = pct / 100.0 * base_value.abs();
    // What the runs can resolve, for a latency: one step of their clock plus whatever shifts
    // one run's values against the other's (a different amount subtracted for the
    // instrumentation); and a change that leaves both figures below the reports' resolution
    // (the coarsest of them) is none, by the rule the summary and the graphs mark figures with
    // (`<0.040`): two figures they print alike are never called apart, and a change called one
    // ends at (or starts from) a figure they state.
    let (steps, by_resolution, resolution) = if matches!(metric.unit(), Unit::Micros) {
        let resolution = base.resolution().max(new.resolution());
        (
            base.quantum().max(new.quantum()) + (new.subtracted() - base.subtracted()).abs(),
            least_resolved_change(base_value, resolution, sign > 0.0),
            resolution,
        )
    } else {
        (0.0, 0.0, 0.0)
    };
    let floor = steps.max(by_resolution);
    let threshold = by_pct.max(floor);
    let (m, n) = (base.count(), new.count());
    let within = base.within_variance() + new.within_variance();
    let (variance, df, noise) = if metric.is_exact() {
        (0.0, None, Noise::WithinRuns)
    } else {
        // Each side's run-to-run variance: measured from its own runs when it has several
        // (their spread, never below what their sampling noise already explains), assumed when
        // it has one. One run cannot show its own spread, and borrowing the other side's is not
        // safe: a candidate run on a busier machine than the baseline's runs (or one run of a
        // rare slow process) lands further out than they did.
        let q = base.quantum().max(new.quantum());
        let assumed =
            (options.run_noise_pct / 100.0 * base_value.abs()).powi(2) + (q / 2.0).powi(2);
        let side_var = |side: &Side| -> (f64, Option<f64>) {
            let k = side.count();
            let sampling = side.runs.iter().map(|e| e.se * e.se).sum::<f64>() / k;
            if k >= 2.0 {
                (
                    (side.sum_of_squares() / (k - 1.0)).max(sampling) / k,
                    Some(k - 1.0),
                )
            } else {
                ((assumed + sampling) / k, None)
            }
        };
        let ((va, dfa), (vb, dfb)) = (side_var(base), side_var(new));
        let total = va + vb;
        // Welch–Satterthwaite: the degrees of freedom of the measured parts (an assumed part is
        // known exactly: infinite degrees of freedom, no term).
        let term = |v: f64, df: Option<f64>| df.map_or(0.0, |d| v * v / d);
        let measured = dfa.is_some() || dfb.is_some();
        let df = measured
            .then(|| total * total / (term(va, dfa) + term(vb, dfb)).max(f64::MIN_POSITIVE));
        // One run's standard deviation, for the output and the runs-needed estimate.
        let sd = (total / (1.0 / m + 1.0 / n)).sqrt();
        let noise = match df {
            Some(df) => Noise::Measured {
                sd,
                df,
                assumed_for_one_run: dfa.is_none() || dfb.is_none(),
            },
            None => Noise::Assumed { sd: assumed.sqrt() },
        };
        (total, df, noise)
    };
    let excess = snap(moved - threshold, value.abs() + base_value.abs());
    let within = if metric.is_exact() { 0.0 } else { within };
    let (se, se_within) = (variance.sqrt(), within.sqrt());
    Tested {
        value,
        base: Some(base_value),
        centre: change,
        excess,
        threshold,
        floor: (floor > by_pct).then_some(floor),
        resolution: (floor > by_pct && by_resolution >= steps).then_some(resolution),
        floor_decides: floor > by_pct && moved > by_pct,
        se,
        se_within,
        df,
        noise,
        runs,
        samples,
        p: tail(excess, se, df),
        p_within: tail(excess, se_within, None),
    }
}

/// `excess`, or 0 when it is rounding error of the sums that made it (a change of exactly one
/// clock step is at the floor, not 1e-18 µs past it).
fn snap(excess: f64, scale: f64) -> f64 {
    if excess.abs() <= 1e-9 * scale {
        0.0
    } else {
        excess
    }
}

/// P(an estimate this far past the threshold | the truth is at the threshold).
fn tail(excess: f64, se: f64, df: Df) -> f64 {
    if se > 0.0 {
        upper_tail(excess / se, df)
    } else if excess > 0.0 {
        0.0
    } else {
        1.0
    }
}

fn conclude(prepared: Asked, adjusted: Option<(f64, f64)>, k: usize, alpha: f64) -> Judgement {
    let t = match prepared {
        Asked::Missing(why, runs) => return Judgement::missing(why, runs),
        Asked::TooFew {
            samples,
            needed,
            runs,
            value,
            base,
        } => {
            return Judgement {
                outcome: Outcome::Inconclusive,
                reason: Reason::TooFewSamples { samples, needed },
                value: Some(value),
                base,
                runs,
                samples: Some(samples),
                ..Judgement::missing(String::new(), runs)
            };
        }
        Asked::Tested(t) => t,
    };
    let (outcome, reason, p_value, interval) = match adjusted {
        // An exact comparison (no noise in either figure).
        None => {
            let failed = t.excess > 0.0;
            let reason = if failed {
                Reason::Beyond
            } else if t.floor_decides {
                Reason::BelowResolution
            } else {
                Reason::Within
            };
            (
                if failed { Outcome::Fail } else { Outcome::Pass },
                reason,
                None,
                None,
            )
        }
        Some((p, p_within)) => {
            let q = upper_quantile(alpha / k as f64, t.df);
            let interval = Some((t.centre - q * t.se, t.centre + q * t.se));
            let (outcome, reason) = if p <= alpha {
                (Outcome::Fail, Reason::Beyond)
            } else if t.excess <= 0.0 {
                let reason = if t.floor_decides {
                    Reason::BelowResolution
                } else {
                    Reason::Within
                };
                (Outcome::Pass, reason)
            } else if p_within <= alpha && t.se > t.se_within {
                let runs_needed = match t.noise {
                    Noise::Measured {
                        sd,
                        assumed_for_one_run: false,
                        ..
                    } => runs_needed(&t, sd, alpha / k as f64),
                    _ => None,
                };
                (Outcome::Inconclusive, Reason::RunToRunNoise { runs_needed })
            } else {
                (Outcome::Inconclusive, Reason::SamplingNoise)
            };
            (outcome, reason, Some(p), interval)
        }
    };
    Judgement {
        outcome,
        reason,
        value: Some(t.value),
        base: t.base,
        interval,
        threshold: Some(t.threshold),
        floor: t.floor,
        resolution: t.resolution,
        p_value,
        noise: t.noise,
        runs: t.runs,
        samples: t.samples,
    }
}

/// The fewest runs per side (at most 100) with which a change as large as this one would
/// clear the threshold at the family's level, if the runs' spread stays what it is.
fn runs_needed(t: &Tested, sd: f64, level: f64) -> Option<usize> {
    let moved = t.excess + t.threshold;
    (2..=100).find(|&n| {
        let n = n as f64;
        t.threshold + upper_quantile(level, Some(2.0 * n - 2.0)) * sd * (2.0 / n).sqrt() < moved
    })
}
