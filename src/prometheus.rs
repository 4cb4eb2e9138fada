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
//! The server answers `GET` and `HEAD` on `/metrics`; another method is a 405 with
//! `Allow: GET, HEAD`, another path a 404. Out of file descriptors (`EMFILE`, `ENFILE`) or
//! memory, it waits [`ACCEPT_BACKOFF`] before accepting again instead of retrying at once, goes
//! on serving the connections it has, and counts each failed accept in
//! `tickprof_exporter_accept_errors_total`.

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
