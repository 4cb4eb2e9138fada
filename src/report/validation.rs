//! What a report promises, checked once when it is read: every number finite and within its
//! unit's range, every histogram blob decodable (bounded by its size, see `histogram_blob`).
//!
//! A report that passes can be summarized, gated, compared, merged and drawn without a later
//! surprise. Before this check a report with a broken blob passed `summary` and `check` (exit 0)
//! and failed only in `compare` or `plot`, without the file's name; a `total_time_s` of 1.7e308
//! made the graphs' axis ranges infinite and plotters' tick-mark loop spin forever. Reports are
//! otherwise read leniently (unknown fields are ignored): the check is about values that would
//! mislead or break a consumer, not about style.
//!
//! The ranges are generous upper bounds of what a run can measure, not plausibility limits: a
//! value beyond them is corruption or a hand-edited file, never a real measurement.

use super::{AllocationStats, LatencyStats, Report};

/// The field at fault (a dotted path as the JSON nests it) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub(crate) field: String,
    pub(crate) message: String,
}

/// The unit of a floating-point field, which decides its range (always from 0).
#[derive(Debug, Clone, Copy)]
enum Unit {
    /// 1e10 s, about 317 years: any run or CPU time.
    Seconds,
    /// The same span in milliseconds.
    Millis,
    /// What a `u64` of nanoseconds holds (584 years): histogram values are `u64`.
    Nanos,
    /// 10,000 cores busy.
    Percent,
    /// 10^12 ticks per second: a tick per picosecond.
    TicksPerSecond,
    /// What a `u64` of bytes holds.
    Bytes,
    /// Spans per tick: 10^9 (far beyond any tick).
    PerTick,
    /// A fraction of the loop's time.
    Fraction,
    /// A share of the run's time summed over threads (above 1 when several run at once).
    Share,
    /// Allocations per span: what a `u64` holds.
    Allocations,
    /// A proportion of the spans measured.
    SpanShare,
}

impl Unit {
    fn max(self) -> f64 {
        match self {
            Unit::Seconds => 1e10,
            Unit::Millis => 1e13,
            Unit::Nanos | Unit::Bytes | Unit::Allocations => u64::MAX as f64,
            Unit::Percent => 1e6,
            Unit::TicksPerSecond => 1e12,
            Unit::PerTick => 1e9,
            Unit::Fraction | Unit::SpanShare => 1.0,
            Unit::Share => 1e6,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Unit::Seconds => "seconds",
            Unit::Millis => "milliseconds",
            Unit::Nanos => "nanoseconds",
            Unit::Percent => "percent",
            Unit::TicksPerSecond => "ticks per second",
            Unit::Bytes => "bytes",
            Unit::PerTick => "spans per tick",
            Unit::Fraction => "fractions of the loop's time",
            Unit::Share => "shares of the run's time",
            Unit::Allocations => "allocations",
            Unit::SpanShare => "shares of the spans measured",
        }
    }
}

/// `Ok` for a finite `value` in `0 ..= unit.max()`; NaN fails every comparison, so it is caught
/// with the infinities.
fn number(field: impl FnOnce() -> String, value: f64, unit: Unit) -> Result<(), Invalid> {
    if value.is_finite() && (0.0..=unit.max()).contains(&value) {
        return Ok(());
    }
    Err(Invalid {
        field: field(),
        message: format!(
            "must be a number of {} in 0 ..= {:e}, got {value:?}",
            unit.name(),
            unit.max()
        ),
    })
}

fn latency(field: &str, stats: &LatencyStats) -> Result<(), Invalid> {
    number(|| format!("{field}.mean_ns"), stats.mean_ns, Unit::Nanos)?;
    number(
        || format!("{field}.stddev_ns"),
        stats.stddev_ns,
        Unit::Nanos,
    )?;
    super::histogram_blob::decode(&stats.histogram)
        .map(drop)
        .map_err(|message| Invalid {
            field: format!("{field}.histogram"),
            message,
        })
}

/// An allocation figure's means and share in range, and both its histograms decodable.
fn allocations(field: &str, stats: &AllocationStats) -> Result<(), Invalid> {
    number(|| format!("{field}.mean"), stats.mean, Unit::Allocations)?;
    number(
        || format!("{field}.mean_bytes"),
        stats.mean_bytes,
        Unit::Bytes,
    )?;
    number(
        || format!("{field}.share_allocating"),
        stats.share_allocating,
        Unit::SpanShare,
    )?;
    for (name, blob) in [
        ("histogram", &stats.histogram),
        ("bytes_histogram", &stats.bytes_histogram),
    ] {
        super::histogram_blob::decode(blob)
            .map(drop)
            .map_err(|message| Invalid {
                field: format!("{field}.{name}"),
                message,
            })?;
    }
    Ok(())
}

