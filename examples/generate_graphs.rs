//! Redraws every graph from saved reports alone (the seed's `generate_graphs.py`):
//!
//! ```text
//! cargo run --example generate_graphs -- reports/
//! ```
//!
//! Reads every report JSON in the directory (default `reports`), skipping the summary and any
//! other JSON, and writes `latency_<N>.png`, `resources_<N>.png` and `slow_ticks_<N>.png` per
//! report and one scalability graph per sweep (reports named `<stem>_<ticks>`, at least two
//! sizes: `scalability_metrics.png` for the driver's `scalability_*`) next to them, then says
//! which report has no slow ticks to draw, and which reports each scalability graph was drawn
//! from, or why a stem has none. A file that does not
//! load is reported and left out; the exit code is then 1.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let dir = args
        .next()
        .map_or_else(|| PathBuf::from("reports"), PathBuf::from);
    if args.next().is_some() || dir.to_string_lossy().starts_with('-') {
        eprintln!("usage: generate_graphs [REPORT_DIR]   (default: reports)");
        return ExitCode::from(2);
    }
    match tickprof::graphs::render_dir(&dir) {
        Ok(rendered) => {
            for path in &rendered.written {
                println!("wrote {}", path.display());
            }
            for skipped in &rendered.not_drawn {
                println!("{skipped}");
            }
            for sweep in &rendered.sweeps {
                println!("{sweep}");
            }
            // A bad file does not stop the others; each is reported, and the exit says so.
            for problem in &rendered.failed {
                eprintln!("generate_graphs: error: {problem}");
            }
            if rendered.failed.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("generate_graphs: error: {e}");
            ExitCode::FAILURE
        }
    }
}
