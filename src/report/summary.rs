//! The printed summary (`print_summary`, `tickprof summary`): the original design's block,
//! plus what the figures are of (sampling, warm-up, outliers, the time inside ticks) and what
//! profiling cost.
//!
//! Every line earns its place: a note that would repeat (the scheduler's counts for ticks in
//! one sample window, "likely descheduled" for several distributions) is said once, with what
//! it applies to; a figure below the report's resolution is marked (`<0.080`), not printed as
//! a precise-looking number. Figures that other outputs show too come from the estimators in
//! `figures`, so the summary, the graphs and the driver's verdicts agree.

use std::fmt;

use super::figures::Resolved;
use super::slow_ticks::duration;
use super::{
    AllocationStats, ComponentStats, FarOutliers, LatencyStats, MachineAround, OutlierCause,
    Report, Resources, SamplingKind, SchedulerAround, SlowTick,
};
use crate::scaling::MIN_LOOP_AFTER_WARMUP_S;
use crate::tick_profiler::window::{COLD_ALLOWANCE_NS, COLD_TICKS};

/// Far outliers of a distribution, for a note; a histogram that does not decode gets none
/// (the summary prints what it can; `Report::load` has validated what it loaded).
fn outliers(stats: &LatencyStats, field: &str) -> Option<FarOutliers> {
    stats.far_outliers(field).ok().flatten()
}

pub(crate) fn micros(ns: f64) -> f64 {
    ns / 1_000.0
}

/// `1234567` → `1,234,567`: how the summary, the CLI and the driver print counts.
pub(crate) fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
impl Report {
    /// The warm-up ticks, reported apart from the latency above.
    fn fmt_warmup(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(w) = &self.ticks.warmup else {
            return Ok(());
        };
        write!(
            f,
            "  Warm-up: each thread's first {} ticks ({} here) are not in the figures above",
            thousands(w.ticks_per_thread),
            thousands(w.count)
        )?;
        match &w.latency {
            Some(l) => writeln!(
                f,
                "; their mean {:.2} µs, max {:.2} µs",
                micros(l.mean_ns),
                micros(l.max_ns as f64)
            ),
            None => writeln!(f),
        }
    }

    /// The slowest ticks, each with the component that took most of it
    /// (`tick #904,211 (main, +9.042 s): 4.16 ms — parse 4.07 ms (98 %)`), then what the
    /// scheduler counted around them, once per sample window.
    fn fmt_slowest_ticks(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(slow) = &self.slowest_ticks else {
            return Ok(());
        };
        if slow.ticks.is_empty() && slow.recorded.is_empty() {
            return Ok(());
        }
        writeln!(f)?;
        let warmup = match slow.warmup_ticks_per_thread {
            0 => String::new(),
            n => format!(", each thread's first {} left out", thousands(n)),
        };
        let cold = if self.sampling.as_ref().is_some_and(|s| s.windows > 0) {
            format!(
                "; each window's first {} recorded ticks per thread left out under {} µs \
                 (cold after its switch)",
                COLD_TICKS,
                COLD_ALLOWANCE_NS / 1_000
            )
        } else {
            String::new()
        };
        writeln!(f, "Slowest ticks (net busy time{warmup}{cold}):")?;
        let all: Vec<&SlowTick> = slow.all().collect();
        for tick in &slow.ticks {
            writeln!(f, "  {}", slow_tick_line(tick, &place(tick, &all)))?;
        }
        if slow.ticks.is_empty() {
            writeln!(f, "  no timed tick after the warm-up")?;
        }
        if !slow.recorded.is_empty() {
            writeln!(
                f,
                "  Slowest recorded ticks (with their timelines; they read a little slower than \
                 timed ones: every span's calibrated cost is taken out of them):"
            )?;
            for tick in &slow.recorded {
                writeln!(f, "  {}", slow_tick_line(tick, &place(tick, &all)))?;
            }
        }
        self.fmt_no_recorded_tick_listed(f)?;
        fmt_machine_windows(f, &all)?;
        fmt_scheduler_windows(f, &all)
    }

    /// Why no listed tick has a timeline when the run recorded some.
    fn fmt_no_recorded_tick_listed(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.no_recorded_tick_listed() {
            Some(why) => writeln!(f, "  {why}"),
            None => Ok(()),
        }
    }

    /// What a reader of the tick figures should know: a mean above the p99, far outliers
    /// among the timed ticks and among the listed ones ([`Report::tick_outliers`]).
    fn fmt_tick_shape(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.ticks.latency;
        if t.samples > 0 && t.mean_ns > t.p99_ns as f64 {
            writeln!(
                f,
                "  note: the mean is above the p99: a few very slow ticks outweigh all the others"
            )?;
        }
        let Some(o) = self.tick_outliers() else {
            return Ok(());
        };
        if let Some(timed) = &o.timed {
            writeln!(f, "  note: {}", timed.describe())?;
        }
        // Listed ticks the timed figures do not hold (recorded ticks, with sampling), or that
        // the scheduler's counts say something about.
        let threshold = format!(
            "100 × {} ({:.2} µs)",
            o.reference,
            micros(o.reference_ns as f64)
        );
        let names = |cause: OutlierCause| {
            o.listed
                .iter()
                .filter(|t| t.cause == cause)
                .map(|t| format!("{} {}", t.name, duration(t.latency_ns)))
                .collect::<Vec<_>>()
        };
        let parts: Vec<String> = [
            (
                OutlierCause::TheCode,
                "too little run-queue wait in the sample windows holding them for descheduling, \
                 so the code's own time (its work or its blocking)",
            ),
            (
                OutlierCause::MaybeDescheduled,
                "enough run-queue wait in the sample windows holding them to have been \
                 descheduled",
            ),
            (OutlierCause::Unknown, "no scheduler counts to tell"),
        ]
        .into_iter()
        .filter_map(|(cause, said)| {
            let ticks = names(cause);
            (!ticks.is_empty()).then(|| format!("{}: {said}", ticks.join(", ")))
        })
        .collect();
        if !parts.is_empty() {
            writeln!(
                f,
                "  note: listed ticks above {threshold}: {}",
                parts.join("; ")
            )?;
        }
        Ok(())
    }