impl Report {
    /// The first field that breaks the report's promises, in the order the JSON lists them.
    /// Decodes each histogram once.
    pub(crate) fn check(&self) -> Result<(), Invalid> {
        let at = |field: &'static str| move || field.to_owned();
        number(at("total_time_s"), self.total_time_s, Unit::Seconds)?;
        if let Some(super::RunPart::Interval { offset_s, .. }) = &self.part {
            number(at("part.offset_s"), *offset_s, Unit::Seconds)?;
        }
        if let Some(c) = &self.checkpoints {
            number(at("checkpoints.every_s"), c.every_s, Unit::Seconds)?;
        }
        number(
            at("ticks.throughput_per_s"),
            self.ticks.throughput_per_s,
            Unit::TicksPerSecond,
        )?;
        latency("ticks.latency", &self.ticks.latency)?;
        if let Some(raw) = &self.ticks.latency_raw {
            latency("ticks.latency_raw", raw)?;
        }
        if let Some(wall) = &self.ticks.wall {
            latency("ticks.wall", wall)?;
        }
        if let Some(a) = &self.ticks.allocations {
            allocations("ticks.allocations", a)?;
        }
        for (root, map) in [
            ("components", &self.components),
            ("outside_ticks", &self.outside_ticks),
        ] {
            for (name, c) in map {
                latency(&format!("{root}.{name}.latency"), &c.latency)?;
                if let Some(own) = &c.self_time {
                    latency(&format!("{root}.{name}.self_time"), own)?;
                }
                if let Some(wall) = &c.wall {
                    latency(&format!("{root}.{name}.wall"), wall)?;
                }
                if let Some(per_tick) = c.per_tick {
                    number(
                        || format!("{root}.{name}.per_tick"),
                        per_tick,
                        Unit::PerTick,
                    )?;
                }
                if let Some(a) = &c.allocations {
                    allocations(&format!("{root}.{name}.allocations"), a)?;
                }
            }
        }
        if let Some(inside) = &self.inside_ticks {
            number(at("inside_ticks.busy_s"), inside.busy_s, Unit::Seconds)?;
            number(
                at("inside_ticks.wall_fraction"),
                inside.wall_fraction,
                Unit::Share,
            )?;
            if let Some(cpu) = inside.cpu_fraction {
                number(at("inside_ticks.cpu_fraction"), cpu, Unit::Share)?;
            }
            for (i, t) in inside.threads.iter().enumerate() {
                let field = |name: &'static str| {
                    move || format!("inside_ticks.threads[{i}] ({}).{name}", t.thread)
                };
                number(field("busy_s"), t.busy_s, Unit::Seconds)?;
                number(field("wall_fraction"), t.wall_fraction, Unit::Share)?;
                if let Some(cpu) = t.cpu_time_s {
                    number(field("cpu_time_s"), cpu, Unit::Seconds)?;
                }
                if let Some(cpu) = t.cpu_fraction {
                    number(field("cpu_fraction"), cpu, Unit::Share)?;
                }
            }
            // Each thread's ticks are part of the run's (merged or not): more is not a report
            // tickprof wrote.
            let threads_ticks = inside
                .threads
                .iter()
                .try_fold(0_u64, |sum, t| sum.checked_add(t.ticks));
            if threads_ticks.is_none_or(|sum| sum > self.ticks.count) {
                return Err(Invalid {
                    field: "inside_ticks.threads".to_owned(),
                    message: format!(
                        "the threads' ticks add up to {}, more than ticks.count {}",
                        threads_ticks
                            .map_or_else(|| "more than 2^64".to_owned(), |s| s.to_string()),
                        self.ticks.count
                    ),
                });
            }
        }
        latency("unattributed", &self.unattributed)?;
        if let Some(sampling) = &self.sampling {
            if let Some(fraction) = sampling.budget_fraction {
                number(at("sampling.budget_fraction"), fraction, Unit::Fraction)?;
            }
            number(
                at("sampling.cost_ns_per_tick"),
                sampling.cost_ns_per_tick,
                Unit::Nanos,
            )?;
        }
        let o = &self.overhead;
        number(at("overhead.per_span_ns"), o.per_span_ns, Unit::Nanos)?;
        number(
            at("overhead.empty_span_busy_ns"),
            o.empty_span_busy_ns,
            Unit::Nanos,
        )?;
        for (field, value) in [
            ("overhead.nested_span_ns", o.nested_span_ns),
            ("overhead.nested_span_in_run_ns", o.nested_span_in_run_ns),
            ("overhead.layer_ns_per_span", o.layer_ns_per_span),
            ("overhead.tick_check_ns", o.tick_check_ns),
        ] {
            if let Some(value) = value {
                number(at(field), value, Unit::Nanos)?;
            }
        }
        if let Some(slow) = &self.slowest_ticks {
            let lists = [("ticks", &slow.ticks), ("recorded", &slow.recorded)];
            for (list, ticks) in lists {
                for (i, t) in ticks.iter().enumerate() {
                    let field = |name: &str| format!("slowest_ticks.{list}[{i}].{name}");
                    number(|| field("offset_s"), t.offset_s, Unit::Seconds)?;
                    if let Some(d) = &t.dominant {
                        number(
                            || field("dominant.share_percent"),
                            d.share_percent,
                            Unit::Percent,
                        )?;
                    }
                    if let Some(m) = &t.machine {
                        number(|| field("machine.from_ms"), m.from_ms, Unit::Millis)?;
                        number(|| field("machine.to_ms"), m.to_ms, Unit::Millis)?;
                        number(
                            || field("machine.cpu_percent"),
                            m.cpu_percent,
                            Unit::Percent,
                        )?;
                    }
                    if let Some(s) = &t.scheduler {
                        number(|| field("scheduler.from_ms"), s.from_ms, Unit::Millis)?;
                        number(|| field("scheduler.to_ms"), s.to_ms, Unit::Millis)?;
                        if s.to_ms < s.from_ms {
                            return Err(Invalid {
                                field: field("scheduler.to_ms"),
                                message: format!(
                                    "must not be before scheduler.from_ms ({}), got {}",
                                    s.from_ms, s.to_ms
                                ),
                            });
                        }
                    }
                }
            }
        }
        if let Some(l) = &self.loop_comparison {
            number(
                at("loop_comparison.bare_per_s"),
                l.bare_per_s,
                Unit::TicksPerSecond,
            )?;
            number(
                at("loop_comparison.profiled_per_s"),
                l.profiled_per_s,
                Unit::TicksPerSecond,
            )?;
            if let Some(t) = &l.times {
                for (field, value) in [
                    ("loop_comparison.times.bare_s[0]", t.bare_s[0]),
                    ("loop_comparison.times.bare_s[1]", t.bare_s[1]),
                    ("loop_comparison.times.profiled_s", t.profiled_s),
                    (
                        "loop_comparison.times.bare_after_warmup_s[0]",
                        t.bare_after_warmup_s[0],
                    ),
                    (
                        "loop_comparison.times.bare_after_warmup_s[1]",
                        t.bare_after_warmup_s[1],
                    ),
                    (
                        "loop_comparison.times.profiled_after_warmup_s",
                        t.profiled_after_warmup_s,
                    ),
                ] {
                    number(at(field), value, Unit::Seconds)?;
                }
            }
        }
        let Some(r) = &self.resources else {
            return Ok(());
        };
        for (field, value) in [
            ("resources.cpu_percent.mean", r.cpu_percent.mean),
            ("resources.cpu_percent.max", r.cpu_percent.max),
            (
                "resources.cpu_percent_of_machine.mean",
                r.cpu_percent_of_machine.mean,
            ),
            (
                "resources.cpu_percent_of_machine.max",
                r.cpu_percent_of_machine.max,
            ),
        ] {
            if let Some(value) = value {
                number(at(field), value, Unit::Percent)?;
            }
        }
        number(at("resources.cpu_time_s"), r.cpu_time_s, Unit::Seconds)?;
        number(
            at("resources.memory_bytes.mean"),
            r.memory_bytes.mean,
            Unit::Bytes,
        )?;
        for (i, s) in r.samples.iter().enumerate() {
            let field = |name: &str| format!("resources.samples[{i}].{name}");
            number(|| field("elapsed_ms"), s.elapsed_ms, Unit::Millis)?;
            number(|| field("cpu_percent"), s.cpu_percent, Unit::Percent)?;
        }
        Ok(())
    }
}
