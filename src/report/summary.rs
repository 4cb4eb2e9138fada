//! The printed summary (`print_summary`, `tickprof summary`): the original design's block,
//! plus what the figures are of (sampling, warm-up, outliers) and what profiling cost.

use std::fmt;

use super::slow_ticks::duration;
use super::{LatencyStats, Report, Resources, SamplingKind, SchedulerAround, SlowTick};

/// Far outliers of a distribution, for a note; a histogram that does not decode gets none
/// (the summary prints what it can; `Report::load` has validated what it loaded).
fn outliers(stats: &LatencyStats, field: &str) -> Option<super::FarOutliers> {
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

    /// The slowest ticks, each with the component that took most of it:
    /// `tick #904,211 (main): 4.16 ms — parse 4.07 ms (98 %)`.
    fn fmt_slowest_ticks(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(slow) = &self.slowest_ticks else {
            return Ok(());
        };
        if slow.ticks.is_empty() {
            return Ok(());
        }
        writeln!(f)?;
        let warmup = match slow.warmup_ticks_per_thread {
            0 => String::new(),
            n => format!(", each thread's first {} left out", thousands(n)),
        };
        writeln!(f, "Slowest ticks (net busy time{warmup}):")?;
        for tick in &slow.ticks {
            writeln!(f, "  {}", slow_tick_line(tick))?;
        }
        if !slow.recorded.is_empty() {
            writeln!(
                f,
                "  Slowest recorded ticks not listed above (with their timelines):"
            )?;
            for tick in &slow.recorded {
                writeln!(f, "  {}", slow_tick_line(tick))?;
            }
        }
        Ok(())
    }

    /// What a reader of the tick figures should know: a mean above the p99, far outliers.
    fn fmt_tick_shape(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.ticks.latency;
        if t.samples > 0 && t.mean_ns > t.p99_ns as f64 {
            writeln!(
                f,
                "  note: the mean is above the p99: a few very slow ticks outweigh all the others"
            )?;
        }
        if let Some(o) = outliers(t, "ticks.latency") {
            writeln!(f, "  note: {}", o.describe())?;
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
        let bare_tick = l.bare_tick_ns();
        let tick_ratio = if bare_tick > 0.0 {
            self.ticks.latency.mean_ns / bare_tick
        } else {
            0.0
        };
        writeln!(
            f,
            "Profiler distortion: profiled loop {:.2}× bare ({} vs {} ticks/s); reported tick \
             mean {tick_ratio:.2}× the bare loop's time per tick ({:.3} µs)",
            l.slowdown(),
            thousands(l.profiled_per_s.round() as u64),
            thousands(l.bare_per_s.round() as u64),
            micros(bare_tick)
        )
    }

    /// The component table: net busy time per span, and each name's share of the tick.
    fn fmt_components(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Components (net busy time per span):")?;
        writeln!(
            f,
            "  {:<20} {:>10} {:>9} {:>10} {:>10} {:>10} {:>10} {:>7}",
            "name", "count", "per tick", "mean µs", "p50 µs", "p99 µs", "max µs", "% tick"
        )?;
        let tick_mean = self.ticks.latency.mean_ns;
        let share = |mean_ns: f64, per_tick: f64| {
            if tick_mean > 0.0 {
                format!("{:.1}%", 100.0 * mean_ns * per_tick / tick_mean)
            } else {
                "n/a".to_owned()
            }
        };
        // Schema 1: every tick recorded, so a name's spans per tick is count / ticks.
        let ticks = self.ticks.count.max(1) as f64;
        for (name, c) in &self.components {
            let per_tick = c.per_tick.unwrap_or(c.count as f64 / ticks);
            let l = &c.latency;
            writeln!(
                f,
                "  {:<20} {:>10} {:>9.2} {:>10.3} {:>10.3} {:>10.3} {:>10.3} {:>7}",
                name,
                thousands(c.count),
                per_tick,
                micros(l.mean_ns),
                micros(l.p50_ns as f64),
                micros(l.p99_ns as f64),
                micros(l.max_ns as f64),
                share(l.mean_ns, per_tick)
            )?;
        }
        let u = &self.unattributed;
        let unattributed_mean = self.unattributed_mean_ns.unwrap_or(u.mean_ns);
        writeln!(
            f,
            "  {:<20} {:>10} {:>9} {:>10.3} {:>10.3} {:>10.3} {:>10.3} {:>7}",
            "(unattributed)",
            thousands(u.samples.max(if self.sampling.is_none() {
                self.ticks.count
            } else {
                0
            })),
            "",
            micros(unattributed_mean),
            micros(u.p50_ns as f64),
            micros(u.p99_ns as f64),
            micros(u.max_ns as f64),
            share(unattributed_mean, 1.0)
        )?;
        if self.unattributed_mean_ns.is_some() {
            writeln!(
                f,
                "  (unattributed mean: the tick's mean less its direct children's; its percentiles \
                 are per recorded tick)"
            )?;
        }
        if tick_mean > 0.0 {
            let direct: f64 = self
                .components
                .values()
                .map(|c| c.latency.mean_ns * c.per_tick.unwrap_or(0.0))
                .sum();
            // Components nest, so their shares may add up past 100 % on their own; flag only
            // the case where the tick's mean is below its components' alone.
            if self.unattributed_mean_ns == Some(0.0) && direct > tick_mean {
                writeln!(
                    f,
                    "  note: the components' means add up to more than the tick's ({:.3} vs {:.3} \
                     µs): they come from recorded ticks, the tick's from timed ones, and each \
                     recorded span's calibrated cost is uncertain by a few ns; the unattributed \
                     mean, clamped at 0, is then unknown",
                    micros(direct),
                    micros(tick_mean)
                )?;
            }
        }
        for (name, c) in &self.components {
            if let Some(o) = outliers(&c.latency, &format!("components.{name}.latency")) {
                writeln!(f, "  note: {name}: {}", o.describe())?;
            }
        }
        if let Some(o) = outliers(u, "unattributed") {
            writeln!(f, "  note: (unattributed): {}", o.describe())?;
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
                "  {} child spans ran on other threads than their parent: their time stays in \
                 the parent's",
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
            writeln!(f, "  Mean Time: n/a (no tick timed after the warm-up)")?;
            self.fmt_warmup(f)?;
            writeln!(f)?;
        } else {
            writeln!(f, "  Mean Time: {:.2} µs", micros(t.mean_ns))?;
            writeln!(f, "  Median Time: {:.2} µs", micros(t.p50_ns as f64))?;
            writeln!(
                f,
                "  Min/Max: {:.2} / {:.2} µs",
                micros(t.min_ns as f64),
                micros(t.max_ns as f64)
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
                writeln!(f, "  {label}: {:.2} µs", micros(value as f64))?;
            }
            self.fmt_tick_shape(f)?;
            writeln!(f)?;
        }
        self.fmt_sampling(f)?;
        self.fmt_distortion(f)?;
        if !self.components.is_empty() {
            writeln!(f)?;
            self.fmt_components(f)?;
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

/// One slow tick: ordinal, where, latency, and what took most of it (or why nothing says).
fn slow_tick_line(tick: &SlowTick) -> String {
    let ordinal = match tick.ordinal {
        0 => "?".to_owned(),
        n => thousands(n),
    };
    let place = match &tick.run {
        Some(run) => format!("{run}, {}", tick.thread),
        None => tick.thread.clone(),
    };
    let inside = match (&tick.dominant, tick.recorded) {
        (Some(d), _) => format!(
            "{} {} ({:.0} %)",
            d.name,
            duration(d.busy_ns),
            d.share_percent
        ),
        (None, true) => "no component recorded in it".to_owned(),
        (None, false) => "timed only, no timeline".to_owned(),
    };
    let machine = match &tick.machine {
        // Only a figure that says something: the process well off one core around it.
        Some(m) if m.cpu_percent < 50.0 => format!(
            "; process CPU {:.0} % over {:.0}–{:.0} ms",
            m.cpu_percent, m.from_ms, m.to_ms
        ),
        _ => String::new(),
    };
    let fields = match tick.fields.as_slice() {
        [] => String::new(),
        fields => format!(" {}", super::tick_fields::joined(fields)),
    };
    let scheduler = tick
        .scheduler
        .as_ref()
        .map_or_else(String::new, scheduler_note);
    format!(
        "tick #{ordinal}{fields} ({place}, +{:.3} s): {} — {inside}{machine}{scheduler}",
        tick.offset_s,
        duration(tick.latency_ns)
    )
}

/// What the scheduler counted for the tick's thread: "not descheduled" only when proven (zero
/// over windows holding the tick); otherwise the window's counts, said to be the window's.
fn scheduler_note(s: &SchedulerAround) -> String {
    let window = format!("{:.0}–{:.0} ms", s.from_ms, s.to_ms);
    // Blocking (sleep, a lock, I/O) is the code's own doing, preemption the machine's.
    let blocked = match s.voluntary_switches {
        0 => String::new(),
        n => format!(", blocked {n}× (sleep, lock or I/O)"),
    };
    if s.not_descheduled() && s.voluntary_switches == 0 {
        format!("; not descheduled (thread, {window})")
    } else if s.not_descheduled() {
        format!("; not preempted{blocked} in {window} (not necessarily in the tick)")
    } else {
        format!(
            "; thread preempted {}×{blocked}, waited {} for a CPU in {window} (not necessarily in \
             the tick)",
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
