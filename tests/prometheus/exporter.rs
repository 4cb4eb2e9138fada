//! The exporter over HTTP: what a scrape answers before, during and after a run, bad requests,
//! failing scrapes, and bad addresses.

use crate::common::http::{exchange, get, sample};
use tickprof::{Error, MetricsCollector, Sampling};
use tracing_subscriber::prelude::*;

fn collector() -> MetricsCollector {
    MetricsCollector::builder()
        .sampling(Sampling::full())
        .warmup_ticks(0)
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap()
}

fn ticks(n: u64) {
    for i in 0..n {
        let _tick = tracing::info_span!("tick").entered();
        let _parse = tracing::info_span!("parse").entered();
        std::hint::black_box((0..200 + i % 7).map(|x| x * x).sum::<u64>());
    }
}

/// Between runs only the exporter; during a run the run so far, exactly, with counters that
/// never go backwards; after the run the exporter alone again.
#[test]
fn scrapes_follow_the_active_run() {
    let collector = collector();
    let exporter = tickprof::prometheus::serve(&collector, "127.0.0.1:0").unwrap();
    let addr = exporter.local_addr();

    let (status, body) = get(addr, "/metrics").unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(sample(&body, "tickprof_run_active"), Some(0.0));
    assert_eq!(sample(&body, "tickprof_exporter_scrapes_total"), Some(1.0));
    assert!(!body.contains("tickprof_ticks_total"), "{body}");

    let subscriber = tracing_subscriber::registry().with(collector.layer());
    tracing::subscriber::with_default(subscriber, || {
        collector.start_profiling("live").unwrap();
        let mut emitted = 0;
        let mut previous_timed = 0.0;
        for round in 1..=5 {
            ticks(300);
            emitted += 300;
            let (status, body) = get(addr, "/metrics").unwrap();
            assert_eq!(status, 200, "{body}");
            assert_eq!(sample(&body, "tickprof_run_active"), Some(1.0));
            // Exact: every tick closed before the scrape is in it.
            assert_eq!(sample(&body, "tickprof_ticks_total"), Some(emitted as f64));
            let timed = sample(&body, "tickprof_tick_duration_seconds_count").unwrap();
            assert!(
                timed >= previous_timed,
                "round {round}: {timed} < {previous_timed}"
            );
            previous_timed = timed;
            assert_eq!(
                sample(
                    &body,
                    "tickprof_component_duration_seconds_count{component=\"parse\"}"
                ),
                Some(emitted as f64)
            );
            assert!(body.contains("tickprof_run_info{run=\"live\","), "{body}");
        }
        let report = collector.stop_profiling().unwrap();
        assert_eq!(report.ticks.count, emitted);
    });

    let (_, body) = get(addr, "/metrics").unwrap();
    assert_eq!(sample(&body, "tickprof_run_active"), Some(0.0));
    assert!(!body.contains("tickprof_ticks_total"), "{body}");
    assert_eq!(
        sample(&body, "tickprof_exporter_scrape_errors_total"),
        Some(0.0)
    );
    exporter.shutdown();
}

/// Other paths are 404; other methods on `/metrics` are 405 with the `Allow` header RFC 9110
/// (§15.5.6) requires, naming the methods that are served.
#[test]
fn other_paths_and_methods_are_refused() {
    let exporter = tickprof::prometheus::serve(&collector(), "127.0.0.1:0").unwrap();
    let addr = exporter.local_addr();
    assert_eq!(get(addr, "/").unwrap().0, 404);
    assert_eq!(get(addr, "/metrics/x").unwrap().0, 404);
    for method in ["POST", "PUT", "DELETE", "OPTIONS"] {
        let response = exchange(addr, method, "/metrics").unwrap();
        assert_eq!(response.status, 405, "{method}");
        assert_eq!(
            response.header("allow"),
            Some("GET, HEAD"),
            "{method}: {response:?}"
        );
    }
    let head = exchange(addr, "HEAD", "/metrics").unwrap();
    assert_eq!(head.status, 200);
    assert_eq!(head.body, "", "a HEAD response has no body");
    let (status, body) = get(addr, "/metrics?x=1").unwrap();
    assert_eq!(status, 200, "{body}");
}

