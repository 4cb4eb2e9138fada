//! A histogram blob whose header claims a payload far beyond its real bytes (40 bytes claiming
//! 4 GiB) is an error in bounded time and memory, before anything of the claimed size is
//! allocated, both uncompressed (V2) and compressed (V2 + Deflate), through `Report::load` and
//! through `LatencyStats::decode_histogram`.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::common::process::alone;
use crate::common::{report, ticks};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use tickprof::Report;

const V2_COOKIE: u32 = 0x1c84_9313;
const V2_COMPRESSED_COOKIE: u32 = 0x1c84_9314;

/// A V2 header (40 bytes, no payload) for 1 ns .. 1 h at 3 significant figures whose payload
/// length says `claimed` bytes.
fn v2_header(claimed: u32) -> Vec<u8> {
    let mut header = Vec::with_capacity(40);
    header.extend_from_slice(&V2_COOKIE.to_be_bytes());
    header.extend_from_slice(&claimed.to_be_bytes());
    header.extend_from_slice(&0u32.to_be_bytes()); // normalizing offset
    header.extend_from_slice(&3u32.to_be_bytes()); // significant figures
    header.extend_from_slice(&1u64.to_be_bytes()); // lowest
    header.extend_from_slice(&3_600_000_000_000u64.to_be_bytes()); // highest
    header.extend_from_slice(&1.0f64.to_bits().to_be_bytes()); // integer-to-double ratio
    header
}

/// The same header, zlib-compressed behind the V2 + Deflate cookie.
fn compressed(inner: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(inner).unwrap();
    let deflated = z.finish().unwrap();
    let mut blob = V2_COMPRESSED_COOKIE.to_be_bytes().to_vec();
    blob.extend_from_slice(&u32::try_from(deflated.len()).unwrap().to_be_bytes());
    blob.extend_from_slice(&deflated);
    blob
}

/// Peak RSS growth while `f` runs, in bytes, when the kernel lets us reset the mark.
fn peak_rss_growth(f: impl FnOnce()) -> Option<u64> {
    let hwm = || -> Option<u64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
    };
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = hwm();
    f();
    Some(hwm()?.saturating_sub(before?)).filter(|_| reset)
}

#[test]
fn a_blob_claiming_4_gib_fails_fast_and_small() {
    // Alone: the peak resident set is the process's, and other tests' allocations would count.
    if !alone(module_path!(), "a_blob_claiming_4_gib_fails_fast_and_small") {
        return;
    }
    let uncompressed = v2_header(u32::MAX);
    assert_eq!(uncompressed.len(), 40);
    let blobs = [
        ("uncompressed", BASE64.encode(&uncompressed)),
        ("compressed", BASE64.encode(compressed(&uncompressed))),
    ];
    let dir = tempfile::tempdir().unwrap();
    let growth = peak_rss_growth(|| {
        for (kind, blob) in &blobs {
            let mut r = report("bomb", &ticks(5_000, 100), &[]);
            r.ticks.latency.histogram.clone_from(blob);
            let path = dir.path().join(format!("{kind}.json"));
            r.save_json(&path).unwrap();

            let started = Instant::now();
            let err = match Report::load(&path) {
                Ok(r) => panic!("{kind}: loaded `{}` with a 40-byte bomb", r.name),
                Err(e) => e.to_string(),
            };
            let elapsed = started.elapsed();
            assert!(
                elapsed < Duration::from_secs(1),
                "{kind}: load took {elapsed:?}"
            );
            assert!(
                err.starts_with(&format!("{}: ticks.latency.histogram: ", path.display()))
                    && err.contains("claims a payload of 4294967295 bytes"),
                "{kind}: {err}"
            );

            let started = Instant::now();
            let err = match r.ticks.latency.decode_histogram("ticks.latency") {
                Ok(h) => panic!("{kind}: decoded {} values", h.len()),
                Err(e) => e,
            };
            assert!(started.elapsed() < Duration::from_secs(1), "{kind}");
            assert!(err.to_string().contains("4294967295"), "{kind}: {err}");
        }
    });
    if let Some(growth) = growth {
        assert!(growth < 64 << 20, "peak RSS grew by {} MiB", growth >> 20);
    }
}

#[test]
fn a_payload_within_the_blob_but_beyond_the_bounds_is_refused() {
    // Each count of these bounds takes at most 9 bytes (the longest varint): claiming more is a
    // lie even when the bytes are there (a padded blob), and the check needs no decoding.
    let counts = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3)
        .unwrap()
        .distinct_values();
    assert_eq!(counts, 33_792);
    let claimed = 400_000;
    let mut blob = v2_header(claimed);
    blob.resize(40 + claimed as usize, 0);
    let mut r = report("padded", &ticks(5_000, 10), &[]);
    r.unattributed.histogram = BASE64.encode(&blob);
    let err = match r.unattributed.decode_histogram("unattributed") {
        Ok(h) => panic!("decoded {} values", h.len()),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("claims a payload of 400000 bytes")
            && err.contains(&format!("at most {}", counts * 9)),
        "{err}"
    );
}

#[test]
fn a_real_blob_still_decodes() {
    let r = report(
        "real",
        &ticks(5_000, 1_000),
        &[("parse", &ticks(700, 1_000))],
    );
    assert_eq!(r.ticks.latency.decode_histogram("t").unwrap().len(), 1_000);
    assert_eq!(
        r.components["parse"]
            .latency
            .decode_histogram("p")
            .unwrap()
            .len(),
        1_000
    );
}
