//! The printed summary and the graphs agree on every number they share: the report goes to the
//! summary text and to the numbers each graph draws (its series, legends, labels and captions,
//! not its pixels), and each number the text prints is compared with the one drawn, at the
//! text's precision. (Scaling efficiency, which the driver's verdict prints, is compared in the
//! driver's own tests; here the panel's points are checked against the library estimator.)

use tracing_subscriber::prelude::*;

use super::efficiency_panel;
use super::slow_ticks_figure::{self, Row};
use super::{
    Curve, Palette, ScalabilitySeries, latency_curves, resources_captions, slow_tick_marks,
};
use crate::report::{
    Dominant, InsideTicks, LoopComparison, LoopTimes, Report, SchedulerAround, SlowestTicks,
    TimelineSpan,
};
use crate::scaling::ScalingEfficiency;
use crate::test_support::{latency, report, resources};
use crate::thousands;

/// The summary's lines, trimmed.
fn lines(summary: &str) -> Vec<&str> {
    summary.lines().map(str::trim).collect()
}

/// The rest of the first line that starts with `prefix`.
fn after<'s>(summary: &'s str, prefix: &str) -> &'s str {
    summary
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no line `{prefix}…` in\n{summary}"))
}

/// The cells of the component table's row for `name`.
fn row_cells<'s>(summary: &'s str, name: &str) -> Vec<&'s str> {
    lines(summary)
        .into_iter()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|cells| cells.first() == Some(&name))
        .unwrap_or_else(|| panic!("no table row `{name}` in\n{summary}"))
}

fn curve<'c>(curves: &'c [Curve], name: &str) -> &'c Curve {
    curves
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no curve `{name}`"))
}

/// Checks every number `report`'s summary shares with its graphs; returns how many.
fn check(report: &Report) -> usize {
    let summary = report.summary();
    let mut compared = 0;
    let mut same = |what: &str, text: &str, drawn: &str| {
        assert_eq!(
            text, drawn,
            "{what}: the summary says {text}, the graph {drawn}\n{summary}"
        );
        compared += 1;
    };

    // The headline block against the scalability panels (a sweep of this run alone draws the
    // same series) and the latency legend's tick.
    let series = ScalabilitySeries::of(&[report]);
    same(
        "Ticks/second",
        after(&summary, "Ticks/second: "),
        &thousands(series.throughput[0].round() as u64),
    );
    let total = if series.total_time_s[0] >= 1.0 {
        format!("{:.2} seconds", series.total_time_s[0])
    } else {
        format!("{:.4} seconds", series.total_time_s[0])
    };
    same("Total Time", after(&summary, "Total Time: "), &total);
    let palette = Palette::from_reports([report]);
    let tick_hist = report
        .ticks
        .latency
        .decode_histogram("ticks.latency")
        .unwrap();
    let marks = slow_tick_marks::marks(report, &tick_hist);
    let curves = latency_curves(report, &palette, tick_hist).unwrap();
    let tick = curve(&curves, "tick");
    let two = |us: f64| report.resolved(us * 1e3).micros(2);
    same(
        "Mean Time",
        after(&summary, "Mean Time: "),
        &format!("{} µs", tick.mean.micros(2)),
    );
    same(
        "Mean Time",
        after(&summary, "Mean Time: "),
        &format!("{} µs", two(series.mean_us[0])),
    );
    same(
        "p99_us",
        after(&summary, "p99_us: "),
        &format!("{} µs", tick.p99.micros(2)),
    );
    same(
        "p99_us",
        after(&summary, "p99_us: "),
        &format!("{} µs", two(series.p99_us[0])),
    );
    if let Some(l) = &report.loop_comparison {
        let rates = format!(
            "({} vs {} ticks/s)",
            thousands(series.profiled[0].round() as u64),
            thousands(series.bare[0].round() as u64)
        );
        let distortion = after(&summary, "Profiler distortion: ");
        same(
            "loop rates",
            &distortion.contains(&rates).to_string(),
            "true",
        );
        assert!(l.bare_per_s > 0.0);
    }

    // The recorded ticks' mean (the basis of the shares) against its curve's legend.
    if let Some(c) = curves.iter().find(|c| c.name == super::RECORDED_TICK_CURVE) {
        let basis = after(&summary, "Components (");
        same(
            "recorded ticks' mean",
            &basis
                .contains(&format!("recorded ticks' mean, {} µs", c.mean.micros(3)))
                .to_string(),
            "true",
        );
    }

    // The component table against the latency legend: mean and p99 of every component and of
    // the unattributed time, `<` marks included.
    for name in report.components.keys() {
        let cells = row_cells(&summary, name);
        let c = curve(&curves, name);
        same(&format!("{name} mean"), cells[3], &c.mean.micros(3));
        same(&format!("{name} p99"), cells[5], &c.p99.micros(3));
    }
    if report.unattributed.samples > 0 {
        let cells = row_cells(&summary, "(unattributed)");
        let c = curve(&curves, "(unattributed)");
        // `(unattributed)`, its count, then the figures (no spans per tick).
        same("(unattributed) mean", cells[2], &c.mean.micros(3));
        same("(unattributed) p99", cells[4], &c.p99.micros(3));
    }

    // The slowest ticks: the slow-ticks figure's rows, in the summary's order, with the same
    // names, net times and dominant parts; the latency graph's labelled markers are the first
    // ones of the list.
    let rows: Vec<Row> = slow_ticks_figure::rows(report, &palette);
    let listed: Vec<&str> = lines(&summary)
        .into_iter()
        .filter(|l| l.starts_with("tick #"))
        .collect();
    same(
        "listed ticks",
        &listed.len().to_string(),
        &rows.len().to_string(),
    );
    for (line, row) in listed.iter().zip(&rows) {
        let (name, net) = row.label.split_once("  ").unwrap();
        same(
            "tick name",
            &line.starts_with(&format!("tick {name} (")).to_string(),
            "true",
        );
        same(
            &format!("{name} net time"),
            &line.contains(&format!(": {net} — ")).to_string(),
            "true",
        );
        if let Some(dominant) = &row.dominant {
            same(
                &format!("{name} dominant"),
                &line.ends_with(dominant.as_str()).to_string(),
                "true",
            );
        }
    }
    for (mark, line) in marks.iter().zip(&listed) {
        if let Some(label) = &mark.label {
            same(
                "marker label",
                &line.starts_with(&format!("tick {label}")).to_string(),
                "true",
            );
        }
    }

    // The resources panels' captions against "Resource Usage".
    if let Some(res) = &report.resources {
        let (cpu, memory) = resources_captions(res);
        let one_core = after(&summary, "CPU: ");
        let mean = res.cpu_percent.mean.map(|m| format!("{m:.1}"));
        let max = res.cpu_percent.max.map(|m| format!("{m:.1}"));
        for figure in [mean, max].into_iter().flatten() {
            same(
                "CPU",
                &one_core.contains(&format!("{figure}%")).to_string(),
                "true",
            );
            same(
                "CPU",
                &cpu.contains(&format!("{figure} %")).to_string(),
                "true",
            );
        }
        let mb = after(&summary, "Memory: ");
        let mean = format!("{:.1}", res.memory_bytes.mean / 1e6);
        let peak = format!("{:.1}", res.peak_rss_bytes as f64 / 1e6);
        same("memory", mb, &format!("{mean} MB (peak: {peak} MB)"));
        same(
            "memory",
            &memory,
            &format!("Resident memory: mean {mean} MB, OS peak (VmHWM) {peak} MB"),
        );
    }
    compared
}