/// A scrape whose report cannot be taken is a 500 with the reason, and counted.
#[test]
fn a_failing_scrape_is_a_counted_500() {
    let failing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let fails = failing.clone();
    let exporter = tickprof::prometheus::serve_with("127.0.0.1:0", move || {
        if fails.load(std::sync::atomic::Ordering::SeqCst) {
            Err(Error::Config("the source is broken".to_owned()))
        } else {
            Ok(None)
        }
    })
    .unwrap();
    let addr = exporter.local_addr();
    for _ in 0..2 {
        let (status, body) = get(addr, "/metrics").unwrap();
        assert_eq!(status, 500);
        assert_eq!(
            body,
            "tickprof: scrape failed: invalid configuration: the source is broken\n"
        );
    }
    failing.store(false, std::sync::atomic::Ordering::SeqCst);
    let (status, body) = get(addr, "/metrics").unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        sample(&body, "tickprof_exporter_scrape_errors_total"),
        Some(2.0)
    );
    assert_eq!(sample(&body, "tickprof_exporter_scrapes_total"), Some(3.0));
}

/// An address in use, or not an address, is an error at setup that names it.
#[test]
fn bad_addresses_are_named() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let err = tickprof::prometheus::serve(&collector(), &address).unwrap_err();
    assert!(matches!(err, Error::Listen { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with(&format!("cannot serve metrics on {address}: ")),
        "{message}"
    );
    assert!(message.to_lowercase().contains("in use"), "{message}");

    for bad in ["not an address", "127.0.0.1", "127.0.0.1:99999"] {
        let err = tickprof::prometheus::serve(&collector(), bad).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("cannot serve metrics on {bad}: ")),
            "{err}"
        );
    }
}

/// Within a run every counter only grows, as the exporter promises (Prometheus's `rate()` reads
/// a decrease as a counter reset): each bucket, `_sum` and `_count` of every histogram and each
/// `_total`, scrape after scrape, with sampling and the calibration on and a component that
/// holds a span (its busy time compensated for it). Buckets and `_sum` of such a component
/// went backwards (`le=1e-08` 38 → 29): each report recomputed the in-run nested-span cost and
/// shifted the component's whole histogram again; now every value is final when recorded.
#[test]
fn counters_never_go_backwards_within_a_run() {
    let collector = MetricsCollector::builder()
        .sampling(Sampling::one_in(2))
        .warmup_ticks(0)
        .without_resource_sampling()
        .build()
        .unwrap();
    let exporter = tickprof::prometheus::serve(&collector, "127.0.0.1:0").unwrap();
    let addr = exporter.local_addr();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
    collector.start_profiling("monotonic").unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ticker = {
        let stop = std::sync::Arc::clone(&stop);
        std::thread::spawn(move || {
            tracing::dispatcher::with_default(&dispatch, || {
                let mut i = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _tick = tracing::info_span!("tick").entered();
                    let _parse = tracing::info_span!("parse").entered();
                    let _inner = tracing::info_span!("inner").entered();
                    std::hint::black_box((0..50 + i % 200).sum::<u64>());
                    i += 1;
                }
            });
        })
    };
    /// Series whose value may only grow within a run.
    fn monotonic(series: &str) -> bool {
        let name = series.split('{').next().unwrap_or(series);
        name.ends_with("_total")
            || name.ends_with("_bucket")
            || name.ends_with("_sum")
            || name.ends_with("_count")
    }
    let mut previous: std::collections::BTreeMap<String, f64> = Default::default();
    let mut backwards = Vec::new();
    for scrape in 0..40 {
        std::thread::sleep(std::time::Duration::from_millis(10));
        let (status, body) = get(addr, "/metrics").unwrap();
        assert_eq!(status, 200, "{body}");
        for line in body.lines().filter(|l| !l.starts_with('#')) {
            let Some((series, value)) = line.rsplit_once(' ') else {
                continue;
            };
            if !monotonic(series) {
                continue;
            }
            let value: f64 = value.parse().unwrap();
            if let Some(&before) = previous.get(series)
                && value < before
            {
                backwards.push(format!("scrape {scrape}: {series} {before} -> {value}"));
            }
            previous.insert(series.to_owned(), value);
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    ticker.join().unwrap();
    collector.stop_profiling().unwrap();
    exporter.shutdown();
    assert!(
        backwards.is_empty(),
        "{} decreases, the first: {:#?}",
        backwards.len(),
        &backwards[..backwards.len().min(10)]
    );
}
