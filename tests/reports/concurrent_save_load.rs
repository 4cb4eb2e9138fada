//! Saves from several threads to one path while another thread loads it: every save succeeds
//! (each write has its own temporary file) and every load sees one whole report, never an empty
//! or truncated file. The same routine writes the graphs.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::common::{report, ticks};
use tickprof::Report;

const WRITERS: usize = 4;
const SAVES_PER_WRITER: usize = 30;

fn leftovers(dir: &Path, keep: &[&str]) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !keep.contains(&name.as_str()))
        .collect()
}

#[test]
fn concurrent_saves_to_one_path_stay_atomic_for_a_reader() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.json");
    // Different sizes, so a torn or truncated file cannot pass for a whole one.
    let reports: Vec<Report> = (0..WRITERS)
        .map(|i| {
            let n = 200 * (i as u64 + 1);
            report(
                &format!("writer-{i}"),
                &ticks(5_000, n),
                &[("parse", &ticks(900, n))],
            )
        })
        .collect();
    reports[0].save_json(&path).unwrap();
    let writing = AtomicBool::new(true);
    let (save_errors, loads) = std::thread::scope(|s| {
        let reader = s.spawn(|| {
            let mut loads = 0u64;
            while writing.load(Ordering::Acquire) {
                let loaded = Report::load(&path)
                    .unwrap_or_else(|e| panic!("load {loads} saw a partial report: {e}"));
                assert!(
                    reports.contains(&loaded),
                    "load {loads}: not a saved report"
                );
                loads += 1;
            }
            loads
        });
        let writers: Vec<_> = reports
            .iter()
            .map(|r| {
                let path = &path;
                s.spawn(move || {
                    (0..SAVES_PER_WRITER)
                        .filter_map(|_| r.save_json(path).err().map(|e| e.to_string()))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let errors: Vec<String> = writers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        writing.store(false, Ordering::Release);
        (errors, reader.join().unwrap())
    });
    assert!(
        save_errors.is_empty(),
        "{} of {} saves failed, first: {}",
        save_errors.len(),
        WRITERS * SAVES_PER_WRITER,
        save_errors[0]
    );
    assert!(loads > 0);
    assert!(reports.contains(&Report::load(&path).unwrap()));
    assert_eq!(leftovers(dir.path(), &["run.json"]), Vec::<String>::new());
}

#[cfg(feature = "plot")]
#[test]
fn concurrent_renders_of_one_graph_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("resources.png");
    let r = report("png", &ticks(5_000, 100), &[]);
    std::thread::scope(|s| {
        let renders: Vec<_> = (0..3)
            .map(|_| {
                s.spawn(|| {
                    (0..2)
                        .map(|_| tickprof::graphs::resources(&r, &png))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for render in renders {
            for result in render.join().unwrap() {
                result.unwrap();
            }
        }
    });
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(
        leftovers(dir.path(), &["resources.png"]),
        Vec::<String>::new()
    );
}
