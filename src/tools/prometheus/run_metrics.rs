//! The exporter's metrics for a registry of the user's own: a `prometheus-client`
//! [`Collector`] that takes the active run's snapshot at each encode.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;

use super::metrics::{ScrapeCounts, encode};
use crate::metrics_collector::MetricsCollector;

/// `collector`'s active run as a `prometheus-client` [`Collector`], for an application that
/// serves its own [`Registry`](prometheus_client::registry::Registry): the same metrics as
/// [`serve`](super::serve), taken at each encode.
///
/// A snapshot that fails is counted in `tickprof_exporter_scrape_errors_total` and leaves the
/// run's metrics out of that encode (`tickprof_run_active` reads 0 in it); the rest of the registry is still encoded (a collector
/// cannot fail one family without failing the whole scrape).
///
/// ```
/// use prometheus_client::registry::Registry;
///
/// let collector = tickprof::MetricsCollector::builder().build()?;
/// let mut registry = Registry::default();
/// registry.register_collector(Box::new(tickprof::prometheus::RunMetrics::new(&collector)));
/// let mut text = String::new();
/// prometheus_client::encoding::text::encode(&mut text, &registry).ok();
/// assert!(text.contains("tickprof_run_active 0"));
/// # Ok::<(), tickprof::Error>(())
/// ```
#[derive(Debug)]
pub struct RunMetrics {
    collector: MetricsCollector,
    scrapes: AtomicU64,
    errors: AtomicU64,
}

impl RunMetrics {
    /// Metrics of `collector`'s runs (a handle: the collector goes on starting and stopping
    /// runs as before).
    pub fn new(collector: &MetricsCollector) -> Self {
        RunMetrics {
            collector: collector.clone(),
            scrapes: AtomicU64::new(0),
            errors: AtomicU64::new(0),
        }
    }
}

impl Collector for RunMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        // Relaxed: independent statistics; nothing else is ordered by them.
        let scrapes = self.scrapes.fetch_add(1, Ordering::Relaxed) + 1;
        let report = match super::active_run(&self.collector) {
            Ok(report) => report,
            Err(_) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                None
            }
        };
        let counts = ScrapeCounts {
            scrapes,
            errors: self.errors.load(Ordering::Relaxed),
            // The user's server accepts the connections: its errors are not ours to count.
            accept_errors: None,
        };
        encode(report.as_ref(), counts, &mut encoder)
    }
}
