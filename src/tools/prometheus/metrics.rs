//! What one scrape exposes: a pure function from a [`Report`] (or none, between runs) to
//! Prometheus metric families. No I/O and no clock: the server and the registry collector
//! decide where the report comes from.

use std::borrow::Cow;
use std::fmt;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeCounterValue, EncodeGaugeValue, MetricEncoder, NoLabelSet,
};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::exemplar::Exemplar;

use super::buckets::{Buckets, Layout};
use crate::report::{LatencyStats, Report};

/// Component names exported with their own `component` label; the rest (in name order) are
/// merged into one series labelled [`OTHER_COMPONENTS`]. Each component costs 200 histogram
/// series (198 buckets, `_sum`, `_count`) plus one counter, so the cap bounds a target at about
/// 13,400 series (with the tick histogram's 325).
pub const MAX_COMPONENTS: usize = 64;

/// The `component` label of the series that merges the components past [`MAX_COMPONENTS`].
///
/// No span has this label: a span name that starts with `_` is exported with one more `_` in
/// front (`_other` as `__other`, `__x` as `___x`; see [`component_label`]), so every label
/// that starts with a single `_` is tickprof's own.
pub const OTHER_COMPONENTS: &str = "_other";

/// The `component` label of span `name`: the name itself, with one `_` more in front of a name
/// that starts with `_`. The labels of two names differ whenever the names do, and none is
/// [`OTHER_COMPONENTS`] (a label that starts with a single `_` and then another character), so
/// no span's series can collide with the over-cap merge's. Undo it by removing the first `_`
/// of a label that starts with `__`.
pub fn component_label(name: &str) -> Cow<'_, str> {
    if name.starts_with('_') {
        Cow::Owned(format!("_{name}"))
    } else {
        Cow::Borrowed(name)
    }
}

/// Scrape outcomes of one exporter, as counted by its server or collector.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ScrapeCounts {
    /// Scrapes answered, failed ones included.
    pub(crate) scrapes: u64,
    /// Scrapes whose report could not be taken or encoded.
    pub(crate) errors: u64,
    /// Connections the server could not accept; `None` without a server of tickprof's own
    /// ([`RunMetrics`](super::RunMetrics) in the user's registry).
    pub(crate) accept_errors: Option<u64>,
}

/// One scrape's metrics: the report of the active run (`None` between runs) and the exporter's
/// own counts. A [`Collector`], so the text encoder of `prometheus-client` writes it.
#[derive(Debug)]
pub(crate) struct ScrapeMetrics {
    pub(crate) report: Option<Report>,
    pub(crate) counts: ScrapeCounts,
}

impl Collector for ScrapeMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        encode(self.report.as_ref(), self.counts, &mut encoder)
    }
}

