//! Progress of one run: an indicatif bar (rate, ETA) on a terminal, one line per quarter
//! otherwise (CI logs).
//!
//! Every figure shown is a count read when it is shown. The engine stops at each quarter of a
//! run (see [`quarter_stop`]) besides its chunk ends, so a quarter line says "25% (2500/10000
//! ticks)" at the moment the 2,500th tick is done. (The driver used to be told only at the end
//! of each 4,096-line chunk and printed every quarter the last chunk had passed with that
//! chunk's count: "50% (8192/10000 ticks)", then "75% (8192/10000 ticks)".) Whatever the count,
//! a line's percentage is computed from its own count, so the two always agree.

use std::fmt;
use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressState, ProgressStyle};

/// The tick count at which `quarter` (1–4) of a `total`-tick run is done: ⌈total × quarter / 4⌉.
pub fn quarter_stop(total: u64, quarter: u64) -> u64 {
    let stop = (u128::from(total) * u128::from(quarter)).div_ceil(4);
    u64::try_from(stop).unwrap_or(u64::MAX)
}

/// `done` as a whole percentage of `total`, rounded down (a line never claims more than done).
pub fn percent(done: u64, total: u64) -> u64 {
    let p = u128::from(done) * 100 / u128::from(total.max(1));
    u64::try_from(p).unwrap_or(u64::MAX)
}

/// Decides the plain lines: one each time the count reaches a quarter not yet reported.
#[derive(Debug, Clone)]
pub struct QuarterLines {
    label: String,
    total: u64,
    /// Quarters reported so far (0–4).
    reported: u64,
}

impl QuarterLines {
    /// Lines for a run of `total` ticks labelled `label`.
    pub fn new(label: &str, total: u64) -> Self {
        QuarterLines {
            label: label.to_owned(),
            total,
            reported: 0,
        }
    }

    /// The line to print now that `done` ticks are done, if `done` reached a quarter not yet
    /// reported: one line for the highest quarter reached, with the true share and count.
    pub fn line(&mut self, done: u64) -> Option<String> {
        let reached = (1..=4)
            .rev()
            .find(|&q| done >= quarter_stop(self.total, q))
            .unwrap_or(0);
        if reached <= self.reported {
            return None;
        }
        self.reported = reached;
        Some(format!(
            "{}: {}% ({done}/{} ticks)",
            self.label,
            percent(done, self.total),
            self.total
        ))
    }
}

/// Progress of one run, shown as it goes.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    lines: QuarterLines,
}

impl Progress {
    /// A bar on stderr when it is a terminal, else quarter lines on stdout.
    pub fn new(label: &str, total: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            if let Ok(style) = ProgressStyle::with_template(
                "{msg:>16} [{wide_bar}] {human_pos}/{human_len} ticks, {rate}, ETA {eta}",
            ) {
                let rate = |state: &ProgressState, w: &mut dyn fmt::Write| {
                    let _ = write!(w, "{:.0} ticks/s", state.per_sec());
                };
                bar.set_style(style.with_key("rate", rate).progress_chars("=> "));
            }
            bar.set_message(label.to_owned());
            bar
        });
        Progress {
            bar,
            lines: QuarterLines::new(label, total),
        }
    }

    /// Shows that `done` ticks are done.
    pub fn update(&mut self, done: u64) {
        match &self.bar {
            Some(bar) => {
                bar.set_position(done);
                if done >= self.lines.total {
                    bar.finish_and_clear();
                }
            }
            None => {
                if let Some(line) = self.lines.line(done) {
                    println!("{line}");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarter_stops_round_up_and_end_at_the_total() {
        let stops = |total| (1..=4).map(|q| quarter_stop(total, q)).collect::<Vec<_>>();
        assert_eq!(stops(10_000), [2_500, 5_000, 7_500, 10_000]);
        assert_eq!(stops(1_001), [251, 501, 751, 1_001]);
        assert_eq!(stops(3), [1, 2, 3, 3]);
        assert_eq!(stops(1), [1, 1, 1, 1]);
        assert_eq!(quarter_stop(u64::MAX, 4), u64::MAX);
    }

    #[test]
    fn percent_rounds_down() {
        assert_eq!(percent(2_500, 10_000), 25);
        assert_eq!(percent(2, 3), 66);
        assert_eq!(percent(9_999, 10_000), 99);
        assert_eq!(percent(10_000, 10_000), 100);
        assert_eq!(percent(0, 0), 0);
    }

    /// The lines the driver prints when the engine reports `counts`.
    fn lines(total: u64, counts: &[u64]) -> Vec<String> {
        let mut q = QuarterLines::new("bare 10000", total);
        counts.iter().filter_map(|&done| q.line(done)).collect()
    }

    #[test]
    fn a_line_per_quarter_at_the_quarter_stops() {
        // What the engine reports for 10,000 ticks: chunk ends (4,096, 8,192) and quarter stops.
        assert_eq!(
            lines(10_000, &[2_500, 4_096, 5_000, 7_500, 8_192, 10_000]),
            [
                "bare 10000: 25% (2500/10000 ticks)",
                "bare 10000: 50% (5000/10000 ticks)",
                "bare 10000: 75% (7500/10000 ticks)",
                "bare 10000: 100% (10000/10000 ticks)",
            ]
        );
    }

    #[test]
    fn a_count_past_several_quarters_gives_one_line_with_its_own_percentage() {
        // The old driver printed "50% (8192/10000 ticks)" and then "75% (8192/10000 ticks)".
        assert_eq!(
            lines(10_000, &[4_096, 8_192, 10_000]),
            [
                "bare 10000: 40% (4096/10000 ticks)",
                "bare 10000: 81% (8192/10000 ticks)",
                "bare 10000: 100% (10000/10000 ticks)",
            ]
        );
        assert_eq!(
            lines(1_000, &[1_000]),
            ["bare 10000: 100% (1000/1000 ticks)"]
        );
    }

    #[test]
    fn every_line_agrees_with_its_count() {
        for total in [1, 2, 3, 7, 1_000, 1_001, 10_000, 99_999] {
            let counts: Vec<u64> = (1..=total).collect();
            let printed = lines(total, &counts);
            assert!(
                printed.len() <= 4 && !printed.is_empty(),
                "{total}: {printed:?}"
            );
            for line in &printed {
                let (_, rest) = line.split_once(": ").unwrap();
                let (pct, rest) = rest.split_once("% (").unwrap();
                let (done, _) = rest.split_once('/').unwrap();
                let (pct, done): (u64, u64) = (pct.parse().unwrap(), done.parse().unwrap());
                assert_eq!(pct, percent(done, total), "{line}");
                // Fed every count, a line is printed exactly at a quarter stop.
                assert!((1..=4).any(|q| quarter_stop(total, q) == done), "{line}");
            }
            assert!(printed.last().unwrap().contains(&format!("100% ({total}/")));
        }
    }
}
