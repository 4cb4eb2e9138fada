//! What the resources figure of a report shows: decided from the report alone, apart from the
//! drawing, so the decision can be tested and the figure's text says the same thing.
//!
//! A run of 1–2 samples drew one dot (at 42.6 ms, when the title said 0.039 s): nothing a person
//! can read as "over the run". Fewer than [`MIN_SAMPLES_TO_PLOT`] samples is now a stated panel,
//! and the time axis is the run's, 0 → `total_time_s`, as the title says; the sampler's closing
//! sample can land a few ms after the run's end, and then the axis reaches it and the figure
//! says so.
//!
//! A run under 10 ms has no CPU figure at all (`resources.cpu_percent.mean` is `null`: the
//! kernel accounts other threads' CPU time at scheduler ticks, so a shorter window can read
//! 0 % or 350 %): its figure says the run was too short for samples, with the peak memory the
//! summary prints, rather than a CPU line of such readings under a caption saying "n/a", or an
//! advice to lower a sample interval that cannot help.

use std::fmt;

use crate::report::Report;

/// The fewest samples the resources figure plots against time; with fewer, it states that the
/// run was too short to plot. Two points are a line, not a course over a run.
pub const MIN_SAMPLES_TO_PLOT: usize = 3;

/// The shortest run with a CPU figure, s: a report's `resources.cpu_percent.mean` is `null`
/// below it (the sampler's shortest CPU window).
const MIN_RUN_FOR_SAMPLES_S: f64 = 0.010;

/// What [`resources`](super::resources) draws for a report ([`resources_figure`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ResourcesFigure {
    /// The report has no resource data: why (the sampler was off or unavailable).
    NotSampled(String),
    /// A run under 10 ms, too short for CPU samples (its report has no mean CPU): a panel
    /// saying so, with the peak memory, no plot.
    TooShortForSamples {
        /// The run's length (`total_time_s`).
        run_s: f64,
        /// The OS's peak resident memory over the run (`resources.peak_rss_bytes`).
        peak_rss_bytes: u64,
    },
    /// Fewer than [`MIN_SAMPLES_TO_PLOT`] samples: a panel saying so, no plot.
    TooShort {
        /// Samples in the report.
        samples: usize,
        /// The run's length (`total_time_s`).
        run_s: f64,
        /// The sampling period (`resources.sample_interval_ms`).
        interval_ms: u64,
    },
    /// CPU and RSS against time since the start of the run.
    Series {
        /// The run's length (`total_time_s`): the figure's title.
        run_s: f64,
        /// Where the time axis ends: `total_time_s`, or the last sample's time if later.
        axis_end_s: f64,
        /// Samples taken after `total_time_s` (the sampler's closing sample can be a few ms
        /// late); when any, the axis reaches the last and the figure says so.
        late_samples: usize,
    },
}

/// What the resources figure of `report` shows (see [`ResourcesFigure`]).
pub fn resources_figure(report: &Report) -> ResourcesFigure {
    let Some(resources) = &report.resources else {
        return ResourcesFigure::NotSampled(
            report
                .resources_unavailable
                .clone()
                .unwrap_or_else(|| "the resource sampler was off".to_owned()),
        );
    };
    // A merged report can lack a mean because one part was short; the whole run is not.
    if resources.cpu_percent.mean.is_none() && report.total_time_s < MIN_RUN_FOR_SAMPLES_S {
        return ResourcesFigure::TooShortForSamples {
            run_s: report.total_time_s,
            peak_rss_bytes: resources.peak_rss_bytes,
        };
    }
    let samples = &resources.samples;
    if samples.len() < MIN_SAMPLES_TO_PLOT {
        return ResourcesFigure::TooShort {
            samples: samples.len(),
            run_s: report.total_time_s,
            interval_ms: resources.sample_interval_ms,
        };
    }
    let run_s = report.total_time_s;
    let late: Vec<f64> = samples
        .iter()
        .map(|s| s.elapsed_ms / 1e3)
        .filter(|&t| t > run_s)
        .collect();
    ResourcesFigure::Series {
        run_s,
        axis_end_s: late.iter().copied().fold(run_s, f64::max),
        late_samples: late.len(),
    }
}

/// `n sample` / `n samples`.
fn samples_label(n: usize) -> String {
    format!("{n} sample{}", if n == 1 { "" } else { "s" })
}

impl ResourcesFigure {
    /// What a figure without a plot states: a headline and what to do, or `None` for a plot.
    pub(super) fn statement(&self) -> Option<(String, String)> {
        match self {
            ResourcesFigure::NotSampled(why) => {
                Some(("resources not sampled".to_owned(), why.clone()))
            }
            ResourcesFigure::TooShortForSamples {
                run_s,
                peak_rss_bytes,
            } => Some((
                "run too short for samples (< 10 ms)".to_owned(),
                format!(
                    "CPU and memory over time need a run of 10 ms or more (this one: {} s); \
                     peak RSS (VmHWM) {:.1} MB",
                    super::seconds_label(*run_s),
                    *peak_rss_bytes as f64 / 1e6
                ),
            )),
            ResourcesFigure::TooShort {
                samples,
                run_s,
                interval_ms,
            } => Some((
                format!(
                    "too short to plot: {} in {} s",
                    samples_label(*samples),
                    super::seconds_label(*run_s)
                ),
                format!(
                    "lower the sample interval (this run: {interval_ms} ms) or profile a longer run"
                ),
            )),
            ResourcesFigure::Series { .. } => None,
        }
    }
}

