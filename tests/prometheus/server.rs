//! The exporter against a real Prometheus server (Debian's `prometheus` binary): it scrapes a
//! live run every second, and what its query API answers agrees with the run's report; its
//! `histogram_quantile` over the tick histogram is within 5 % of the report's p50, p90 and p99
//! for ticks from 100 ns to 10 ms (fixture reports, one exporter each), and for a real loop's
//! ticks under 1 µs in a release build (`.ci/run` runs this module with `--release` too; a debug
//! build says that test was skipped).
//!
//! Without the binary the test says it was skipped and why, and passes; with
//! `TICKPROF_REQUIRE_PROMETHEUS=1` (set by `.ci/run`) a missing binary fails it.
//! `TICKPROF_PROMETHEUS_BIN` names another binary than `/usr/bin/prometheus` or `$PATH`'s.

use crate::common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::http::{encode_query, get};
use tickprof::{MetricsCollector, Sampling};
use tracing_subscriber::prelude::*;

/// The Prometheus binary, or why there is none.
fn prometheus_binary() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("TICKPROF_PROMETHEUS_BIN") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "TICKPROF_PROMETHEUS_BIN={} is not a file",
                path.display()
            ))
        };
    }
    let in_path = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default();
    std::iter::once(PathBuf::from("/usr/bin"))
        .chain(in_path)
        .map(|dir| dir.join("prometheus"))
        .find(|path| path.is_file())
        .ok_or_else(|| {
            "no `prometheus` binary in /usr/bin or $PATH (apt-get install prometheus)".to_owned()
        })
}

/// A Prometheus server of this test's own, killed and reaped when dropped (a failing assertion
/// included).
struct Server {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts Prometheus on a free loopback port, scraping `targets` every second, and waits
    /// until it is ready. Retries on another port if the chosen one was taken meanwhile.
    fn start(binary: &Path, targets: &[SocketAddr]) -> Server {
        let mut failures = Vec::new();
        for _ in 0..3 {
            match Self::try_start(binary, targets) {
                Ok(server) => return server,
                Err(why) => failures.push(why),
            }
        }
        panic!("prometheus did not start: {failures:#?}");
    }

    fn try_start(binary: &Path, targets: &[SocketAddr]) -> Result<Server, String> {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("prometheus.yml");
        let targets: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: tickprof\n    static_configs:\n      - targets: [{}]\n",
                targets.join(", ")
            ),
        )
        .unwrap();
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap();
        let log = dir.path().join("prometheus.log");
        let log_file = std::fs::File::create(&log).unwrap();
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("{}: {e}", binary.display()))?;
        let mut server = Server {
            child,
            addr,
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = server.child.try_wait().unwrap() {
                return Err(format!("exited with {status}: {}", server.log_text()));
            }
            if matches!(get(addr, "/-/ready"), Ok((200, _))) {
                return Ok(server);
            }
            if Instant::now() > deadline {
                return Err(format!("not ready after 60 s: {}", server.log_text()));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The values of an instant query's vector result, with their labels.
    fn query(&self, promql: &str) -> Vec<(serde_json::Value, f64)> {
        let path = format!("/api/v1/query?query={}", encode_query(promql));
        let (status, body) = get(self.addr, &path).unwrap();
        assert_eq!(status, 200, "{promql}: {body}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["status"], "success", "{promql}: {body}");
        json["data"]["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["metric"].clone(),
                    r["value"][1].as_str().unwrap().parse().unwrap(),
                )
            })
            .collect()
    }

    /// The one value of `promql`, once there is exactly one.
    fn scalar(&self, promql: &str) -> Option<f64> {
        match self.query(promql).as_slice() {
            [(_, value)] => Some(*value),
            _ => None,
        }
    }

    /// Polls `promql` until it equals `want` (a scrape after the last change), or fails with
    /// what it read and the server's log.
    fn wait_for_value(&self, promql: &str, want: f64) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut last = None;
        while Instant::now() < deadline {
            last = self.scalar(promql);
            if last == Some(want) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "{promql}: {last:?} after 30 s, want {want}\n{}",
            self.log_text()
        );
    }
}