/// A report with every figure the outputs share: components above and below the resolution,
/// recorded and timed-only slow ticks with scheduler windows, resources, loop times.
fn synthetic() -> Report {
    let ticks: Vec<u64> = (0..2_000).map(|i| 900 + (i * 7) % 400).collect();
    let mut r = report(
        "agree_2000",
        &ticks,
        &[("parse", &[600; 2_000]), ("strategy", &[30; 2_000])],
    );
    r.overhead.empty_span_busy_ns = 40.0;
    for c in r.components.values_mut() {
        c.self_time = Some(c.latency.clone());
        c.per_tick = Some(1.0);
    }
    r.ticks.recorded = Some(latency(&[1_000; 2_000]));
    r.unattributed = latency(&(0..2_000).map(|i| 300 + i % 200).collect::<Vec<_>>());
    // A schema 2–4 estimate apart from the histogram's mean (the legend said 3.9 µs where the
    // summary said 0.000).
    r.unattributed_mean_ns = Some(150.0);
    r.inside_ticks = InsideTicks::estimate(&r, Some(r.total_time_s));
    r.resources = Some(resources(24.3, 65.1, 2.0));
    r.resources_unavailable = None;
    let times = LoopTimes {
        ticks: 2_000,
        warmup_ticks: 100,
        bare_s: [0.0019, 0.0021],
        profiled_s: 0.0024,
        bare_after_warmup_s: [0.0018, 0.0020],
        profiled_after_warmup_s: 0.0023,
    };
    r.loop_comparison = Some(LoopComparison::from_times(times));
    let slow = |ordinal: u64, latency_ns: u64, recorded: bool, from_ms: f64| {
        let mut t = crate::report::test_slow_tick(ordinal, latency_ns, recorded);
        t.raw_ns = latency_ns + 500;
        t.wall_ns = latency_ns + 500;
        if recorded {
            t.timeline = vec![TimelineSpan {
                name: "parse".to_owned(),
                offset_ns: 100,
                duration_ns: latency_ns / 2,
                busy_ns: latency_ns / 2 - 50,
                depth: 1,
                parent: None,
            }];
            t.dominant = t.compute_dominant();
        }
        t.scheduler = Some(SchedulerAround {
            from_ms,
            to_ms: from_ms + 100.0,
            involuntary_switches: 3,
            voluntary_switches: 0,
            run_queue_wait_ns: 2_000_000,
            on_cpu_ns: 90_000_000,
        });
        t
    };
    r.slowest_ticks = Some(SlowestTicks::from_ticks(
        3,
        0,
        [
            slow(17, 4_160_000, true, 0.0),
            slow(1_204, 12_000, false, 0.0),
            slow(990, 9_000, true, 100.0),
            slow(5, 1_500, false, 100.0),
            slow(6, 2_500, true, 100.0),
        ],
    ));
    r
}

