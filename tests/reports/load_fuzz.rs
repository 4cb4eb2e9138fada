//! `Report::load` over mutated reports: flipped bytes, truncations, numbers replaced by huge,
//! negative, out-of-range or non-JSON values, histogram blobs swapped, truncated or replaced by
//! hostile ones. Every case must end in bounded time with `Ok` or an error naming the file,
//! never a panic; a report that loads must then be safe to summarize, gate, compare and merge.
//!
//! A few hundred cases run in a few seconds; `TICKPROF_LONG_TESTS=1` runs 20,000.

use crate::common;

use std::io::Write as _;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tickprof::compare::{CompareOptions, compare};
use tickprof::thresholds::Thresholds;
use tickprof::{MetricsCollector, Report, ResourceSample, Shards, merge_reports};
use tracing_subscriber::prelude::*;

/// Far above what one load needs in a debug build (milliseconds), far below a hang or a
/// gigabyte allocation (seconds).
const PER_CASE: Duration = Duration::from_secs(2);

/// Two real reports as JSON: one from a small profiled run (sampler on, so `resources` is
/// there), one fixture with every optional part filled (wall times, several samples).
fn seeds() -> &'static [(Report, String); 2] {
    static SEEDS: OnceLock<[(Report, String); 2]> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let collector = MetricsCollector::builder()
            .measure_overhead(false)
            .sample_interval(Duration::from_millis(1))
            .build()
            .unwrap();
        let subscriber = tracing_subscriber::registry().with(collector.layer());
        let run = tracing::subscriber::with_default(subscriber, || {
            collector.start_profiling("fuzz_seed").unwrap();
            for i in 0..2_000u64 {
                let _tick = tracing::info_span!("tick").entered();
                let _parse = tracing::info_span!("parse").entered();
                std::hint::black_box(i);
            }
            collector.stop_profiling().unwrap()
        });
        let mut rich = common::with_resources(
            common::report(
                "rich",
                &common::ticks(5_000, 300),
                &[("a", &common::ticks(700, 300))],
            ),
            12.0,
            99.0,
        );
        rich.components.get_mut("a").unwrap().wall =
            Some(common::latency(&common::ticks(900, 300)));
        rich.resources.as_mut().unwrap().samples = (1..=5u32)
            .map(|i| {
                ResourceSample::new(
                    f64::from(i),
                    90.0 + f64::from(i),
                    12_000_000 + u64::from(i),
                    60 * u64::from(i),
                )
            })
            .collect();
        [run, rich].map(|r| {
            let json = r.to_json_string();
            (r, json)
        })
    })
}

/// Blobs a hostile or broken writer might leave: headers claiming 4 GiB (plain and deflated), a
/// bare cookie, random bytes behind a valid cookie, text, nothing, and valid histograms with
/// other bounds or with counts that sum past `u64::MAX`.
fn hostile_blobs() -> Vec<String> {
    let header = |cookie: u32, claimed: u32, figures: u32, low: u64, high: u64| {
        let mut h = cookie.to_be_bytes().to_vec();
        h.extend_from_slice(&claimed.to_be_bytes());
        h.extend_from_slice(&0u32.to_be_bytes());
        h.extend_from_slice(&figures.to_be_bytes());
        h.extend_from_slice(&low.to_be_bytes());
        h.extend_from_slice(&high.to_be_bytes());
        h.extend_from_slice(&1f64.to_bits().to_be_bytes());
        h
    };
    let bomb = header(0x1c84_9313, u32::MAX, 3, 1, 3_600_000_000_000);
    let widest = header(0x1c84_9313, u32::MAX, 5, 1, u64::MAX);
    let deflated = |inner: &[u8]| {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(inner).unwrap();
        let z = z.finish().unwrap();
        let mut blob = 0x1c84_9314u32.to_be_bytes().to_vec();
        blob.extend_from_slice(&(z.len() as u32).to_be_bytes());
        blob.extend_from_slice(&z);
        blob
    };
    let mut other_bounds = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 1_000, 1).unwrap();
    other_bounds.record(7).unwrap();
    let other = common::latency(&[1]).histogram;
    // Valid, but its counts sum past u64::MAX.
    let mut heavy = common::histogram(&[]);
    for v in [1_000, 2_000, 3_000] {
        heavy.record_n(v, u64::MAX / 2).unwrap();
    }
    vec![
        BASE64.encode(&bomb),
        BASE64.encode(&widest),
        BASE64.encode(deflated(&bomb)),
        BASE64.encode(deflated(&widest)),
        BASE64.encode(0x1c84_9314u32.to_be_bytes()),
        BASE64.encode([0x1c, 0x84, 0x93, 0x14, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]),
        "HISTFAAAAE14".to_owned(),
        "not base64 at all".to_owned(),
        String::new(),
        tickprof::LatencyStats::from_histogram(&other_bounds, "x")
            .unwrap()
            .histogram,
        other,
        tickprof::LatencyStats::from_histogram(&heavy, "x")
            .unwrap()
            .histogram,
    ]
}