/// Real work of varied length: tens to hundreds of µs per span in a test build.
fn work(units: u64) -> u64 {
    let mut x = units;
    for i in 0..units * 40 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(i) ^ (x >> 17);
    }
    std::hint::black_box(x)
}

fn tick(i: u64) {
    let _tick = tracing::info_span!("tick").entered();
    {
        let _parse = tracing::info_span!("parse").entered();
        // Mostly short, one in 50 ten times longer: a p99 well above the median.
        let units = if i.is_multiple_of(50) {
            300
        } else {
            20 + i % 13
        };
        work(units);
    }
    {
        let _strategy = tracing::info_span!("strategy").entered();
        work(10 + i % 5);
    }
}

/// Relative difference of an estimate from the report's value.
fn relative(estimate_s: f64, report_ns: u64) -> f64 {
    (estimate_s * 1e9 - report_ns as f64).abs() / report_ns as f64
}

/// The Prometheus binary for `test`, or `None` (said on stderr) when there is none and none is
/// required.
fn binary_for(test: &str) -> Option<PathBuf> {
    match prometheus_binary() {
        Ok(binary) => Some(binary),
        Err(why) if std::env::var("TICKPROF_REQUIRE_PROMETHEUS").as_deref() == Ok("1") => {
            panic!("TICKPROF_REQUIRE_PROMETHEUS=1 but {why}")
        }
        Err(why) => {
            eprintln!("skipped {test}: {why}");
            None
        }
    }
}

#[test]
fn prometheus_scrapes_agree_with_the_report() {
    let Some(binary) = binary_for("prometheus_scrapes_agree_with_the_report") else {
        return;
    };
    let collector = MetricsCollector::builder()
        .sampling(Sampling::full())
        .build()
        .unwrap();
    let exporter = tickprof::prometheus::serve(&collector, "127.0.0.1:0").unwrap();
    let server = Server::start(&binary, &[exporter.local_addr()]);

    let subscriber = tracing_subscriber::registry().with(collector.layer());
    tracing::subscriber::with_default(subscriber, || {
        collector.start_profiling("prometheus-it").unwrap();
        let mut emitted = 0;
        // Two rounds, each compared at a scrape taken after its last tick: the counter is exact.
        for round in 0..2 {
            for _ in 0..3_000 {
                tick(emitted);
                emitted += 1;
            }
            server.wait_for_value("tickprof_ticks_total{job=\"tickprof\"}", emitted as f64);
            assert_eq!(
                server.scalar("up{job=\"tickprof\"}"),
                Some(1.0),
                "round {round}"
            );
        }
        // No tick since the last scrape: the snapshot is the run Prometheus scraped.
        let report = collector.snapshot().unwrap();
        assert_eq!(report.ticks.count, emitted);
        assert_eq!(
            server.scalar("tickprof_ticks_total"),
            Some(report.ticks.count as f64)
        );
        assert_eq!(
            server.scalar("tickprof_tick_duration_seconds_count"),
            Some(report.ticks.latency.samples as f64)
        );

        let tick_p99 = report.ticks.latency.p99_ns;
        let parse_p99 = report.components["parse"].latency.p99_ns;
        for p99 in [tick_p99, parse_p99] {
            assert!(
                (1_000..1_000_000_000).contains(&p99),
                "p99 {p99} ns: outside 1 µs .. 1 s"
            );
        }
        let tick_estimate = server
            .scalar("histogram_quantile(0.99, tickprof_tick_duration_seconds_bucket)")
            .unwrap();
        let parse_estimate = server
            .scalar(
                "histogram_quantile(0.99, tickprof_component_duration_seconds_bucket{component=\"parse\"})",
            )
            .unwrap();
        eprintln!(
            "tick p99: report {tick_p99} ns, prometheus {:.0} ns ({:.2} %); parse p99: report {parse_p99} ns, prometheus {:.0} ns ({:.2} %)",
            tick_estimate * 1e9,
            100.0 * relative(tick_estimate, tick_p99),
            parse_estimate * 1e9,
            100.0 * relative(parse_estimate, parse_p99),
        );
        // Within the bucket resolution: a 10 % wide bucket (ratio ≤ 1.0976).
        assert!(relative(tick_estimate, tick_p99) <= 0.10);
        assert!(relative(parse_estimate, parse_p99) <= 0.10);

        // Both components are there, and the run's name.
        let components = server.query("tickprof_component_spans_total");
        assert_eq!(components.len(), 2, "{components:?}");
        let info = server.query("tickprof_run_info");
        assert_eq!(info.len(), 1);
        assert_eq!(info[0].0["run"], "prometheus-it");

        let report = collector.stop_profiling().unwrap();
        assert_eq!(report.ticks.count, emitted);
    });
    // Between runs the exporter says so.
    server.wait_for_value("tickprof_run_active", 0.0);
    drop(server);
    exporter.shutdown();
}