    /// How much of the run was inside ticks, and the spans that ran outside every tick.
    fn fmt_inside_ticks(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(inside) = &self.inside_ticks {
            // Summed over the threads that tick: above 100 % when they tick at once. One thread
            // above 100 % is the estimate's error (the timed ticks' mean × the ticks counted):
            // its ticks are all of the run.
            let wall = if inside.wall_fraction > 1.0 {
                format!(
                    "{:.1}% of the run's wall time ({} in {}: summed over the threads that tick, \
                     above 100 % when they tick at once; on one thread, the estimate's error: the \
                     ticks are all of the run)",
                    100.0 * inside.wall_fraction,
                    seconds(inside.busy_s),
                    seconds(self.total_time_s)
                )
            } else {
                format!(
                    "{:.1}% of the run's wall time ({} of {})",
                    100.0 * inside.wall_fraction,
                    seconds(inside.busy_s),
                    seconds(self.total_time_s)
                )
            };
            let cpu = match inside.cpu_fraction {
                Some(cpu) if cpu > 1.0 => {
                    format!(", {cpu:.2}× its CPU time (the ticks also waited off the CPU)")
                }
                Some(cpu) => format!(", {:.1}% of its CPU time", 100.0 * cpu),
                None => String::new(),
            };
            let rest = if inside.wall_fraction < 1.0 {
                format!(
                    "; the other {} ran between ticks",
                    seconds(self.total_time_s - inside.busy_s)
                )
            } else {
                String::new()
            };
            writeln!(f, "Inside ticks: {wall}{cpu}{rest}")?;
            fmt_threads_inside_ticks(f, &inside.threads)?;
            // What the report says profiling cost (its own estimate per tick, and the
            // histograms it made, measured): part of the time between ticks and of the
            // instrumentation taken out of the ticks' figures.
            if let Some(s) = &self.sampling {
                let cost_s = s.cost_ns(self.ticks.count) / 1e9;
                let setup = if s.histograms_made > 0 {
                    format!(
                        "; {} of it once, making {} histogram{} at first use (a later run on \
                         a thread reuses them)",
                        duration(s.setup_ns),
                        s.histograms_made,
                        if s.histograms_made == 1 { "" } else { "s" }
                    )
                } else {
                    String::new()
                };
                if cost_s > 0.0 && self.total_time_s > 0.0 {
                    writeln!(
                        f,
                        "  the profiler's own cost, by its estimate: ~{} ({:.1}% of the run), \
                         in no tick's figures{setup}",
                        seconds(cost_s),
                        100.0 * cost_s / self.total_time_s
                    )?;
                }
            }
        }
        if self.outside_ticks.is_empty() {
            return Ok(());
        }
        let full = self
            .sampling
            .as_ref()
            .is_none_or(|s| s.mode == SamplingKind::Full);
        writeln!(
            f,
            "Outside ticks (spans under no tick, net busy time per span{}):",
            if full {
                ""
            } else {
                "; times of the recorded ones, a sample"
            }
        )?;
        writeln!(
            f,
            "  {:<20} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
            "name", "seen", "recorded", "mean µs", "p50 µs", "p99 µs", "max µs"
        )?;
        let mut marked = false;
        for (name, c) in &self.outside_ticks {
            let l = &c.latency;
            let [mean, p50, p99, max] = if c.count > 0 {
                self.table_micros(l, &mut marked)
            } else {
                ["-", "-", "-", "-"].map(str::to_owned)
            };
            // Older reports did not count the spans not recorded.
            let seen = c.seen.map_or_else(|| "?".to_owned(), thousands);
            writeln!(
                f,
                "  {:<20} {seen:>10} {:>10} {mean:>10} {p50:>10} {p99:>10} {max:>10}",
                name,
                thousands(c.count),
            )?;
        }
        if marked {
            self.fmt_resolution_note(f)?;
        }
        Ok(())
    }

