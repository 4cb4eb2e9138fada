//! A Prometheus exporter for the active run (feature `prometheus`): `GET /metrics` in the
//! Prometheus text format (0.0.4), encoded by the official `prometheus-client` crate.
//!
//! Each scrape takes the report so far and exposes it whole: the tick counter, tick and
//! component latency as histograms in seconds (buckets counted exactly from the report's
//! HdrHistograms), CPU and memory, the profiler's own cost and its drop
//! counters, and the exporter's own scrape counters. Between runs only the exporter's own
//! metrics and `tickprof_run_active 0` are exposed, so the run's series go stale in Prometheus
//! rather than repeat old values; a new run starts its counters from 0, which `rate` and
//! `increase` read as a counter reset.
//!
//! # Buckets and their accuracy
//!
//! Bucket counts are exact: each is the number of the report's HdrHistogram values at or
//! below its bound (HdrHistogram keeps values within 0.1 %, and the report's percentiles are
//! those same values). `histogram_quantile` interpolates linearly inside the bucket that holds
//! the wanted rank, and the report's percentile lies in that same bucket, so the estimate is
//! off by at most the bucket's ratio − 1, whatever the distribution. Bounds are geometric,
//! rounded to four significant figures (`1e-07`, `1.047e-07`, `1.096e-07`, …):
//!
//! | histogram | buckets per decade | PromQL p50/p90/p99 against the report's | bounds |
//! |---|---|---|---|
//! | `tickprof_tick_duration_seconds` | 50 from 100 ns to 10 ms, 25 from 10 ms to 1 s, 5 from 10 ns to 100 ns and from 1 s to 1000 s | within 5 % from 100 ns to 10 ms, 10 % to 1 s | 322 and `+Inf` |
//! | `tickprof_component_duration_seconds` | 25 from 100 ns to 1 s, 5 from 10 ns to 100 ns and from 1 s to 1000 s | within 10 % from 100 ns to 1 s | 197 and `+Inf` |
//!
//! Ticks of backtesting engines take 0.1 to 10 µs, where 5 per decade (before) read p99
//! 13–25 % high; the tick histogram gets the finest buckets because there is one of it and up to
//! 65 component histograms. Measured: unit tests sweep point masses and spreads over each
//! range (worst case 4.66 % for the tick, 9.55 % for a component), and
//! `tests/prometheus/server.rs` asks a real Prometheus 2.42 for `histogram_quantile` of 19
//! fixture histograms from 100 ns to 10 ms (worst 4.55 %) and of a release build's loop whose
//! ticks take 110–340 ns (within 3.8 %).
//!
//! # Series
//!
//! A tick histogram is 325 series (323 buckets, `_sum`, `_count`), a component's 200, plus one
//! `tickprof_component_spans_total` each. The first [`MAX_COMPONENTS`] span names in name
//! order are exported with their own `component` label; the rest are merged exactly
//! (histograms added) into `component="_other"` ([`OTHER_COMPONENTS`]) and counted in
//! `tickprof_components_over_cap`. A span name that starts with `_` is exported with one more
//! `_` in front (`_other` as `__other`; [`component_label`]), so no span's series can be the
//! over-cap merge's. With 20 components a scrape has about 4,400 series; at the cap, about
//! 13,400.
//!
//! What the finer buckets cost, on `benches/scrape.rs`'s run of 20 components: 4,369 samples
//! and 342 KB of text per scrape, against 3,803 and 299 KB with the earlier layout (176 bounds
//! in every histogram, 5 per decade below 1 µs); encoding a scrape (decoding 21 histograms,
//! counting their buckets, writing the text) takes 37.5 M instructions against 35.8 M (+4.6 %;
//! callgrind, `--toggle-collect` on the encoder). Walking the HdrHistogram dominates the bucket
//! counting, not the number of bounds.
//!
//! # Allocations
//!
//! When the run counted allocations (a [`CountingAllocator`](crate::CountingAllocator)
//! installed: the report's `ticks.allocations` and `components.<name>.allocations`), four more
//! histogram families, absent otherwise: `tickprof_tick_allocations` and
//! `tickprof_tick_allocated_bytes` (per tick), `tickprof_component_allocations` and
//! `tickprof_component_allocated_bytes` (per component span, its children's excluded; the same
//! `component` labels and cap as the latency). Buckets are counted exactly from the report's
//! histograms: allocations at 0, 1, 2, 4, … 2²⁴ (26 bounds), bytes at 0, 16, 64, … 4 GiB
//! (16 bounds); `le="0"` counts the spans that made no allocation, so
//! `1 - bucket{le="0"} / count` is the share that allocated. They add 48 series for the tick
//! and 48 per component (27 and 17 buckets, each family's `_sum` and `_count`): about 3,200
//! more at the cap.
//!
//! # The server
//!
//! The server answers `GET` and `HEAD` on `/metrics`; another method is a 405 with
//! `Allow: GET, HEAD`, another path a 404. Out of file descriptors (`EMFILE`, `ENFILE`) or
//! memory, it waits [`ACCEPT_BACKOFF`] before accepting again instead of retrying at once, goes
//! on serving the connections it has, and counts each failed accept in
//! `tickprof_exporter_accept_errors_total`.