/// Writes every metric family of `report` (or only the exporter's own when `None`).
pub(crate) fn encode(
    report: Option<&Report>,
    counts: ScrapeCounts,
    encoder: &mut DescriptorEncoder,
) -> fmt::Result {
    counter(
        encoder,
        "tickprof_exporter_scrapes",
        "Scrapes answered by this exporter, failed ones included.",
        counts.scrapes,
    )?;
    counter(
        encoder,
        "tickprof_exporter_scrape_errors",
        "Scrapes whose report could not be taken or encoded (answered with HTTP 500).",
        counts.errors,
    )?;
    if let Some(accept_errors) = counts.accept_errors {
        let help = format!(
            "Connections the exporter could not accept. Out of file descriptors or memory, it waits {} ms before accepting again, serving the connections it has meanwhile.",
            super::ACCEPT_BACKOFF.as_millis()
        );
        counter(
            encoder,
            "tickprof_exporter_accept_errors",
            &help,
            accept_errors,
        )?;
    }
    gauge(
        encoder,
        "tickprof_run_active",
        "1 while a profiling run is active; between runs only the exporter's own metrics are exposed.",
        u64::from(report.is_some()),
    )?;
    let Some(report) = report else {
        return Ok(());
    };
    {
        let mut family = encoder.encode_descriptor(
            "tickprof_run_info",
            "The active run: its name (the argument of start_profiling) and start time; always 1.",
            None,
            MetricType::Gauge,
        )?;
        let labels = [
            ("run", report.name.as_str()),
            ("started_at", report.started_at.as_str()),
        ];
        family.encode_family(&labels)?.encode_gauge(&1u64)?;
    }
    counter(
        encoder,
        "tickprof_ticks",
        "Ticks counted in the active run, every tick (exact), timed or not.",
        report.ticks.count,
    )?;
    gauge(
        encoder,
        "tickprof_run_elapsed_seconds",
        "Wall time since the active run started.",
        report.total_time_s,
    )?;
    histogram_family(
        encoder,
        "tickprof_tick_duration_seconds",
        "Busy time per timed tick, net of the instrumentation inside (the report's ticks.latency; its count is the ticks timed).",
        &[(None, buckets_of(&report.ticks.latency, Layout::Tick))],
    )?;
    components(encoder, report)?;
    super::allocations::encode(encoder, report)?;
    resources(encoder, report)?;
    overhead(encoder, report)?;
    dropped(encoder, report)?;
    writers(encoder, report)
}