/// `histogram_quantile(q, …)` of the tick histogram for every target, by `instance`, once each
/// target has been scraped with the ticks it serves (`want_counts`, by instance).
fn tick_quantiles(
    server: &Server,
    want_counts: &BTreeMap<String, f64>,
) -> BTreeMap<String, [f64; 3]> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let counts: BTreeMap<String, f64> = server
            .query("tickprof_tick_duration_seconds_count")
            .into_iter()
            .map(|(labels, v)| (labels["instance"].as_str().unwrap().to_owned(), v))
            .collect();
        if &counts == want_counts {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "counts {counts:?} after 30 s, want {want_counts:?}\n{}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut quantiles: BTreeMap<String, [f64; 3]> = BTreeMap::new();
    for (i, q) in QUANTILES.iter().enumerate() {
        let promql = format!("histogram_quantile({q}, tickprof_tick_duration_seconds_bucket)");
        for (labels, value) in server.query(&promql) {
            let instance = labels["instance"].as_str().unwrap().to_owned();
            quantiles.entry(instance).or_default()[i] = value;
        }
    }
    quantiles
}

const QUANTILES: [f64; 3] = [0.5, 0.9, 0.99];

/// The report's p50, p90 and p99.
fn report_quantiles(latency: &tickprof::LatencyStats) -> [u64; 3] {
    [latency.p50_ns, latency.p90_ns, latency.p99_ns]
}

/// Tick histograms from 100 ns to 10 ms, each served by an exporter of its own and scraped by
/// one server: PromQL's p50, p90 and p99 are within 5 % of the report's, for point masses
/// just past a bucket's lower bound (the worst case of interpolation) and for spreads.
#[test]
fn quantiles_within_five_percent_from_100ns_to_10ms() {
    let Some(binary) = binary_for("quantiles_within_five_percent_from_100ns_to_10ms") else {
        return;
    };
    // (name, tick values in ns): every percentile between 100 ns and 10 ms.
    let mut fixtures: Vec<(String, Vec<u64>)> = Vec::new();
    for ns in [
        100, 137, 203, 317, 480, 733, 1_000, 2_200, 9_600, 47_000, 180_000,
    ] {
        // Spread over ns .. 3 ns, with a tail of 1 % at 20 ns.
        let values: Vec<u64> = (0..1_000u64)
            .map(|i| {
                if i < 990 {
                    ns + ns * 2 * i / 989
                } else {
                    20 * ns
                }
            })
            .collect();
        fixtures.push((format!("spread-{ns}"), values));
    }
    // Point masses one nanosecond (or 0.1 %) past where the old layout's buckets began: the
    // estimate is the whole bucket away from them.
    for ns in [101, 160, 252, 399, 632, 1_001, 3_100_000, 9_900_000] {
        fixtures.push((format!("point-{ns}"), vec![ns; 500]));
    }
    let reports: Vec<(String, tickprof::Report)> = fixtures
        .iter()
        .map(|(name, values)| (name.clone(), common::report(name, values, &[])))
        .collect();
    let exporters: Vec<tickprof::prometheus::Exporter> = reports
        .iter()
        .map(|(_, report)| {
            let report = report.clone();
            tickprof::prometheus::serve_with("127.0.0.1:0", move || Ok(Some(report.clone())))
                .unwrap()
        })
        .collect();
    let targets: Vec<SocketAddr> = exporters.iter().map(|e| e.local_addr()).collect();
    let server = Server::start(&binary, &targets);

    let want_counts = targets
        .iter()
        .zip(&reports)
        .map(|(addr, (_, r))| (addr.to_string(), r.ticks.latency.samples as f64))
        .collect();
    let quantiles = tick_quantiles(&server, &want_counts);
    let mut worst: f64 = 0.0;
    for (addr, (name, report)) in targets.iter().zip(&reports) {
        let estimates = quantiles[&addr.to_string()];
        for ((q, estimate), want) in QUANTILES
            .iter()
            .zip(estimates)
            .zip(report_quantiles(&report.ticks.latency))
        {
            assert!(
                (100..=10_000_000).contains(&want),
                "{name}: p{} {want} ns is outside 100 ns .. 10 ms",
                q * 100.0
            );
            let error = relative(estimate, want);
            assert!(
                error <= 0.05,
                "{name}: p{}: report {want} ns, prometheus {:.1} ns ({:.2} %)",
                q * 100.0,
                estimate * 1e9,
                100.0 * error
            );
            worst = worst.max(error);
        }
    }
    eprintln!(
        "{} tick histograms from 100 ns to 10 ms: worst PromQL p50/p90/p99 {:.2} % from the report",
        reports.len(),
        100.0 * worst
    );
    drop(server);
    drop(exporters);
}