    /// What the latency figures are of: every tick, or a random sample of them.
    fn fmt_sampling(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The latency figures stand for the ticks after the warm-up.
        let count = self.ticks_after_warmup();
        let Some(s) = &self.sampling else {
            return writeln!(
                f,
                "Sampling: every tick timed and recorded (schema 1 report)"
            );
        };
        let mode = match (&s.mode, s.budget_fraction, s.one_in) {
            (SamplingKind::Budget, Some(fraction), _) => {
                format!("budget {:.1}% of the loop", 100.0 * fraction)
            }
            (SamplingKind::OneIn, _, Some(n)) => format!("1 tick in {}", thousands(n)),
            (mode, _, _) => mode.to_string(),
        };
        writeln!(f, "Sampling: {mode}")?;
        if s.timed_every_tick(count) && count > 0 {
            writeln!(f, "  every tick timed: min, max and percentiles are exact")?;
        } else if s.ticks_timed > 0 {
            writeln!(
                f,
                "  {} of {} ticks timed (after the warm-up), at random (1 in {:.0}): percentiles \
                 estimate all ticks'; min, max and p99.9 are the sample's",
                thousands(s.ticks_timed),
                thousands(count),
                count as f64 / s.ticks_timed as f64
            )?;
        } else if let Some(w) = self.ticks.warmup.as_ref().filter(|w| w.count > 0) {
            writeln!(
                f,
                "  no tick timed after the warm-up: all {} measured ticks were warm-up \
                 (`warmup_ticks(0)` puts them in the figures)",
                thousands(w.count)
            )?;
        } else if count == 0 {
            writeln!(
                f,
                "  no tick counted: no tick span reached tickprof (named differently, or refused \
                 by a filter on the whole subscriber: put EnvFilter on your fmt layer instead)"
            )?;
        } else {
            writeln!(
                f,
                "  no tick timed (a run this short fits no sample: use Sampling::full())"
            )?;
        }
        if s.ticks_recorded > 0 && s.mode != SamplingKind::Full {
            writeln!(
                f,
                "  {} ticks recorded with their components, in {} window(s) of consecutive ticks",
                thousands(s.ticks_recorded),
                thousands(s.windows)
            )?;
        }
        if let Some(raw) = self.ticks.latency_raw.as_ref().filter(|r| r.samples > 0) {
            writeln!(
                f,
                "  tick times are net of the instrumentation inside them (as measured: mean {:.2} µs)",
                micros(raw.mean_ns)
            )?;
            if s.mode == SamplingKind::Full && s.ticks_recorded > 0 {
                writeln!(
                    f,
                    "  every tick recorded: its time less the calibrated cost of each span in it, \
                     which small ticks cannot resolve (sample for tick latency)"
                )?;
            }
        }
        Ok(())
    }

    /// How much profiling changed the loop, when the caller timed it both ways.
    fn fmt_distortion(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(l) = &self.loop_comparison else {
            return Ok(());
        };
        writeln!(
            f,
            "Profiler distortion: profiled loop {:.2}× bare ({} vs {} ticks/s); reported tick \
             mean {:.2}× the bare loop's time per tick ({:.3} µs)",
            l.slowdown(),
            thousands(l.profiled_per_s.round() as u64),
            thousands(l.bare_per_s.round() as u64),
            l.tick_mean_ratio(self.ticks.latency.mean_ns),
            micros(l.bare_tick_ns())
        )?;
        // What the report says profiling cost, beside what the loops say it did, with how far
        // apart the two bare runs were (the comparison's noise).
        let (Some(s), Some(t)) = (&self.sampling, &l.times) else {
            return Ok(());
        };
        let per_tick = |profiled: f64, bare: [f64; 2], ticks: u64| {
            let mean = (bare[0] + bare[1]) / 2.0;
            (ticks > 0 && mean > 0.0).then(|| {
                (
                    (profiled - mean) * 1e9 / ticks as f64,
                    (bare[0] - bare[1]).abs() * 1e9 / ticks as f64,
                )
            })
        };
        let Some((whole, whole_noise)) = per_tick(t.profiled_s, t.bare_s, t.ticks) else {
            return Ok(());
        };
        let after = per_tick(
            t.profiled_after_warmup_s,
            t.bare_after_warmup_s,
            t.ticks_after_warmup(),
        )
        .filter(|_| t.warmup_ticks > 0)
        .map_or_else(String::new, |(ns, noise)| {
            format!(
                "; after its first {} ticks {ns:+.1} ns (±{noise:.1} ns)",
                thousands(t.warmup_ticks)
            )
        });
        let bare_s = (t.bare_s[0] + t.bare_s[1]) / 2.0;
        let short = if bare_s < MIN_LOOP_AFTER_WARMUP_S {
            format!(
                "; a {:.1} ms loop is too short for the difference to mean much",
                bare_s * 1e3
            )
        } else {
            String::new()
        };
        let setup = if s.setup_ns > 0 && t.ticks > 0 {
            format!(
                " plus {} once making its histograms ({:.1} ns per tick over this loop)",
                duration(s.setup_ns),
                s.setup_ns as f64 / t.ticks as f64
            )
        } else {
            String::new()
        };
        writeln!(
            f,
            "  the report's own cost estimate: {:.1} ns per tick{setup}; the profiled loop \
             measured {whole:+.1} ns per tick against bare (the bare runs ±{whole_noise:.1} ns \
             apart){after}{short}",
            s.cost_ns_per_tick
        )
    }

    /// A latency's mean, p50, p99 and max as the tables print them (µs, three decimals, `<`
    /// below the resolution); `marked` is set when one is.
    fn table_micros(&self, l: &LatencyStats, marked: &mut bool) -> [String; 4] {
        [l.mean_ns, l.p50_ns as f64, l.p99_ns as f64, l.max_ns as f64].map(|ns| {
            let r = self.resolved(ns);
            *marked |= matches!(r, Resolved::Below(_));
            r.micros(3)
        })
    }