/// The per-component histogram and span counter, at most [`MAX_COMPONENTS`] names plus
/// [`OTHER_COMPONENTS`].
fn components(encoder: &mut DescriptorEncoder, report: &Report) -> fmt::Result {
    let mut series: Vec<(Option<Cow<'_, str>>, Option<Buckets>)> = Vec::new();
    let mut spans: Vec<(Cow<'_, str>, u64)> = Vec::new();
    let mut other: Option<hdrhistogram::Histogram<u64>> = None;
    let mut other_spans = 0u64;
    let mut over_cap = 0u64;
    for (index, (name, stats)) in report.components.iter().enumerate() {
        if index < MAX_COMPONENTS {
            series.push((
                Some(component_label(name)),
                buckets_of(&stats.latency, Layout::Component),
            ));
            spans.push((component_label(name), stats.count));
            continue;
        }
        over_cap += 1;
        other_spans = other_spans.saturating_add(stats.count);
        // Histograms of one collector share their bounds, so adding does not fail; a blob that
        // does not decode is left out of `_other`.
        if let Ok(h) = stats.latency.decode_histogram("component") {
            match other.as_mut() {
                Some(sum) => {
                    let _ = sum.add(&h);
                }
                None => other = Some(h),
            }
        }
    }
    if over_cap > 0 {
        series.push((
            Some(Cow::Borrowed(OTHER_COMPONENTS)),
            other
                .as_ref()
                .map(|h| Buckets::from_histogram(h, Layout::Component)),
        ));
        spans.push((Cow::Borrowed(OTHER_COMPONENTS), other_spans));
    }
    histogram_family(
        encoder,
        "tickprof_component_duration_seconds",
        "Busy time per component span (span name), net of the instrumentation inside.",
        &series,
    )?;
    {
        let mut family = encoder.encode_descriptor(
            "tickprof_component_spans",
            "Component spans recorded (inside recorded ticks; with sampling, a sample).",
            None,
            MetricType::Counter,
        )?;
        for (name, count) in &spans {
            family
                .encode_family(&[("component", name.as_ref())])?
                .encode_counter::<NoLabelSet, _, u64>(count, None)?;
        }
    }
    gauge(
        encoder,
        "tickprof_components_over_cap",
        "Component names past the cap of 64, merged into component=\"_other\".",
        over_cap,
    )
}

fn resources(encoder: &mut DescriptorEncoder, report: &Report) -> fmt::Result {
    let Some(resources) = report.resources.as_ref() else {
        return Ok(());
    };
    counter(
        encoder,
        "tickprof_cpu_seconds",
        "CPU time (user + system, every thread) the process used during the active run.",
        resources.cpu_time_s,
    )?;
    if let Some(last) = resources.samples.last() {
        gauge(
            encoder,
            "tickprof_resident_memory_bytes",
            "Resident memory at the latest resource sample.",
            last.rss_bytes,
        )?;
    }
    gauge(
        encoder,
        "tickprof_resident_memory_peak_bytes",
        "The OS high-water mark of resident memory during the active run (VmHWM).",
        resources.peak_rss_bytes,
    )?;
    if let Some(max) = resources.cpu_percent.max {
        gauge(
            encoder,
            "tickprof_cpu_busiest_sample_ratio",
            "CPU of the busiest resource sample of the run, in cores (1 = one core busy).",
            max / 100.0,
        )?;
    }
    Ok(())
}

fn overhead(encoder: &mut DescriptorEncoder, report: &Report) -> fmt::Result {
    if let Some(sampling) = report.sampling.as_ref() {
        gauge(
            encoder,
            "tickprof_overhead_per_tick_seconds",
            "What profiling costs the loop per tick, estimated from the calibrated costs.",
            sampling.cost_ns_per_tick / 1e9,
        )?;
        counter(
            encoder,
            "tickprof_ticks_timed",
            "Ticks whose latency is in tickprof_tick_duration_seconds.",
            sampling.ticks_timed,
        )?;
        counter(
            encoder,
            "tickprof_ticks_recorded",
            "Ticks recorded with every span inside them (the components).",
            sampling.ticks_recorded,
        )?;
    }
    gauge(
        encoder,
        "tickprof_span_overhead_seconds",
        "What one recorded span adds to the loop, measured at start_profiling (0: not measured).",
        report.overhead.per_span_ns / 1e9,
    )
}

fn dropped(encoder: &mut DescriptorEncoder, report: &Report) -> fmt::Result {
    let d = &report.dropped;
    let mut family = encoder.encode_descriptor(
        "tickprof_dropped",
        "Records that could not be taken exactly, by reason (the report's dropped.*).",
        None,
        MetricType::Counter,
    )?;
    for (reason, count) in [
        ("overflow", d.overflow),
        ("missing_span_data", d.missing_span_data),
        ("straddled", d.straddled),
        ("clamped", d.clamped),
        ("uncredited_children", d.uncredited_children),
    ] {
        family
            .encode_family(&[("reason", reason)])?
            .encode_counter::<NoLabelSet, _, u64>(&count, None)?;
    }
    Ok(())
}

/// The background writers' saves and failures (checkpoints, the interval log), when on.
fn writers(encoder: &mut DescriptorEncoder, report: &Report) -> fmt::Result {
    let writers: Vec<(&str, &crate::report::WriterStats)> = [
        ("checkpoint", report.checkpoints.as_ref()),
        ("interval_log", report.interval_log.as_ref()),
    ]
    .into_iter()
    .filter_map(|(name, stats)| Some((name, stats?)))
    .collect();
    if writers.is_empty() {
        return Ok(());
    }
    for (family_name, help, failed) in [
        (
            "tickprof_writer_writes",
            "Checkpoints saved or intervals logged by the background writers during the run.",
            false,
        ),
        (
            "tickprof_writer_failures",
            "Background writes that failed (a full disk, a directory removed): the report's checkpoints.failed and interval_log.failed.",
            true,
        ),
    ] {
        let mut family = encoder.encode_descriptor(family_name, help, None, MetricType::Counter)?;
        for (writer, stats) in &writers {
            let value = if failed { stats.failed } else { stats.written };
            family
                .encode_family(&[("writer", *writer)])?
                .encode_counter::<NoLabelSet, _, u64>(&value, None)?;
        }
    }
    Ok(())
}

/// The buckets of a report's latency; `None` if its blob does not decode (a report from
/// `snapshot` always decodes; the series is then left out rather than the scrape failed).
fn buckets_of(latency: &LatencyStats, layout: Layout) -> Option<Buckets> {
    latency
        .decode_histogram("latency")
        .ok()
        .map(|h| Buckets::from_histogram(&h, layout))
}

/// A histogram family: one series per `(component label, buckets)`.
pub(super) fn histogram_family(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    series: &[(Option<Cow<'_, str>>, Option<Buckets>)],
) -> fmt::Result {
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Histogram)?;
    for (component, buckets) in series {
        let Some(b) = buckets else { continue };
        let write = |metric: &mut MetricEncoder| {
            metric.encode_histogram::<NoLabelSet>(b.sum, b.count, &b.buckets, None)
        };
        match component {
            Some(name) => write(&mut family.encode_family(&[("component", name.as_ref())])?)?,
            None => write(&mut family)?,
        }
    }
    Ok(())
}

/// A counter family without labels; the encoder appends `_total` to `name`.
fn counter<V>(encoder: &mut DescriptorEncoder, name: &str, help: &str, value: V) -> fmt::Result
where
    V: EncodeCounterValue,
{
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
    family.encode_counter::<NoLabelSet, V, u64>(&value, None::<&Exemplar<NoLabelSet, u64>>)
}

/// A gauge family without labels.
fn gauge<V>(encoder: &mut DescriptorEncoder, name: &str, help: &str, value: V) -> fmt::Result
where
    V: EncodeGaugeValue,
{
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    family.encode_gauge(&value)
}

#[cfg(test)]
mod tests {
    use prometheus_client::registry::Registry;
    use tracing_subscriber::prelude::*;

    use super::*;
    use crate::test_support;

    fn text(report: Option<Report>, counts: ScrapeCounts) -> String {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(ScrapeMetrics { report, counts }));
        let mut body = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut body, &registry).unwrap();
        body
    }

    /// The value of the sample line `series` (name and labels exactly as written).
    fn sample(body: &str, series: &str) -> Option<f64> {
        body.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .map(|value| value.parse().unwrap())
    }

    #[test]
    fn a_fixture_report_reads_back_exactly() {
        let report = test_support::report(
            "fixture",
            &[2_000, 3_000, 4_000],
            &[("parse", &[500, 1_500]), ("strat\"egy", &[900])],
        );
        let body = text(
            Some(report),
            ScrapeCounts {
                scrapes: 7,
                errors: 2,
                accept_errors: Some(3),
            },
        );
        assert_eq!(sample(&body, "tickprof_exporter_scrapes_total"), Some(7.0));
        assert_eq!(
            sample(&body, "tickprof_exporter_scrape_errors_total"),
            Some(2.0)
        );
        assert_eq!(
            sample(&body, "tickprof_exporter_accept_errors_total"),
            Some(3.0)
        );
        assert_eq!(sample(&body, "tickprof_run_active"), Some(1.0));
        assert_eq!(sample(&body, "tickprof_ticks_total"), Some(3.0));
        assert!(
            body.contains("# TYPE tickprof_ticks_total counter\n"),
            "{body}"
        );
        assert!(body.contains("# TYPE tickprof_tick_duration_seconds histogram\n"));
        assert_eq!(
            sample(&body, "tickprof_tick_duration_seconds_count"),
            Some(3.0)
        );
        let sum = sample(&body, "tickprof_tick_duration_seconds_sum").unwrap();
        assert!((sum - 9e-6).abs() < 1e-8, "{sum}");
        assert_eq!(
            sample(&body, "tickprof_tick_duration_seconds_bucket{le=\"1e-06\"}"),
            Some(0.0),
            "{body}"
        );
        assert_eq!(
            sample(&body, "tickprof_tick_duration_seconds_bucket{le=\"+Inf\"}"),
            Some(3.0)
        );
        // The tick layout's bounds next to 1 µs, and the component layout's (coarser).
        assert_eq!(
            sample(
                &body,
                "tickprof_tick_duration_seconds_bucket{le=\"1.047e-06\"}"
            ),
            Some(0.0),
            "{body}"
        );
        assert_eq!(
            sample(
                &body,
                "tickprof_component_duration_seconds_bucket{component=\"parse\",le=\"1.096e-06\"}"
            ),
            Some(1.0),
            "{body}"
        );
        let series = |family: &str| body.lines().filter(|l| l.starts_with(family)).count();
        assert_eq!(series("tickprof_tick_duration_seconds_bucket{"), 323);
        assert_eq!(
            series("tickprof_component_duration_seconds_bucket{component=\"parse\""),
            198
        );
        assert_eq!(
            sample(
                &body,
                "tickprof_component_duration_seconds_count{component=\"parse\"}"
            ),
            Some(2.0)
        );
        // Label values are escaped by the encoder.
        assert_eq!(
            sample(
                &body,
                "tickprof_component_spans_total{component=\"strat\\\"egy\"}"
            ),
            Some(1.0)
        );
        assert_eq!(
            sample(&body, "tickprof_dropped_total{reason=\"overflow\"}"),
            Some(0.0)
        );
        assert!(
            body.contains(
                "tickprof_run_info{run=\"fixture\",started_at=\"2026-01-01T00:00:00Z\"} 1"
            )
        );
        assert_eq!(sample(&body, "tickprof_components_over_cap"), Some(0.0));
        assert!(
            !body.contains("tickprof_writer_"),
            "no writers, no writer series"
        );
    }

    #[test]
    fn writer_failures_are_counted() {
        let mut report = test_support::report("writers", &[2_000], &[]);
        report.checkpoints = Some(crate::report::WriterStats {
            path: "/full/disk/run.partial.json".to_owned(),
            every_s: 1.0,
            written: 4,
            failed: 3,
            last_error: Some("no space left on device".to_owned()),
            final_written: false,
        });
        let body = text(Some(report), ScrapeCounts::default());
        assert_eq!(
            sample(&body, "tickprof_writer_writes_total{writer=\"checkpoint\"}"),
            Some(4.0)
        );
        assert_eq!(
            sample(
                &body,
                "tickprof_writer_failures_total{writer=\"checkpoint\"}"
            ),
            Some(3.0)
        );
        assert!(!body.contains("writer=\"interval_log\""));
    }

    #[test]
    fn between_runs_only_the_exporter_is_exposed() {
        let body = text(
            None,
            ScrapeCounts {
                scrapes: 1,
                errors: 0,
                accept_errors: None,
            },
        );
        assert_eq!(sample(&body, "tickprof_run_active"), Some(0.0));
        assert!(!body.contains("tickprof_ticks"), "{body}");
        assert!(
            !body.contains("accept_errors"),
            "no server of its own, no accept errors: {body}"
        );
        assert!(!body.contains("tickprof_run_info"), "{body}");
    }

    #[test]
    fn components_past_the_cap_merge_into_other() {
        let names: Vec<String> = (0..MAX_COMPONENTS + 6)
            .map(|i| format!("c{i:03}"))
            .collect();
        let values: Vec<u64> = vec![1_000, 2_000];
        let components: Vec<(&str, &[u64])> = names
            .iter()
            .map(|n| (n.as_str(), values.as_slice()))
            .collect();
        let report = test_support::report("many", &[5_000], &components);
        let body = text(Some(report), ScrapeCounts::default());
        let series = body
            .lines()
            .filter(|l| l.starts_with("tickprof_component_duration_seconds_count{"))
            .count();
        assert_eq!(series, MAX_COMPONENTS + 1);
        assert_eq!(sample(&body, "tickprof_components_over_cap"), Some(6.0));
        // The first 64 names keep their label; the 6 after them are one `_other` series.
        assert!(body.contains("component=\"c063\""));
        assert!(!body.contains("component=\"c064\""));
        assert_eq!(
            sample(
                &body,
                "tickprof_component_duration_seconds_count{component=\"_other\"}"
            ),
            Some(12.0)
        );
        assert_eq!(
            sample(
                &body,
                "tickprof_component_spans_total{component=\"_other\"}"
            ),
            Some(12.0)
        );
    }

    /// Span names are free text: one named `_other` (or `__other`) must not produce a series
    /// beside the over-cap merge's, which Prometheus would drop as a duplicate. Every series of a
    /// family has a label of its own, and the over-cap merge keeps `_other`.
    #[test]
    fn a_span_named_like_the_over_cap_merge_keeps_a_series_of_its_own() {
        let mut names: Vec<String> = (0..MAX_COMPONENTS + 2)
            .map(|i| format!("c{i:03}"))
            .collect();
        names.extend(["_other", "__other", "_x"].map(str::to_owned));
        let components: Vec<(&str, &[u64])> = names
            .iter()
            .map(|n| {
                let values: &[u64] = if n == "_other" { &[2_000] } else { &[1_000] };
                (n.as_str(), values)
            })
            .collect();
        let report = test_support::report("clash", &[5_000], &components);
        let body = text(Some(report), ScrapeCounts::default());
        for family in [
            "tickprof_component_duration_seconds_count{",
            "tickprof_component_spans_total{",
        ] {
            let labels: Vec<&str> = body
                .lines()
                .filter_map(|l| l.strip_prefix(family)?.split_once('}'))
                .map(|(labels, _)| labels)
                .collect();
            let unique: std::collections::BTreeSet<&str> = labels.iter().copied().collect();
            assert_eq!(unique.len(), labels.len(), "duplicate series in {labels:?}");
            assert_eq!(labels.len(), MAX_COMPONENTS + 1, "{labels:?}");
        }
        // Names starting with `_` gain one more: `_other` is `__other`, `__other` is
        // `___other`; the three sort first, so they are within the cap.
        let count = |component: &str| {
            sample(
                &body,
                &format!("tickprof_component_duration_seconds_count{{component=\"{component}\"}}"),
            )
        };
        assert_eq!(count("__other"), Some(1.0));
        assert_eq!(
            sample(
                &body,
                "tickprof_component_duration_seconds_sum{component=\"__other\"}"
            ),
            Some(2e-6),
            "the span's own histogram"
        );
        assert_eq!(count("___other"), Some(1.0));
        assert_eq!(count("__x"), Some(1.0));
        // The over-cap merge: the 5 names past the first 64 in name order.
        assert_eq!(count(OTHER_COMPONENTS), Some(5.0));
        assert_eq!(sample(&body, "tickprof_components_over_cap"), Some(5.0));
    }

    /// A report from a real run: the exported counts are the report's own.
    #[test]
    fn a_real_run_is_exported_whole() {
        let collector = crate::MetricsCollector::builder()
            .sampling(crate::Sampling::full())
            .warmup_ticks(0)
            .measure_overhead(false)
            .without_resource_sampling()
            .build()
            .unwrap();
        let subscriber = tracing_subscriber::registry().with(collector.layer());
        let report = tracing::subscriber::with_default(subscriber, || {
            collector.start_profiling("real").unwrap();
            for i in 0..500u64 {
                let _tick = tracing::info_span!("tick").entered();
                let _parse = tracing::info_span!("parse").entered();
                std::hint::black_box((0..100 + i).sum::<u64>());
            }
            collector.stop_profiling().unwrap()
        });
        let body = text(Some(report.clone()), ScrapeCounts::default());
        assert_eq!(sample(&body, "tickprof_ticks_total"), Some(500.0));
        assert_eq!(
            sample(&body, "tickprof_tick_duration_seconds_count"),
            Some(report.ticks.latency.samples as f64)
        );
        assert_eq!(
            sample(
                &body,
                "tickprof_component_duration_seconds_count{component=\"parse\"}"
            ),
            Some(report.components["parse"].latency.samples as f64)
        );
        assert_eq!(sample(&body, "tickprof_ticks_timed_total"), Some(500.0));
    }
}
