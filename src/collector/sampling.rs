//! `Sampling`: which ticks tickprof times, and which it records with their components.
//!
//! A span that exists costs the `Registry` ~110–170 ns whether or not anything records it, so
//! a profiler that creates every span of every tick describes tracing, not the engine. tickprof
//! therefore decides per tick what to pay for:
//! - every tick is **counted** (exactly, at the tick callsite's filter decision, ~10–15 ns);
//! - a random subset of ticks is **timed** (the tick span exists, its children do not);
//! - short bursts of consecutive ticks are **recorded** (the tick and every span inside it).
//!
//! Recording is switched on and off in bursts ("windows") rather than per tick because a child
//! callsite can only be made free by its cached interest, and that cache is process-wide
//! (`tracing_core::callsite::rebuild_interest_cache`): evaluating every child callsite of every
//! tick costs ~10 ns per callsite, 20–30 % of a 380 ns tick, while a closed window costs nothing.

use crate::report::SamplingKind;

/// What to time and record while profiling; see [`MetricsCollectorBuilder::sampling`].
///
/// [`MetricsCollectorBuilder::sampling`]: crate::MetricsCollectorBuilder::sampling
///
/// ```
/// use tickprof::{MetricsCollector, Sampling};
///
/// // Every span of every tick (exact component counts; the loop runs at registry speed).
/// let exact = MetricsCollector::builder().sampling(Sampling::full()).build()?;
/// // Spend at most ~2 % of the loop's time on sampled detail (the default).
/// let cheap = MetricsCollector::builder().sampling(Sampling::budget(0.02)).build()?;
/// // Time one tick in 100 and record one tick in 100 with its components.
/// let fixed = MetricsCollector::builder().sampling(Sampling::one_in(100)).build()?;
/// # Ok::<(), tickprof::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sampling {
    pub(crate) mode: SamplingMode,
}

/// The three ways of sampling; [`Sampling`]'s constructors build them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum SamplingMode {
    /// Every tick timed and recorded with all its spans.
    Full,
    /// Timed and recorded ticks chosen so that profiling costs about this fraction of the loop.
    Budget(f64),
    /// One tick in `n` timed, one tick in `n` recorded (in bursts), at random.
    OneIn(u64),
}

/// The default budget. Counting every tick exactly costs a fixed ~140 instructions per tick
/// on top (mostly tracing's own dispatch of the tick span and the interest checks of its
/// component callsites): 7 % of the overhead bench's 380 ns tick. With 2 % on top that tick
/// stays within 1.10× of the bare loop in instructions (`benches/overhead.rs`, callgrind), a
/// realistic 4 µs tick within 1.03×, and a run of 1M such ticks still records thousands of
/// ticks with their components and times about 2 % of them.
pub(crate) const DEFAULT_BUDGET: f64 = 0.02;

impl Sampling {
    /// Every span of every tick, as a trace would: exact per-component counts, and the loop runs
    /// at the speed of the `Registry` creating every span (~1 µs more per tick of 8 components).
    pub fn full() -> Self {
        Sampling {
            mode: SamplingMode::Full,
        }
    }

    /// Times and records as many ticks as fit in `fraction` of the loop's time (0 < fraction
    /// ≤ 0.5, checked by `build`). The cost of each timed tick and recorded span is measured at
    /// `start_profiling`; the exact tick count is paid on top (one callsite check per tick).
    pub fn budget(fraction: f64) -> Self {
        Sampling {
            mode: SamplingMode::Budget(fraction),
        }
    }

    /// Times one tick in `n` and records one tick in `n` with its components, chosen at random
    /// (so a periodic workload cannot lock onto the phase); `n ≥ 1`, checked by `build`.
    /// A recorded tick is not also counted as timed. `one_in(1)` records nearly every tick, in
    /// windows, and times the ones between two windows; [`Sampling::full`] records every one.
    pub fn one_in(n: u64) -> Self {
        Sampling {
            mode: SamplingMode::OneIn(n),
        }
    }

    /// Whether every tick is recorded with all its spans.
    pub fn is_full(&self) -> bool {
        matches!(self.mode, SamplingMode::Full)
    }

    /// Checks the parameters; the message names the value at fault.
    pub(crate) fn validate(&self) -> Result<(), String> {
        match self.mode {
            SamplingMode::Full => Ok(()),
            SamplingMode::Budget(f) if f.is_finite() && f > 0.0 && f <= 0.5 => Ok(()),
            SamplingMode::Budget(f) => Err(format!(
                "sampling budget must be a fraction in (0, 0.5], got {f}"
            )),
            SamplingMode::OneIn(0) => Err("sampling one_in(n) needs n >= 1, got 0".to_owned()),
            SamplingMode::OneIn(_) => Ok(()),
        }
    }

    /// What reports call this mode (`sampling.mode`).
    pub(crate) fn name(&self) -> SamplingKind {
        match self.mode {
            SamplingMode::Full => SamplingKind::Full,
            SamplingMode::Budget(_) => SamplingKind::Budget,
            SamplingMode::OneIn(_) => SamplingKind::OneIn,
        }
    }
}

impl Default for Sampling {
    /// [`Sampling::budget`] of 2 %.
    fn default() -> Self {
        Sampling::budget(DEFAULT_BUDGET)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_value() {
        assert!(Sampling::full().validate().is_ok());
        assert!(Sampling::default().validate().is_ok());
        assert!(Sampling::one_in(1).validate().is_ok());
        for bad in [0.0, -0.1, 0.6, f64::NAN, f64::INFINITY] {
            let e = Sampling::budget(bad).validate().unwrap_err();
            assert!(e.contains(&bad.to_string()), "{e}");
        }
        assert!(
            Sampling::one_in(0)
                .validate()
                .unwrap_err()
                .contains("got 0")
        );
    }
}