/// Values a number in the JSON is replaced with: out of every range, not JSON at all, or edge
/// cases of the integer and float types.
const NUMBERS: &[&str] = &[
    "1.7e308",
    "1.6e308",
    "1e400",
    "-1e400",
    "-1",
    "-0.0",
    "0",
    "1e-320",
    "NaN",
    "Infinity",
    "18446744073709551615",
    "18446744073709551616",
    "4294967296",
    "9007199254740993",
    "1e10",
    "1e13",
    "1e6",
    "1e12",
    "2",
    "\"1\"",
    "null",
    "[]",
    "{}",
    "true",
];

/// Byte ranges of the JSON number tokens in `text`.
fn numbers(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts = bytes[i] == b'-' || bytes[i].is_ascii_digit();
        let after_value = i > 0 && matches!(bytes[i - 1], b' ' | b':' | b'[' | b',' | b'\n');
        if starts && after_value {
            let mut j = i + 1;
            while j < bytes.len()
                && matches!(bytes[j], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
            {
                j += 1;
            }
            out.push((i, j));
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// Byte ranges of the histogram blobs (the string contents) in `text`.
fn blobs(text: &str) -> Vec<(usize, usize)> {
    let key = "\"histogram\": \"";
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(key) {
        let start = from + at + key.len();
        // A truncated text may end inside a blob.
        let Some(len) = text[start..].find('"') else {
            break;
        };
        out.push((start, start + len));
        from = start + len;
    }
    out
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Sets the byte at (position % len) to the value.
    Byte(usize, u8),
    /// Keeps the first (position % len) bytes.
    Truncate(usize),
    /// Replaces the (index % count)th number with `NUMBERS[choice % len]`.
    Number(usize, usize),
    /// Swaps two histogram blobs.
    SwapBlobs(usize, usize),
    /// Replaces a blob with a hostile one.
    HostileBlob(usize, usize),
    /// Cuts a blob to a prefix of (fraction / 256) of its length.
    CutBlob(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::Byte(p, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<usize>()).prop_map(|(i, c)| Mutation::Number(i, c)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapBlobs(a, b)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, c)| Mutation::HostileBlob(i, c)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, f)| Mutation::CutBlob(i, f)),
    ]
}

fn apply(text: &mut Vec<u8>, m: &Mutation, hostile: &[String]) {
    let replace = |text: &mut Vec<u8>, (start, end): (usize, usize), with: &[u8]| {
        text.splice(start..end, with.iter().copied());
    };
    // Spans are found in the current text; a byte mutation may have broken UTF-8, in which case
    // the text-level mutations have nothing to work on.
    let current = String::from_utf8(text.clone()).unwrap_or_default();
    match *m {
        Mutation::Byte(p, b) if !text.is_empty() => {
            let at = p % text.len();
            text[at] = b;
        }
        Mutation::Truncate(p) if !text.is_empty() => text.truncate(p % text.len()),
        Mutation::Number(i, c) => {
            let spans = numbers(&current);
            if !spans.is_empty() {
                replace(
                    text,
                    spans[i % spans.len()],
                    NUMBERS[c % NUMBERS.len()].as_bytes(),
                );
            }
        }
        Mutation::SwapBlobs(a, b) => {
            let spans = blobs(&current);
            if spans.len() >= 2 {
                let (a, b) = (spans[a % spans.len()], spans[b % spans.len()]);
                let (first, second) = if a.0 <= b.0 { (a, b) } else { (b, a) };
                if first != second {
                    let one = current[first.0..first.1].to_owned();
                    let two = current[second.0..second.1].to_owned();
                    replace(text, second, one.as_bytes());
                    replace(text, first, two.as_bytes());
                }
            }
        }
        Mutation::HostileBlob(i, c) => {
            let spans = blobs(&current);
            if !spans.is_empty() {
                replace(
                    text,
                    spans[i % spans.len()],
                    hostile[c % hostile.len()].as_bytes(),
                );
            }
        }
        Mutation::CutBlob(i, f) => {
            let spans = blobs(&current);
            if !spans.is_empty() {
                let (start, end) = spans[i % spans.len()];
                let keep = (end - start) * usize::from(f) / 256;
                replace(text, (start + keep, end), b"");
            }
        }
        _ => {}
    }
}

/// Loads the mutated text from a file; checks time, the error's file name, and that a loaded
/// report is safe to use downstream.
fn check_case(dir: &Path, seed: &Report, text: &[u8]) -> Result<(), TestCaseError> {
    let path = dir.join("fuzz.json");
    std::fs::write(&path, text).unwrap();
    let started = Instant::now();
    let loaded = Report::load(&path);
    let elapsed = started.elapsed();
    prop_assert!(elapsed < PER_CASE, "load took {:?}", elapsed);
    match loaded {
        Err(e) => {
            let message = e.to_string();
            prop_assert!(
                message.contains("fuzz.json"),
                "error without the file: {}",
                message
            );
            prop_assert!(!message.ends_with('.'), "{}", message);
        }
        Ok(report) => {
            let started = Instant::now();
            let _ = report.summary();
            let gate = Thresholds::from_toml_str(
                "[ticks]\nmax_mean_us = 10\nmin_throughput_per_s = 1\n[memory]\nmax_peak_rss_mb = 500\n\
                 [baseline]\nmax_regression_pct = 10\n",
                Path::new("gate.toml"),
            )
            .unwrap();
            let _ = gate.evaluate(&report, Some(seed));
            let mut options = CompareOptions::default();
            options.gate.resamples = 20;
            let _ = compare(seed, &report, &options);
            let _ = merge_reports([("seed", seed), ("fuzz", &report)], Shards::Sequential);
            // What loads, saves and loads back the same.
            report.save_json(&path).unwrap();
            prop_assert_eq!(&Report::load(&path).unwrap(), &report);
            prop_assert!(
                started.elapsed() < PER_CASE * 5,
                "use took {:?}",
                started.elapsed()
            );
        }
    }
    Ok(())
}

#[test]
fn mutated_reports_load_or_fail_cleanly_in_bounded_time() {
    let long = std::env::var_os("TICKPROF_LONG_TESTS").is_some_and(|v| v == "1");
    let config = Config {
        cases: if long { 20_000 } else { 300 },
        failure_persistence: None,
        ..Config::default()
    };
    let hostile = hostile_blobs();
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut runner = TestRunner::new(config);
    runner
        .run(
            &(0..2usize, proptest::collection::vec(mutation(), 1..4)),
            |(which, mutations)| {
                let (seed, json) = &seeds()[which];
                let mut text = json.clone().into_bytes();
                for m in &mutations {
                    apply(&mut text, m, &hostile);
                }
                check_case(dir.path(), seed, &text)
            },
        )
        .unwrap();
    eprintln!("fuzzed Report::load in {:?}", started.elapsed());
}

/// The mutations reach what they aim at: each kind, applied alone, makes the seed fail to load
/// in the way it should (so the fuzz test above is not loading the unmutated seed 300 times).
#[test]
fn each_mutation_kind_breaks_a_seed() {
    let hostile = hostile_blobs();
    let (_, json) = &seeds()[1];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.json");
    let load = |m: Mutation| {
        let mut text = json.clone().into_bytes();
        apply(&mut text, &m, &hostile);
        std::fs::write(&path, &text).unwrap();
        Report::load(&path).map(|_| ()).map_err(|e| e.to_string())
    };
    assert!(
        load(Mutation::Truncate(json.len() / 2))
            .unwrap_err()
            .contains("EOF")
    );
    let total_time = numbers(json)
        .iter()
        .position(|&(s, _)| json[..s].ends_with("\"total_time_s\": "))
        .unwrap();
    let err = load(Mutation::Number(total_time, 0)).unwrap_err();
    assert!(
        err.contains("total_time_s: must be") && err.contains("got 1.7e308"),
        "{err}"
    );
    let err = load(Mutation::HostileBlob(0, 0)).unwrap_err();
    assert!(
        err.contains("claims a payload of 4294967295 bytes"),
        "{err}"
    );
    let err = load(Mutation::CutBlob(0, 128)).unwrap_err();
    assert!(err.contains("ticks.latency.histogram"), "{err}");
    // Swapping two valid blobs keeps a loadable report (the blobs still decode).
    assert_eq!(load(Mutation::SwapBlobs(0, 1)), Ok(()));
}
