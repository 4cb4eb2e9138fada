//! The slowest ticks as a Chrome Trace Event file, which ui.perfetto.dev and chrome://tracing
//! open: `{"traceEvents": [...]}` with complete (`"ph": "X"`) events, `ts`/`dur` in µs (with
//! ns as decimals), and metadata (`"ph": "M"`) events naming the process and each track.
//!
//! Each slow tick gets its own track (`tid`), named after the tick, so the slowest can be laid
//! side by side; its components nest under it exactly as recorded (every event lies within its
//! parent: the report clamps each span into its parent's extent). Times are relative to the
//! earliest tick listed, whose wall-clock start is in `otherData`.

use std::path::Path;

use serde_json::{Value, json};

use super::summary::thousands;
use super::{Report, SlowTick};
use crate::atomic_file;
use crate::error::Result;

/// ns → µs with the ns kept as decimals (`1234567` → `1234.567`).
fn micros(ns: u64) -> f64 {
    ns as f64 / 1_000.0
}

fn track_name(rank: usize, tick: &SlowTick) -> String {
    let ordinal = match tick.ordinal {
        0 => "?".to_owned(),
        n => thousands(n),
    };
    let run = tick
        .run
        .as_ref()
        .map_or_else(String::new, |r| format!("{r}, "));
    let kind = if tick.recorded { "" } else { ", timed only" };
    let fields = match tick.fields.as_slice() {
        [] => String::new(),
        fields => format!(" {}", super::tick_fields::joined(fields)),
    };
    format!(
        "#{rank} tick {ordinal}{fields} ({run}{}{kind}): {}",
        tick.thread,
        super::slow_ticks::duration(tick.latency_ns)
    )
}

impl Report {
    /// The slowest ticks as a Chrome Trace Event document (see [`Report::write_chrome_trace`]);
    /// `traceEvents` is empty when the report has none.
    pub fn chrome_trace(&self) -> Value {
        let pid = 1;
        let mut events = vec![json!({
            "name": "process_name", "ph": "M", "pid": pid, "tid": 0,
            "args": {"name": format!("tickprof: {} (slowest ticks)", self.name)},
        })];
        let ticks: Vec<&SlowTick> = self
            .slowest_ticks
            .as_ref()
            .map(|s| s.all().collect())
            .unwrap_or_default();
        let base = ticks.iter().map(|t| t.start_unix_ns).min().unwrap_or(0);
        for (i, tick) in ticks.iter().enumerate() {
            let tid = i + 1;
            let start = tick.start_unix_ns - base;
            events.push(json!({
                "name": "thread_name", "ph": "M", "pid": pid, "tid": tid,
                "args": {"name": track_name(tid, tick)},
            }));
            events.push(json!({
                "name": "thread_sort_index", "ph": "M", "pid": pid, "tid": tid,
                "args": {"sort_index": tid},
            }));
            let mut args = json!({
                "ordinal": tick.ordinal,
                "thread": tick.thread,
                "started_at": tick.started_at,
                "latency_ns": tick.latency_ns,
                "raw_ns": tick.raw_ns,
                "recorded": tick.recorded,
            });
            if let Some(map) = args.as_object_mut() {
                if let Some(d) = &tick.dominant {
                    map.insert("dominant".to_owned(), json!(d.label(tick.latency_ns)));
                }
                // The tick's own fields (`fields.seq`), beside the other args Perfetto shows.
                for field in &tick.fields {
                    map.entry(format!("fields.{}", field.name))
                        .or_insert_with(|| json!(field.value));
                }
            }
            events.push(json!({
                "name": "tick", "cat": "tick", "ph": "X", "pid": pid, "tid": tid,
                "ts": micros(start), "dur": micros(tick.wall_ns), "args": args,
            }));
            for span in &tick.timeline {
                events.push(json!({
                    "name": span.name, "cat": "component", "ph": "X", "pid": pid, "tid": tid,
                    "ts": micros(start.saturating_add(span.offset_ns)), "dur": micros(span.duration_ns),
                    "args": {"busy_ns": span.busy_ns, "depth": span.depth},
                }));
            }
        }
        json!({
            "traceEvents": events,
            "displayTimeUnit": "ns",
            "otherData": {
                "report": self.name,
                "first_tick_unix_ns": base,
                "note": "ts are µs from the earliest tick listed (first_tick_unix_ns); one track per slow tick",
            },
        })
    }

    /// Writes [`Report::chrome_trace`] to `path`, atomically (a reader never sees half a file).
    ///
    /// # Errors
    /// [`Error::Io`](crate::Error::Io) naming the path that could not be written.
    pub fn write_chrome_trace(&self, path: impl AsRef<Path>) -> Result<()> {
        let text = serde_json::to_string(&self.chrome_trace()).unwrap_or_default();
        atomic_file::write(path, text.as_bytes())
    }
}