    /// What a `<` in a table means.
    fn fmt_resolution_note(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "  <{:.3}: below this report's resolution ({:.3} µs, twice what an empty span \
             reads): such a figure is the clock's steps and what was subtracted, not the code",
            micros(self.latency_resolution_ns()),
            micros(self.latency_resolution_ns())
        )
    }

    /// A share as the component table prints it: `41.0%`, `<18.5%` when the time it is a
    /// share of is below the resolution (the bound that resolution allows), `n/a` without one.
    fn share_cell(&self, share: Option<f64>, own_ns: f64, per_tick: f64) -> String {
        let Some(share) = share else {
            return "n/a".to_owned();
        };
        match self.resolved(own_ns) {
            Resolved::Measured(_) => format!("{:.1}%", 100.0 * share),
            Resolved::Below(resolution) => {
                let bound = if own_ns > 0.0 {
                    share * resolution / own_ns
                } else {
                    self.ticks
                        .recorded
                        .as_ref()
                        .filter(|r| r.mean_ns > 0.0)
                        .map_or(0.0, |r| resolution * per_tick / r.mean_ns)
                };
                // Rounded up, so a bound never reads as less than it is ("<0.0%").
                format!("<{:.1}%", (1000.0 * bound).ceil() / 10.0)
            }
        }
    }

    /// The component table: whole and own busy time per span, and each name's share of the
    /// recorded ticks ([`Report::self_share`], [`Report::unattributed_share`]: they add up to
    /// 100 %).
    fn fmt_components(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let basis = self
            .ticks
            .recorded
            .as_ref()
            .filter(|r| r.samples > 0)
            .map_or_else(String::new, |r| {
                // The recorded ticks include the warm-up's (a window opens at the first tick):
                // say so where the base of the shares is given.
                let warmup = self
                    .ticks
                    .warmup
                    .as_ref()
                    .map_or(0, |w| w.recorded)
                    .min(r.samples);
                let of_them = if warmup > 0 {
                    format!(", {} of its {} ticks in the warm-up", thousands(warmup), thousands(r.samples))
                } else {
                    String::new()
                };
                format!(
                    "; % tick: own time × spans per tick over the recorded ticks' mean, {} µs{of_them}",
                    self.resolved(r.mean_ns).micros(3)
                )
            });
        writeln!(
            f,
            "Components (net busy time per span; self: children excluded{basis}):"
        )?;
        writeln!(
            f,
            "  {:<20} {:>10} {:>9} {:>10} {:>10} {:>10} {:>10} {:>10} {:>7}",
            "name",
            "count",
            "per tick",
            "mean µs",
            "p50 µs",
            "p99 µs",
            "max µs",
            "self µs",
            "% tick"
        )?;
        let mut marked = false;
        // Schema 1: every tick recorded, so a name's spans per tick is count / ticks.
        let ticks = self.ticks.count.max(1) as f64;
        for (name, c) in &self.components {
            let per_tick = c.per_tick.unwrap_or(c.count as f64 / ticks);
            let [mean, p50, p99, max] = self.table_micros(&c.latency, &mut marked);
            let (own, share) = self.own_and_share(name, c, per_tick, &mut marked);
            writeln!(
                f,
                "  {:<20} {:>10} {:>9.2} {mean:>10} {p50:>10} {p99:>10} {max:>10} {own:>10} \
                 {share:>7}",
                name,
                thousands(c.count),
                per_tick,
            )?;
        }
        let u = &self.unattributed;
        let unattributed_mean = self.unattributed_mean();
        let mean = self.resolved(unattributed_mean);
        marked |= matches!(mean, Resolved::Below(_));
        let [_, p50, p99, max] = self.table_micros(u, &mut marked);
        writeln!(
            f,
            "  {:<20} {:>10} {:>9} {:>10} {p50:>10} {p99:>10} {max:>10} {:>10} {:>7}",
            "(unattributed)",
            thousands(u.samples.max(if self.sampling.is_none() {
                self.ticks.count
            } else {
                0
            })),
            "",
            mean.micros(3),
            mean.micros(3),
            self.share_cell(self.unattributed_share(), unattributed_mean, 1.0)
        )?;
        if marked {
            self.fmt_resolution_note(f)?;
        }
        self.fmt_far_outliers(f)
    }

    /// A component's own time per span (`self µs`) and its share, as the table prints them.
    fn own_and_share(
        &self,
        name: &str,
        c: &ComponentStats,
        per_tick: f64,
        marked: &mut bool,
    ) -> (String, String) {
        let Some(own) = &c.self_time else {
            return ("n/a".to_owned(), "n/a".to_owned());
        };
        let resolved = self.resolved(own.mean_ns);
        *marked |= matches!(resolved, Resolved::Below(_));
        (
            resolved.micros(3),
            self.share_cell(self.self_share(name), own.mean_ns, per_tick),
        )
    }

    /// One note for every distribution of the table with values far above the rest.
    fn fmt_far_outliers(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut found: Vec<(&str, FarOutliers)> = self
            .components
            .iter()
            .filter_map(|(name, c)| {
                outliers(&c.latency, &format!("components.{name}.latency"))
                    .map(|o| (name.as_str(), o))
            })
            .collect();
        if let Some(o) = outliers(&self.unattributed, "unattributed") {
            found.push(("(unattributed)", o));
        }
        if found.is_empty() {
            return Ok(());
        }
        let listed: Vec<String> = found
            .iter()
            .map(|(name, o)| {
                format!(
                    "{name} max {} ({} value{} above {} × {} {})",
                    duration(o.max_ns),
                    o.count,
                    if o.count == 1 { "" } else { "s" },
                    super::FAR_OUTLIER_FACTOR,
                    o.reference,
                    duration(o.reference_ns)
                )
            })
            .collect();
        writeln!(
            f,
            "  note: far outliers in {} of these, likely the thread descheduled or faulted \
             inside a span, not the code: {}",
            found.len(),
            listed.join("; ")
        )
    }

    /// Allocations per tick and per component span, when the run counted them (a
    /// `CountingAllocator` installed): how many spans allocated at all, and how many
    /// allocations and bytes one span made.
    fn fmt_allocations(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<(&str, &AllocationStats)> = self
            .ticks
            .allocations
            .as_ref()
            .map(|a| ("(tick)", a))
            .into_iter()
            .chain(
                self.components
                    .iter()
                    .filter_map(|(name, c)| Some((name.as_str(), c.allocations.as_ref()?))),
            )
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        writeln!(
            f,
            "Allocations (per span, on its thread; a component's own, children excluded):"
        )?;
        writeln!(
            f,
            "  {:<20} {:>10} {:>10} {:>8} {:>6} {:>6} {:>8} {:>11} {:>10} {:>10}",
            "name",
            "spans",
            "allocating",
            "mean",
            "p50",
            "p99",
            "max",
            "mean bytes",
            "p99 bytes",
            "max bytes"
        )?;
        for (name, a) in &rows {
            writeln!(
                f,
                "  {:<20} {:>10} {:>9.1}% {:>8.2} {:>6} {:>6} {:>8} {:>11.1} {:>10} {:>10}",
                name,
                thousands(a.samples),
                100.0 * a.share_allocating,
                a.mean,
                thousands(a.p50),
                thousands(a.p99),
                thousands(a.max),
                a.mean_bytes,
                thousands(a.p99_bytes),
                thousands(a.max_bytes)
            )?;
        }
        let allocating: Vec<&str> = rows
            .iter()
            .filter(|(name, a)| *name != "(tick)" && a.max > 0)
            .map(|(name, _)| *name)
            .collect();
        match &self.ticks.allocations {
            Some(t) if t.max == 0 => writeln!(f, "  no timed tick allocated")?,
            _ if !allocating.is_empty() => writeln!(
                f,
                "  components that allocated in a recorded tick: {}",
                allocating.join(", ")
            )?,
            _ => {}
        }
        Ok(())
    }

    /// What the profiler cost, as calibrated at the start of the run.
    fn fmt_overhead(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.overhead;
        if o.per_span_ns == 0.0 && o.empty_span_busy_ns == 0.0 {
            return writeln!(f, "  profiler cost: not measured (nothing subtracted)");
        }
        let Some(check) = o.tick_check_ns else {
            return writeln!(
                f,
                "  profiler overhead: {:.1} ns per span; an empty span reads {:.1} ns",
                o.per_span_ns, o.empty_span_busy_ns
            );
        };
        let nested = match (o.nested_span_ns, o.nested_span_in_run_ns) {
            (Some(calibrated), Some(run)) => {
                format!(", {calibrated:.0} of it inside its parent ({run:.0} measured in this run)")
            }
            (Some(calibrated), None) => format!(", {calibrated:.0} of it inside its parent"),
            _ => String::new(),
        };
        writeln!(
            f,
            "  profiler cost: a recorded span adds {:.0} ns to the loop{nested}; an empty span \
             reads {:.0} ns; counting a tick costs {check:.0} ns",
            o.per_span_ns, o.empty_span_busy_ns
        )?;
        if let Some(s) = &self.sampling {
            let mean = self.ticks.latency.mean_ns;
            if mean > 0.0 {
                writeln!(
                    f,
                    "  profiling cost this run: {:.1} ns per tick ({:.1}% of the mean tick)",
                    s.cost_ns_per_tick,
                    100.0 * s.cost_ns_per_tick / mean
                )?;
            } else {
                writeln!(
                    f,
                    "  profiling cost this run: {:.1} ns per tick",
                    s.cost_ns_per_tick
                )?;
            }
        }
        Ok(())
    }

    /// Records that could not be taken exactly, when there are any.
    fn fmt_dropped(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.dropped;
        if d.overflow > 0 || d.missing_span_data > 0 {
            writeln!(
                f,
                "  dropped: {} clamped above the histogram bound, {} spans without data",
                d.overflow, d.missing_span_data
            )?;
        }
        if d.clamped > 0 {
            writeln!(
                f,
                "  {} busy times came out below the instrumentation subtracted from them and were \
                 set to 0 (their spans are shorter than the calibration can resolve)",
                thousands(d.clamped)
            )?;
        }
        if d.straddled > 0 {
            writeln!(
                f,
                "  {} timed ticks left out: a recording window opened or closed during them",
                d.straddled
            )?;
        }
        if d.uncredited_children > 0 {
            writeln!(
                f,
                "  {} child spans ran on other threads than their parent: beside it, not in it \
                 (their time is their own)",
                d.uncredited_children
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rule = "=".repeat(80);
        let t = &self.ticks.latency;
        writeln!(f, "{rule}")?;
        writeln!(f, "Performance Metrics: {}", self.name)?;
        writeln!(f, "{rule}")?;
        if let Some(part) = &self.part {
            writeln!(f, "Partial: {}", part.describe(self.total_time_s))?;
        }
        if let Some(c) = &self.checkpoints {
            writeln!(
                f,
                "Checkpoints: {} saved to {} every {} s, {} failed{}",
                c.written,
                c.path,
                c.every_s,
                c.failed,
                c.last_error
                    .as_ref()
                    .map(|e| format!(" (last: {e})"))
                    .unwrap_or_default()
            )?;
        }
        writeln!(f)?;
        // Two decimals as in the original design; short runs get milliseconds' worth.
        if self.total_time_s >= 1.0 {
            writeln!(f, "Total Time: {:.2} seconds", self.total_time_s)?;
        } else {
            writeln!(f, "Total Time: {:.4} seconds", self.total_time_s)?;
        }
        writeln!(f)?;
        writeln!(f, "Tick Processing:")?;
        writeln!(f, "  Total Ticks: {}", thousands(self.ticks.count))?;
        writeln!(
            f,
            "  Ticks/second: {}",
            thousands(self.ticks.throughput_per_s.round() as u64)
        )?;
        if t.samples == 0 && self.sampling.is_some() {
            // Nothing timed after the warm-up (or at all): no figure rather than zeros.
            let why = if self.ticks.count == 0 {
                "no tick counted"
            } else {
                "no tick timed after the warm-up"
            };
            writeln!(f, "  Mean Time: n/a ({why})")?;
            self.fmt_warmup(f)?;
            writeln!(f)?;
        } else {
            // Two decimals as in the original design; `<0.08` below the report's resolution.
            let us = |ns: f64| self.resolved(ns).micros(2);
            writeln!(f, "  Mean Time: {} µs", us(t.mean_ns))?;
            writeln!(f, "  Median Time: {} µs", us(t.p50_ns as f64))?;
            writeln!(
                f,
                "  Min/Max: {} / {} µs",
                us(t.min_ns as f64),
                us(t.max_ns as f64)
            )?;
            // With sampling, a recorded tick is not in the latency figures: say when one of the
            // slowest ticks listed below is slower than their max.
            if let Some(slower) = self
                .slowest_ticks
                .as_ref()
                .and_then(|s| s.all().max_by_key(|tick| tick.latency_ns))
                .filter(|tick| tick.latency_ns > t.max_ns)
            {
                let why = if slower.recorded {
                    ": recorded, so not in these timed-tick figures"
                } else {
                    ""
                };
                writeln!(
                    f,
                    "  (a slower tick is listed under Slowest ticks: {}{why})",
                    duration(slower.latency_ns)
                )?;
            }
            self.fmt_warmup(f)?;
            writeln!(f)?;
            writeln!(f, "Percentiles:")?;
            for (label, value) in [
                ("p50_us", t.p50_ns),
                ("p90_us", t.p90_ns),
                ("p95_us", t.p95_ns),
                ("p99_us", t.p99_ns),
                ("p99.9_us", t.p999_ns),
            ] {
                writeln!(f, "  {label}: {} µs", us(value as f64))?;
            }
            self.fmt_tick_shape(f)?;
            writeln!(f)?;
        }
        if self.inside_ticks.is_some() || !self.outside_ticks.is_empty() {
            self.fmt_inside_ticks(f)?;
            writeln!(f)?;
        }
        self.fmt_sampling(f)?;
        self.fmt_distortion(f)?;
        if !self.components.is_empty() {
            writeln!(f)?;
            self.fmt_components(f)?;
        }
        if self.ticks.allocations.is_some()
            || self.components.values().any(|c| c.allocations.is_some())
        {
            writeln!(f)?;
            self.fmt_allocations(f)?;
        }
        self.fmt_slowest_ticks(f)?;
        self.fmt_overhead(f)?;
        self.fmt_dropped(f)?;
        writeln!(f)?;
        writeln!(f, "Resource Usage:")?;
        match (&self.resources, &self.resources_unavailable) {
            (Some(r), _) => {
                writeln!(f, "  CPU: {}", cpu_line(r))?;
                writeln!(
                    f,
                    "  Memory: {:.1} MB (peak: {:.1} MB)",
                    r.memory_bytes.mean / 1e6,
                    r.peak_rss_bytes as f64 / 1e6
                )?;
            }
            (None, Some(reason)) => writeln!(f, "  not sampled: {reason}")?,
            (None, None) => writeln!(f, "  not sampled")?,
        }
        write!(f, "{rule}")
    }
}

/// Where a listed tick ran: its run (merged reports) and thread, and the thread's kernel id
/// when another listed tick ran on a thread of the same name (tokio's workers are all
/// `tokio-rt-worker`): ordinals count each thread's own ticks, so the list must say which.
fn place(tick: &SlowTick, all: &[&SlowTick]) -> String {
    let thread = match tick.tid {
        Some(tid)
            if all.iter().any(|other| {
                other.run == tick.run && other.thread == tick.thread && other.tid != tick.tid
            }) =>
        {
            format!("{} tid {tid}", tick.thread)
        }
        _ => tick.thread.clone(),
    };
    match &tick.run {
        Some(run) => format!("{run}, {thread}"),
        None => thread,
    }
}

/// One slow tick: ordinal and fields, where, latency, and what took most of it (or why
/// nothing says). What was measured around it (the process's CPU, the scheduler's counts) is
/// said once per sample window after the list: [`fmt_machine_windows`],
/// [`fmt_scheduler_windows`].
fn slow_tick_line(tick: &SlowTick, place: &str) -> String {
    let inside = match (&tick.dominant, tick.recorded) {
        (Some(d), _) => d.label(tick.latency_ns),
        (None, true) => "no component recorded in it".to_owned(),
        (None, false) => "timed only, no timeline".to_owned(),
    };
    format!(
        "tick {} ({place}, +{:.3} s): {} — {inside}",
        tick.name(),
        tick.offset_s,
        duration(tick.latency_ns)
    )
}

/// The process CPU around the listed ticks, once per sample interval, when it says something
/// (well under one core: the process off CPU then, descheduled or waiting).
fn fmt_machine_windows(f: &mut fmt::Formatter<'_>, all: &[&SlowTick]) -> fmt::Result {
    let mut windows: Vec<(&MachineAround, Vec<String>)> = Vec::new();
    for tick in all {
        let Some(m) = tick.machine.as_ref().filter(|m| m.cpu_percent < 50.0) else {
            continue;
        };
        match windows.iter_mut().find(|(other, _)| *other == m) {
            Some((_, held)) => held.push(tick.ordinal_label()),
            None => windows.push((m, vec![tick.ordinal_label()])),
        }
    }
    if windows.is_empty() {
        return Ok(());
    }
    windows.sort_by(|a, b| a.0.from_ms.total_cmp(&b.0.from_ms));
    let said: Vec<String> = windows
        .iter()
        .map(|(m, held)| {
            format!(
                "{:.0}–{:.0} ms {:.0} % ({})",
                m.from_ms,
                m.to_ms,
                m.cpu_percent,
                which(held, all.len())
            )
        })
        .collect();
    writeln!(
        f,
        "  Process CPU under half a core in the sample interval of their start: {}",
        said.join("; ")
    )
}

/// What the scheduler counted for the listed ticks' threads, one line per sample window (and
/// thread) with the ticks it holds: a window holds many slow ticks, and its counts said on
/// every one of them made the list unreadable.
fn fmt_scheduler_windows(f: &mut fmt::Formatter<'_>, all: &[&SlowTick]) -> fmt::Result {
    // (where, what was counted) → the ticks, in the order of their windows.
    let mut windows: Vec<(String, &SchedulerAround, Vec<String>)> = Vec::new();
    for tick in all {
        let Some(s) = &tick.scheduler else {
            continue;
        };
        let place = place(tick, all);
        match windows
            .iter_mut()
            .find(|(p, other, _)| *p == place && *other == s)
        {
            Some((_, _, held)) => held.push(tick.ordinal_label()),
            None => windows.push((place, s, vec![tick.ordinal_label()])),
        }
    }
    if windows.is_empty() {
        return Ok(());
    }
    windows.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(a.1.from_ms.total_cmp(&b.1.from_ms))
            .then(a.1.to_ms.total_cmp(&b.1.to_ms))
    });
    writeln!(
        f,
        "  Scheduler, per resource sample window holding them (counts over the window, not \
         necessarily in the tick; only a zero is about the tick):"
    )?;
    for (place, s, held) in windows {
        writeln!(
            f,
            "    {place}, {:.0}–{:.0} ms: {} — {}",
            s.from_ms,
            s.to_ms,
            scheduler_counts(s),
            which(&held, all.len())
        )?;
    }
    Ok(())
}

