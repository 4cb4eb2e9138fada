//! Interval logs from untrusted hands: a histogram header that claims 4 GiB, thousands of
//! distinct tags, a file that is not a log at all. `read_window` and `tickprof hlog` answer each
//! with an error naming the file and line, or a bounded result that says what it left out,
//! never an abort or gigabytes of memory.

use crate::common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use base64::Engine;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};

/// The header tickprof writes (start time, legend), then `lines`.
fn log_with(lines: &str) -> String {
    format!(
        "#[StartTime: 1767225600.000 (seconds since epoch)]\n#[BaseTime: 1767225600.000 (seconds since epoch)]\n\
         \"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n{lines}"
    )
}

/// An uncompressed V2 histogram blob whose header claims a payload of `claimed` bytes and holds
/// none.
fn lying_blob(claimed: u32) -> String {
    let mut blob = 0x1c84_9313_u32.to_be_bytes().to_vec();
    blob.extend_from_slice(&claimed.to_be_bytes());
    blob.extend_from_slice(&0u32.to_be_bytes()); // normalizing offset
    blob.extend_from_slice(&3u32.to_be_bytes()); // significant figures
    blob.extend_from_slice(&1u64.to_be_bytes()); // lowest
    blob.extend_from_slice(&3_600_000_000_000u64.to_be_bytes()); // highest
    blob.extend_from_slice(&1f64.to_bits().to_be_bytes()); // integer to double ratio
    base64::engine::general_purpose::STANDARD.encode(blob)
}

/// An interval log of `tags` distinct tags, one interval each, of tickprof's histogram bounds.
fn log_of_tags(tags: usize) -> Vec<u8> {
    let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
    h.record(1_500).unwrap();
    let mut bytes = Vec::new();
    let mut serializer = V2DeflateSerializer::new();
    let mut writer = IntervalLogWriterBuilder::new()
        .with_start_time(SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600))
        .begin_log_with(&mut bytes, &mut serializer)
        .unwrap();
    for i in 0..tags {
        let name = format!("t{i:05}");
        writer
            .write_histogram(&h, Duration::ZERO, Duration::from_secs(1), Tag::new(&name))
            .unwrap();
    }
    bytes
}

/// `tickprof ARGS` in `dir` with at most `megabytes` of address space (`ulimit -v`): an
/// allocation past it fails, and Rust aborts the process.
fn tickprof_limited(dir: &Path, megabytes: u64, args: &[&str]) -> Output {
    Command::new("sh")
        .current_dir(dir)
        .arg("-c")
        .arg(format!(
            "ulimit -v {} && exec \"$0\" \"$@\"",
            megabytes * 1024
        ))
        .arg(env!("CARGO_BIN_EXE_tickprof"))
        .args(args)
        .output()
        .unwrap()
}

#[cfg(all(feature = "cli", unix))]
#[test]
fn hlog_of_a_histogram_claiming_4_gib_exits_2_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = log_with(&format!(
        "Tag=tick,0.000,1.000,0.000,{}\n",
        lying_blob(0xFFFF_FFF0)
    ));
    assert!(text.len() < 600, "{} bytes", text.len());
    std::fs::write(dir.path().join("lying.hlog"), &text).unwrap();
    let out = tickprof_limited(dir.path(), 512, &["hlog", "lying.hlog"]);
    let stderr = common::stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{:?}: {stderr}", out.status);
    assert!(
        stderr.contains("lying.hlog") && stderr.contains("line 4"),
        "{stderr}"
    );
    assert!(
        stderr.contains("claims a payload of 4294967280 bytes"),
        "{stderr}"
    );
}

#[cfg(all(feature = "cli", unix))]
#[test]
fn hlog_of_8000_tags_is_bounded_and_says_what_was_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = log_of_tags(8_000);
    assert!(bytes.len() < 1_000_000, "{} bytes", bytes.len());
    std::fs::write(dir.path().join("tags.hlog"), &bytes).unwrap();
    // 8,000 histograms of 270 KB each took 2.1 GB; 256 of them take 69 MB.
    let out = tickprof_limited(dir.path(), 512, &["hlog", "tags.hlog"]);
    let stdout = common::stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{:?}: {}",
        out.status,
        common::stderr(&out)
    );
    let rows = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with('t') && l.contains(" 1 "))
        .count();
    assert_eq!(rows, 255, "{stdout}");
    assert!(
        stdout.contains(
            "left out, to bound memory: 7,745 tags (7,745 intervals) past the 255 kept (at most \
             256 tags, one of them `tick`"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("t00255, t00256, t00257"), "{stdout}");
}

#[cfg(feature = "cli")]
#[test]
fn hlog_of_a_file_that_is_not_a_log_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    // One line, no newline, no header: not a log whose last line a crash cut short.
    std::fs::write(dir.path().join("one.hlog"), "hello world").unwrap();
    let out = common::tickprof(dir.path(), &["hlog", "one.hlog"]);
    let stderr = common::stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("one.hlog") && stderr.contains("line 1"),
        "{stderr}"
    );
    std::fs::write(dir.path().join("empty.hlog"), "").unwrap();
    let out = common::tickprof(dir.path(), &["hlog", "empty.hlog"]);
    let stderr = common::stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("empty.hlog: file is empty"), "{stderr}");
}

/// The library's reader: the lying header is an error naming the file, the line and the lie.
#[test]
fn a_histogram_claiming_4_gib_is_an_error_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lying.hlog");
    let text = log_with(&format!(
        "Tag=tick,0.000,1.000,0.000,{}\n",
        lying_blob(0xFFFF_FFF0)
    ));
    std::fs::write(&path, text).unwrap();
    let error = tickprof::interval_log::read_window(&path, None, None)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("lying.hlog")
            && error.contains("line 4")
            && error.contains(
                "tag `tick`: histogram does not decode: claims a payload of 4294967280 bytes"
            ),
        "{error}"
    );
}

