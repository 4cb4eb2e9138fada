//! Redraws every graph from saved reports alone (the seed's `generate_graphs.py`):
//!
//! ```text
//! cargo run --example generate_graphs -- reports/
//! ```
//!
//! Reads every report JSON in the directory (default `reports`), skipping the summary and any
//! other JSON, and writes `scalability_metrics.png`, `latency_<N>.png` and `resources_<N>.png`
//! next to them.

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
        Ok(written) => {
            for path in written {
                println!("wrote {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("generate_graphs: error: {e}");
            ExitCode::FAILURE
        }
    }
}