#[test]
fn the_summary_and_the_graphs_of_a_constructed_report_agree() {
    let r = synthetic();
    // The case the figures were made for: a component below the resolution, marked in both.
    assert_eq!(r.resolved(30.0).micros(3), "<0.080");
    let slow = r.slowest_ticks.as_ref().unwrap();
    assert_eq!((slow.ticks.len(), slow.recorded.len()), (3, 1));
    assert!(matches!(
        slow.ticks[0].dominant,
        Some(Dominant { ref name, .. }) if name == "parse" || name == "(unattributed)"
    ));
    let compared = check(&r);
    assert!(compared >= 30, "{compared} numbers compared");
}

#[test]
fn the_summary_and_the_graphs_of_a_real_run_agree() {
    let report = real_run(crate::Sampling::full(), 2_000);
    assert!(report.inside_ticks.is_some());
    let compared = check(&report);
    assert!(compared >= 20, "{compared} numbers compared");
}

/// With sampling the components come from the recorded ticks: their curve is drawn, and its
/// mean is the one the summary's shares are of.
#[test]
fn the_summary_and_the_graphs_of_a_sampled_run_agree() {
    let report = real_run(crate::Sampling::one_in(20), 20_000);
    assert!(
        report
            .ticks
            .recorded
            .as_ref()
            .is_some_and(|r| r.samples > 0)
    );
    let palette = Palette::from_reports([&report]);
    let tick_hist = report
        .ticks
        .latency
        .decode_histogram("ticks.latency")
        .unwrap();
    let curves = latency_curves(&report, &palette, tick_hist).unwrap();
    assert!(curves.iter().any(|c| c.name == super::RECORDED_TICK_CURVE));
    let compared = check(&report);
    assert!(compared >= 20, "{compared} numbers compared");
}

/// A run of `ticks` ticks of two components (one with a child), sampled by `sampling`.
fn real_run(sampling: crate::Sampling, ticks: u64) -> Report {
    let collector = crate::MetricsCollector::builder()
        .sampling(sampling)
        .warmup_ticks(10)
        .slowest_ticks(5)
        .without_resource_sampling()
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(collector.layer());
    tracing::subscriber::with_default(subscriber, || {
        collector.start_profiling("real").unwrap();
        for i in 0..ticks {
            let _tick = tracing::info_span!("tick", seq = i).entered();
            {
                let _parse = tracing::info_span!("parse").entered();
                let _inner = tracing::info_span!("decode").entered();
                std::hint::black_box((0..200 + i % 50).sum::<u64>());
            }
            let _strategy = tracing::info_span!("strategy").entered();
            std::hint::black_box(i);
        }
        let report = collector.stop_profiling().unwrap();
        assert_eq!(report.ticks.count, ticks);
        report
    })
}

/// The efficiency panel draws [`ScalingEfficiency`]'s figures, the ones the driver's verdict
/// prints (the driver's tests compare its text with the estimator).
#[test]
fn the_efficiency_panel_draws_the_estimator() {
    let run = |ticks: u64, bare_ns: f64, profiled_ns: f64| {
        let mut r = synthetic();
        r.name = format!("sweep_{ticks}");
        r.ticks.count = ticks;
        let after = (ticks - 1_000) as f64 / 1e9;
        r.loop_comparison = Some(LoopComparison::from_times(LoopTimes {
            ticks,
            warmup_ticks: 1_000,
            bare_s: [bare_ns * after; 2],
            profiled_s: profiled_ns * after,
            bare_after_warmup_s: [bare_ns * after * 1.02, bare_ns * after * 0.98],
            profiled_after_warmup_s: profiled_ns * after,
        }));
        r
    };
    let reports = [
        run(11_000, 2_000.0, 2_100.0),
        run(101_000, 700.0, 750.0),
        run(1_001_000, 720.0, 760.0),
    ];
    let refs: Vec<&Report> = reports.iter().collect();
    let points = efficiency_panel::points(&refs);
    let e = ScalingEfficiency::of(&reports);
    let [bare, profiled] = [&points.series[0], &points.series[1]];
    assert_eq!((bare.label, profiled.label), ("bare loop", "profiled loop"));
    for (i, run) in e.runs.iter().enumerate() {
        assert_eq!(
            bare.points[i],
            (run.ticks as f64, 100.0 * e.bare(i).unwrap(), run.judged())
        );
        assert_eq!(
            profiled.points[i],
            (
                run.ticks as f64,
                100.0 * e.profiled(i).unwrap(),
                run.judged()
            )
        );
    }
    // The verdict's figure: 700 → 720 ns = 97.2 %, the panel's last point.
    assert_eq!(format!("{:.1}", bare.points[2].1), "97.2");
    assert!(
        !bare.points[0].2,
        "11,000 ticks: 10 ms after the warm-up, not judged"
    );
    assert!(points.caption.contains("vs 101k"), "{}", points.caption);
}