mod allocations;
mod buckets;
mod metrics;
mod run_metrics;
mod server;

use std::sync::Arc;

pub use metrics::{MAX_COMPONENTS, OTHER_COMPONENTS, component_label};
pub use run_metrics::RunMetrics;
pub use server::{ACCEPT_BACKOFF, Exporter};

use crate::error::{Error, Result};
use crate::metrics_collector::MetricsCollector;
use crate::report::Report;

/// Serves `collector`'s active run on `http://ADDRESS/metrics`: each scrape takes
/// [`MetricsCollector::snapshot`], so Prometheus sees the run live, while it goes on.
///
/// Between runs a scrape exposes only the exporter's own metrics and `tickprof_run_active 0`
/// (see the module docs). The server runs on a thread of its own until the [`Exporter`] is shut
/// down or dropped. `address` is anything `std::net::TcpListener::bind` takes as a string
/// (`"127.0.0.1:9464"`, `"[::1]:0"`, `"localhost:9464"`); port 0 picks a free port
/// ([`Exporter::local_addr`]).
///
/// ```
/// let collector = tickprof::MetricsCollector::builder().build()?;
/// let exporter = tickprof::prometheus::serve(&collector, "127.0.0.1:0")?;
/// println!("scrape http://{}/metrics", exporter.local_addr());
/// exporter.shutdown(); // or drop it
/// # Ok::<(), tickprof::Error>(())
/// ```
///
/// # Errors
/// [`Error::Listen`] naming `address` if it is not an address, is in use, or is not local.
pub fn serve(collector: &MetricsCollector, address: &str) -> Result<Exporter> {
    let collector = collector.clone();
    serve_with(address, move || active_run(&collector))
}

/// The active run's snapshot, `None` between runs.
pub(crate) fn active_run(collector: &MetricsCollector) -> Result<Option<Report>> {
    match collector.snapshot() {
        Ok(report) => Ok(Some(report)),
        Err(Error::NotProfiling) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Serves the reports `source` returns on `http://ADDRESS/metrics`, one call per scrape:
/// `Ok(Some(report))` exposes the report, `Ok(None)` only the exporter's own metrics (between
/// runs), and an error answers the scrape with HTTP 500 and the error's message, counted in
/// `tickprof_exporter_scrape_errors_total`.
///
/// The server runs on a thread of its own until the [`Exporter`] is shut down or dropped.
/// `address` is anything `std::net::TcpListener::bind` takes as a string (`"127.0.0.1:9464"`,
/// `"[::1]:0"`, `"localhost:9464"`); port 0 picks a free port ([`Exporter::local_addr`]).
///
/// # Errors
/// [`Error::Listen`] naming `address` if it is not an address, is in use,
/// or is not local.
pub fn serve_with<F>(address: &str, source: F) -> Result<Exporter>
where
    F: Fn() -> Result<Option<Report>> + Send + Sync + 'static,
{
    server::start(address, Arc::new(source))
}
