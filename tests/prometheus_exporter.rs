//! The exporter over HTTP: what a scrape answers before, during and after a run, bad requests,
//! failing scrapes, and bad addresses.
#![cfg(feature = "prometheus")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::http::{exchange, get, sample};
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
