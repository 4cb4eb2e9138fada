//! Every path the CLI reads (a report, an interval log, a thresholds file) is refused with an
//! error naming it when it is not a regular file: a FIFO nobody writes to hung `summary`,
//! `hlog` and `check --thresholds` forever, and `/dev/zero` never ends. The library's readers
//! (`Report::load`, `interval_log::read_window`) refuse them too.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::common::{report, stderr, tickprof_within, ticks, within};

/// A FIFO at `path` (nobody writes to it).
fn fifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

/// Fixtures in `dir`: a report, a thresholds file, and a FIFO.
fn fixtures(dir: &Path) {
    report("run", &ticks(5_000, 1_000), &[])
        .save_json(dir.join("run.json"))
        .unwrap();
    std::fs::write(
        dir.join("t.toml"),
        "[ticks]\nmax_mean_us = 10\n[baseline]\nmax_regression_pct = 10\n",
    )
    .unwrap();
    fifo(&dir.join("fifo"));
}

#[test]
fn the_cli_refuses_a_fifo_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    fixtures(dir.path());
    let cases: &[&[&str]] = &[
        &["summary", "fifo"],
        &["hlog", "fifo"],
        &["check", "run.json", "--thresholds", "fifo"],
        &["check", "fifo", "--thresholds", "t.toml"],
        &[
            "check",
            "run.json",
            "--thresholds",
            "t.toml",
            "--baseline",
            "fifo",
        ],
        &["compare", "run.json", "fifo"],
        &[
            "merge", "run.json", "fifo", "-o", "m.json", "--shards", "parallel",
        ],
        &["trace", "fifo"],
    ];
    for args in cases {
        let out = tickprof_within(dir.path(), args, Duration::from_secs(30));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let message = stderr(&out);
        assert!(
            message.contains("fifo: not a regular file (a FIFO"),
            "{args:?}: {message}"
        );
    }
}

/// Devices that never end are refused by kind before any byte is read.
#[cfg(target_os = "linux")]
#[test]
fn the_cli_refuses_a_device() {
    let dir = tempfile::tempdir().unwrap();
    fixtures(dir.path());
    for args in [
        &["summary", "/dev/zero"][..],
        &["hlog", "/dev/zero"],
        &["check", "run.json", "--thresholds", "/dev/zero"],
    ] {
        let out = tickprof_within(dir.path(), args, Duration::from_secs(30));
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let message = stderr(&out);
        assert!(
            message.contains("/dev/zero: not a regular file (a character device)"),
            "{args:?}: {message}"
        );
    }
}

#[test]
fn the_library_refuses_a_fifo_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fifo");
    fifo(&path);
    let p = path.clone();
    let error = within(Duration::from_secs(30), "Report::load", move || {
        tickprof::Report::load(&p).unwrap_err().to_string()
    });
    assert!(
        error.contains("fifo: not a regular file (a FIFO"),
        "{error}"
    );
    let error = within(Duration::from_secs(30), "read_window", move || {
        tickprof::interval_log::read_window(&path, None, None)
            .unwrap_err()
            .to_string()
    });
    assert!(
        error.contains("fifo: not a regular file (a FIFO"),
        "{error}"
    );
}