/// 255 tags are kept in the log's order, the `tick` tag too though it comes last, and the
/// rest are counted and named.
#[test]
fn a_window_keeps_at_most_max_tags_and_counts_the_rest() {
    use tickprof::interval_log::{MAX_TAGS, TICK_TAG, read_window};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tags.hlog");
    let mut bytes = log_of_tags(1_000);
    let text = String::from_utf8(bytes.clone()).unwrap();
    // The last line again, as the tick tag and as a second interval of a kept tag.
    let last = text.lines().last().unwrap();
    let blob = last.rsplit(',').next().unwrap();
    bytes.extend_from_slice(format!("Tag={TICK_TAG},1.000,1.000,0.002,{blob}\n").as_bytes());
    bytes.extend_from_slice(format!("Tag=t00007,1.000,1.000,0.002,{blob}\n").as_bytes());
    bytes.extend_from_slice(format!("Tag=t00900,1.000,1.000,0.002,{blob}\n").as_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let window = read_window(&path, None, None).unwrap();
    assert_eq!(window.tags.len(), MAX_TAGS);
    assert_eq!(window.tags[TICK_TAG].intervals, 1);
    assert_eq!(window.tags["t00007"].intervals, 2);
    assert_eq!(window.tags["t00007"].histogram.len(), 2);
    assert!(window.tags.contains_key("t00254") && !window.tags.contains_key("t00255"));
    let left_out = &window.left_out;
    assert_eq!(left_out.tags, 1_000 - 255);
    assert!(left_out.tags_exact);
    assert_eq!(
        left_out.intervals,
        1_000 - 255 + 1,
        "t00900's second interval too"
    );
    assert_eq!(
        left_out.first,
        ["t00255", "t00256", "t00257", "t00258", "t00259"]
    );
}

/// Histograms of the widest bounds are few MB each: past MAX_COUNTS in all, a tag that grows
/// is left out whole (both its intervals), and the kept ones stay within the bound.
#[test]
fn a_window_keeps_at_most_max_counts() {
    use tickprof::interval_log::{MAX_COUNTS, read_window};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.hlog");
    let narrow = {
        let mut h = Histogram::<u64>::new_with_bounds(1, 1 << 20, 5).unwrap();
        h.record(1_000).unwrap();
        h
    };
    let wide = {
        let mut h = Histogram::<u64>::new_with_bounds(1, u64::MAX / 2, 5).unwrap();
        h.record(1 << 61).unwrap();
        h
    };
    let grown = wide.distinct_values();
    let fit = MAX_COUNTS / grown;
    let mut bytes = Vec::new();
    let mut serializer = V2DeflateSerializer::new();
    let mut writer = IntervalLogWriterBuilder::new()
        .add_comment("wide")
        .begin_log_with(&mut bytes, &mut serializer)
        .unwrap();
    let tags: Vec<String> = (0..fit + 2).map(|i| format!("w{i}")).collect();
    for (start, h) in [(0, &narrow), (1, &wide)] {
        for tag in &tags {
            writer
                .write_histogram(
                    h,
                    Duration::from_secs(start),
                    Duration::from_secs(1),
                    Tag::new(tag),
                )
                .unwrap();
        }
    }
    std::fs::write(&path, &bytes).unwrap();
    let window = read_window(&path, None, None).unwrap();
    let kept: usize = window
        .tags
        .values()
        .map(|w| w.histogram.distinct_values())
        .sum();
    assert!(kept <= MAX_COUNTS, "{kept} counts kept");
    assert_eq!(window.tags.len(), fit, "{grown} counts each");
    assert!(window.tags.values().all(|w| w.intervals == 2));
    assert_eq!(window.left_out.tags, 2);
    assert_eq!(window.left_out.intervals, 4, "both intervals of each");
}

/// What reads as a log: a header alone (no interval yet), a log without a header that begins
/// with a whole interval line (hdrhistogram's writer without comments or times). What does
/// not: a file without a whole line, the one line of it cut short or not.
#[test]
fn a_log_needs_a_whole_line_before_a_cut_one() {
    use tickprof::interval_log::read_window;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.hlog");
    std::fs::write(
        &path,
        "#[StartTime: 0.000 (seconds since epoch)]
",
    )
    .unwrap();
    let window = read_window(&path, None, None).unwrap();
    assert!(window.tags.is_empty() && window.left_out.is_empty());
    std::fs::write(&path, "#[StartTime: 0.000 (seconds since epoch)]").unwrap();
    let error = read_window(&path, None, None).unwrap_err().to_string();
    assert!(
        error.contains("line 1") && error.contains("no whole line"),
        "{error}"
    );

    let text = String::from_utf8(log_of_tags(2)).unwrap();
    let headerless: String = text
        .lines()
        .filter(|l| l.starts_with("Tag="))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&path, &headerless).unwrap();
    assert_eq!(read_window(&path, None, None).unwrap().tags.len(), 2);
    // Its last line cut short: still the first whole line.
    std::fs::write(&path, &headerless[..headerless.len() - 10]).unwrap();
    assert_eq!(read_window(&path, None, None).unwrap().tags.len(), 1);
    // Its first line cut short: no whole line, not a log.
    let first = headerless.lines().next().unwrap();
    std::fs::write(&path, &first[..first.len() - 10]).unwrap();
    let error = read_window(&path, None, None).unwrap_err().to_string();
    assert!(
        error.contains("x.hlog") && error.contains("line 1") && error.contains("no whole line"),
        "{error}"
    );
}