impl fmt::Display for ResourcesFigure {
    /// What the figure states: `too short to plot: 1 sample in 0.039 s; …`, or what its time
    /// axis spans.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResourcesFigure::NotSampled(why) => write!(f, "resources not sampled: {why}"),
            ResourcesFigure::TooShortForSamples { .. } | ResourcesFigure::TooShort { .. } => {
                let (headline, detail) = self.statement().unwrap_or_default();
                write!(f, "{headline}; {detail}")
            }
            ResourcesFigure::Series {
                run_s,
                axis_end_s,
                late_samples,
            } if *late_samples > 0 => write!(
                f,
                "CPU and RSS from 0 to {} s, and {} up to {} after the run's end",
                super::seconds_label(*run_s),
                samples_label(*late_samples),
                super::ns_label((axis_end_s - run_s) * 1e9)
            ),
            ResourcesFigure::Series { run_s, .. } => {
                write!(
                    f,
                    "CPU and RSS from 0 to {} s",
                    super::seconds_label(*run_s)
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ResourceSample;
    use crate::test_support::{report, resources};

    fn sampled(total_time_s: f64, at_ms: &[f64]) -> Report {
        let mut r = report("run", &[1_000, 1_100, 1_200], &[]);
        r.total_time_s = total_time_s;
        let mut res = resources(12.0, 99.0, 2.0);
        res.sample_interval_ms = 100;
        res.samples = at_ms
            .iter()
            .map(|&elapsed_ms| ResourceSample {
                elapsed_ms,
                cpu_percent: 99.0,
                rss_bytes: 12_000_000,
                ticks: 3,
            })
            .collect();
        res.samples_taken = at_ms.len() as u64;
        r.resources = Some(res);
        r
    }

    /// One or two samples: a stated panel, with the run's length and the interval.
    #[test]
    fn fewer_than_three_samples_are_too_short_to_plot() {
        let one = resources_figure(&sampled(0.039, &[42.6]));
        assert_eq!(
            one,
            ResourcesFigure::TooShort {
                samples: 1,
                run_s: 0.039,
                interval_ms: 100
            }
        );
        assert_eq!(
            one.to_string(),
            "too short to plot: 1 sample in 0.039 s; lower the sample interval (this run: 100 ms) \
             or profile a longer run"
        );
        assert!(matches!(
            resources_figure(&sampled(0.25, &[100.0, 200.0])),
            ResourcesFigure::TooShort { samples: 2, .. }
        ));
        assert!(matches!(
            resources_figure(&sampled(0.25, &[])),
            ResourcesFigure::TooShort { samples: 0, .. }
        ));
    }

    /// The axis is the run's; a closing sample after its end extends it, and that is said.
    #[test]
    fn the_time_axis_is_the_runs_unless_a_sample_came_later() {
        let on_time = resources_figure(&sampled(0.35, &[100.0, 200.0, 300.0]));
        assert_eq!(
            on_time,
            ResourcesFigure::Series {
                run_s: 0.35,
                axis_end_s: 0.35,
                late_samples: 0
            }
        );
        assert_eq!(on_time.to_string(), "CPU and RSS from 0 to 0.35 s");
        let late = resources_figure(&sampled(1.1007, &[500.0, 1_000.0, 1_103.9]));
        let ResourcesFigure::Series {
            axis_end_s,
            late_samples: 1,
            ..
        } = late
        else {
            panic!("{late:?}");
        };
        assert!((axis_end_s - 1.1039).abs() < 1e-9, "{axis_end_s}");
        assert_eq!(
            late.to_string(),
            "CPU and RSS from 0 to 1.1 s, and 1 sample up to 3.2 ms after the run's end"
        );
    }

    /// A run under 10 ms has no CPU figure (its mean is `null`): the figure says the run was
    /// too short for samples, with its length and peak memory, however many samples it took
    /// (six 1-ms samples read 8 % to 360 % of a core), and does not advise a shorter interval.
    #[test]
    fn a_run_under_10_ms_is_too_short_for_samples() {
        let mut r = sampled(0.008, &[2.5, 3.7, 4.9, 6.0, 7.2, 8.0]);
        let res = r.resources.as_mut().unwrap();
        (res.cpu_percent.mean, res.cpu_percent.max) = (None, None);
        res.sample_interval_ms = 1;
        let figure = resources_figure(&r);
        assert_eq!(
            figure,
            ResourcesFigure::TooShortForSamples {
                run_s: 0.008,
                peak_rss_bytes: 12_000_000
            }
        );
        assert_eq!(
            figure.to_string(),
            "run too short for samples (< 10 ms); CPU and memory over time need a run of 10 ms \
             or more (this one: 0.008 s); peak RSS (VmHWM) 12.0 MB"
        );
        // One sample in 7 ms: the same, not "lower the sample interval (this run: 1 ms)".
        r.resources.as_mut().unwrap().samples.truncate(1);
        r.total_time_s = 0.007;
        assert!(matches!(
            resources_figure(&r),
            ResourcesFigure::TooShortForSamples { .. }
        ));
        // A merged report lacks a mean when one part was short; the whole run is plotted.
        let mut merged = sampled(0.35, &[100.0, 200.0, 300.0]);
        merged.resources.as_mut().unwrap().cpu_percent.mean = None;
        assert!(matches!(
            resources_figure(&merged),
            ResourcesFigure::Series { .. }
        ));
    }

    #[test]
    fn no_resources_say_why() {
        let mut r = sampled(1.0, &[]);
        r.resources = None;
        r.resources_unavailable = Some("sampler switched off".to_owned());
        assert_eq!(
            resources_figure(&r).to_string(),
            "resources not sampled: sampler switched off"
        );
    }
}