/// The ticks a window holds: their ordinals, or "all of them" when it holds every listed one.
fn which(held: &[String], listed: usize) -> String {
    if held.len() == listed && listed > 1 {
        "all of them".to_owned()
    } else {
        held.join(", ")
    }
}

/// What the scheduler counted in a window: "not descheduled" only when proven (zero over
/// windows holding the tick); otherwise the window's counts.
fn scheduler_counts(s: &SchedulerAround) -> String {
    // Blocking (sleep, a lock, I/O) is the code's own doing, preemption the machine's.
    let blocked = match s.voluntary_switches {
        0 => String::new(),
        n => format!(", blocked {n}× (sleep, lock or I/O)"),
    };
    if s.not_descheduled() && s.voluntary_switches == 0 {
        "not descheduled".to_owned()
    } else if s.not_descheduled() {
        format!("not preempted{blocked}")
    } else {
        format!(
            "thread preempted {}×{blocked}, waited {} for a CPU",
            s.involuntary_switches,
            duration(s.run_queue_wait_ns)
        )
    }
}

/// "98.7% of one core (cpu time 0.123 s over 0.125 s; busiest sample 101.2%)", with "n/a" and
/// the reason where a run is too short for a figure.
fn cpu_line(r: &Resources) -> String {
    let mean = match r.cpu_percent.mean {
        Some(mean) => format!("{mean:.1}% of one core"),
        None => "n/a, the run is shorter than 10 ms".to_owned(),
    };
    let max = match r.cpu_percent.max {
        Some(max) => format!("busiest sample {max:.1}%"),
        None => "no busiest sample: fewer than 2 samples in a run".to_owned(),
    };
    format!("{mean} ({:.4} s of CPU; {max})", r.cpu_time_s)
}