/// A real loop whose ticks take under 1 µs (a release build): PromQL's p50, p90 and p99 of the
/// tick within 5 % of the report's, and of its 0.2 µs component within 10 %.
#[test]
fn sub_microsecond_ticks_agree_within_five_percent() {
    if cfg!(debug_assertions) {
        eprintln!(
            "skipped sub_microsecond_ticks_agree_within_five_percent: a debug build's ticks are \
             not under 1 µs (.ci/run runs this module with --release)"
        );
        return;
    }
    let Some(binary) = binary_for("sub_microsecond_ticks_agree_within_five_percent") else {
        return;
    };
    let collector = MetricsCollector::builder()
        .sampling(Sampling::full())
        .build()
        .unwrap();
    let exporter = tickprof::prometheus::serve(&collector, "127.0.0.1:0").unwrap();
    let server = Server::start(&binary, &[exporter.local_addr()]);
    let subscriber = tracing_subscriber::registry().with(collector.layer());
    let report = tracing::subscriber::with_default(subscriber, || {
        collector.start_profiling("sub-microsecond").unwrap();
        let ticks = 200_000u64;
        for i in 0..ticks {
            let _tick = tracing::info_span!("tick").entered();
            let _parse = tracing::info_span!("parse").entered();
            // 300–600 ns of work (the clock's 10 ns steps are then under 3 % of a value), one
            // tick in 20 about twice as long: p50, p90 and p99 apart and none on the jump
            // between the two, all in the decades of 50 buckets (from 100 ns).
            work(if i % 20 == 0 { 20 } else { 8 + i % 3 });
        }
        server.wait_for_value("tickprof_ticks_total", ticks as f64);
        // No tick since that scrape: the snapshot is what Prometheus scraped.
        let report = collector.snapshot().unwrap();
        collector.stop_profiling().unwrap();
        report
    });
    let tick = report_quantiles(&report.ticks.latency);
    let parse = report_quantiles(&report.components["parse"].latency);
    assert!(
        (100..1_000).contains(&tick[0]),
        "the tick's p50 is {} ns, not between 100 ns (where the tick's buckets are 50 per \
         decade) and 1 µs",
        tick[0]
    );
    for (family, want, limit) in [
        ("tickprof_tick_duration_seconds_bucket", tick, 0.05),
        (
            "tickprof_component_duration_seconds_bucket{component=\"parse\"}",
            parse,
            0.10,
        ),
    ] {
        for (q, want) in QUANTILES.iter().zip(want) {
            let estimate = server
                .scalar(&format!("histogram_quantile({q}, {family})"))
                .unwrap();
            let error = relative(estimate, want);
            eprintln!(
                "{family} p{}: report {want} ns, prometheus {:.1} ns ({:.2} %)",
                q * 100.0,
                estimate * 1e9,
                100.0 * error
            );
            assert!(
                error <= limit,
                "{family} p{}: {:.2} %",
                q * 100.0,
                100.0 * error
            );
        }
    }
    drop(server);
    exporter.shutdown();
}