/// A time in seconds as the summary prints durations (`0.32 s`, `4.16 ms`, `50.0 µs`).
fn seconds(s: f64) -> String {
    super::slow_ticks::duration((s.max(0.0) * 1e9).round() as u64)
}

/// Rows of the per-thread table at most; the rest are in the JSON.
const THREAD_ROWS: usize = 8;

/// Each ticking thread's time inside ticks, against the run's wall time and its own CPU time:
/// one line for one thread (its CPU share, the figure the run's line cannot give), a table for
/// several.
fn fmt_threads_inside_ticks(
    f: &mut fmt::Formatter<'_>,
    threads: &[super::ThreadInsideTicks],
) -> fmt::Result {
    let cpu_share = |t: &super::ThreadInsideTicks| match (t.cpu_fraction, t.cpu_time_s) {
        (Some(share), Some(cpu)) if share > 1.0 => {
            format!(
                "{share:.2}× its CPU time ({:.3} s: its ticks also waited off the CPU)",
                cpu
            )
        }
        (Some(share), Some(cpu)) => {
            format!("{:.1}% of its CPU time ({})", 100.0 * share, seconds(cpu))
        }
        _ => String::new(),
    };
    let name = |t: &super::ThreadInsideTicks| {
        let tid = t.tid.map(|tid| format!(" [{tid}]")).unwrap_or_default();
        match &t.run {
            Some(run) => format!("{run}/{}{tid}", t.thread),
            None => format!("{}{tid}", t.thread),
        }
    };
    match threads {
        [] => Ok(()),
        [one] => {
            let share = cpu_share(one);
            if share.is_empty() {
                return Ok(());
            }
            writeln!(f, "  on its one ticking thread, {}: {share}", name(one))
        }
        several => {
            writeln!(
                f,
                "  per thread ({} ticking threads; busy time inside ticks as a share of the \
                 run's wall time, and of the thread's own CPU time):",
                several.len()
            )?;
            writeln!(
                f,
                "    {:<32} {:>12} {:>10} {:>8} {:>10}",
                "thread [tid]", "ticks", "busy", "% wall", "of its CPU"
            )?;
            for t in several.iter().take(THREAD_ROWS) {
                let cpu = match t.cpu_fraction {
                    Some(share) if share > 1.0 => format!("{share:.2}×"),
                    Some(share) => format!("{:.1}%", 100.0 * share),
                    None => "-".to_owned(),
                };
                writeln!(
                    f,
                    "    {:<32} {:>12} {:>10} {:>8.1} {:>10}",
                    name(t),
                    thousands(t.ticks),
                    seconds(t.busy_s),
                    100.0 * t.wall_fraction,
                    cpu
                )?;
            }
            if several.iter().any(|t| t.wall_fraction > 1.0) {
                writeln!(
                    f,
                    "    a thread above 100 % of the wall time is the estimate's error (its ticks \
                     × its timed ticks' mean, a sample: a few preempted ticks weigh heavily)"
                )?;
            }
            if several.len() > THREAD_ROWS {
                writeln!(
                    f,
                    "    … and {} more threads (`inside_ticks.threads` in the JSON)",
                    several.len() - THREAD_ROWS
                )?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::{allocations, report};

    /// A run that counted no tick says why it has no figures, not that it was too short.
    #[test]
    fn a_run_without_ticks_says_none_reached_tickprof() {
        let mut r = report("none", &[], &[]);
        r.total_time_s = 0.96;
        r.sampling = Some(crate::SamplingStats::every_tick(0));
        r.sampling.as_mut().unwrap().mode = crate::SamplingKind::Budget;
        let summary = r.summary();
        assert!(
            summary.contains("Mean Time: n/a (no tick counted)"),
            "{summary}"
        );
        assert!(
            summary.contains("no tick counted: no tick span reached tickprof"),
            "{summary}"
        );
        assert!(!summary.contains("a run this short"), "{summary}");
    }

    /// The block is there only when the run counted allocations, with a row per place and the
    /// components that allocated named.
    #[test]
    fn the_allocations_block() {
        let mut r = report(
            "allocs",
            &[1_000; 100],
            &[("parse", &[500; 100]), ("risk", &[100; 100])],
        );
        assert!(!r.summary().contains("Allocations"), "{}", r.summary());
        let mut spans = vec![(0, 0); 97];
        spans.extend([(3, 96); 3]);
        r.ticks.allocations = Some(allocations(&spans));
        if let Some(c) = r.components.get_mut("parse") {
            c.allocations = Some(allocations(&spans));
        }
        if let Some(c) = r.components.get_mut("risk") {
            c.allocations = Some(allocations(&[(0, 0); 100]));
        }
        let summary = r.summary();
        let block = summary
            .split_once("Allocations (")
            .map(|(_, block)| block)
            .unwrap_or_default();
        let words = |name: &str| -> Vec<String> {
            let line = block
                .lines()
                .find(|l| l.trim_start().starts_with(name))
                .unwrap_or_else(|| panic!("no {name} row: {summary}"));
            line.split_whitespace().map(str::to_owned).collect()
        };
        assert!(
            summary.contains(
                "Allocations (per span, on its thread; a component's own, children excluded):"
            ),
            "{summary}"
        );
        assert_eq!(
            words("(tick)"),
            [
                "(tick)", "100", "3.0%", "0.09", "0", "3", "3", "2.9", "96", "96"
            ]
        );
        assert_eq!(
            words("risk")[..4],
            ["risk", "100", "0.0%", "0.00"].map(str::to_owned)
        );
        assert!(
            summary.contains("components that allocated in a recorded tick: parse\n"),
            "{summary}"
        );
        // Allocation-free ticks say so.
        r.ticks.allocations = Some(allocations(&[(0, 0); 100]));
        assert!(r.summary().contains("  no timed tick allocated\n"));
    }
}
