//! Was it the code or the machine: a slow tick's `scheduler` figures, read by the resource
//! sampler from its thread's `/proc/self/task/<tid>/{schedstat,status}`.
//!
//! The assertions are what the kernel must show, not timings: a tick that sleeps blocks (a
//! voluntary switch) and spends the window off CPU; a CPU-bound tick among more busy threads
//! than cores is time-shared, so it is preempted and waits on the run queue. The two runs are
//! serialized (the second loads every core). Skipped, saying why, where the kernel has no
//! `schedstat` files.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::sampler_support;
use tickprof::{MetricsCollector, Report, SchedulerAround, Shards, SlowTick};
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

/// The sampler's period: several windows before, inside and after the slow tick.
const PERIOD: Duration = Duration::from_millis(50);
/// The slow tick's length, and the quiet time around it (more than two periods, so the
/// thread is read before the tick and after it).
const SLOW: Duration = Duration::from_millis(300);
const AROUND: Duration = Duration::from_millis(150);
/// The sleeping tick's sleeps.
const SLEEPS: u32 = 30;

fn schedstats() -> bool {
    let present = std::path::Path::new("/proc/thread-self/schedstat").exists();
    if !present {
        eprintln!("skipped: no /proc/thread-self/schedstat (a kernel without CONFIG_SCHEDSTATS)");
    }
    present
}

fn spin(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

/// Runs `slow` inside one tick on a fresh thread, between short ticks and quiet pauses, and
/// returns the report.
fn profile(slow: fn()) -> Report {
    let collector = MetricsCollector::builder()
        .sample_interval(PERIOD)
        .slowest_ticks(3)
        .warmup_ticks(0)
        .measure_overhead(false)
        .build()
        .unwrap();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
    collector.start_profiling("scheduler").unwrap();
    std::thread::spawn(move || {
        tracing::dispatcher::with_default(&dispatch, || {
            for _ in 0..3 {
                let _t = tracing::info_span!("tick").entered();
            }
            std::thread::sleep(AROUND);
            {
                let _t = tracing::info_span!("tick").entered();
                slow();
            }
            let _t = tracing::info_span!("tick").entered();
        });
        std::thread::sleep(AROUND);
    })
    .join()
    .unwrap();
    collector.stop_profiling().unwrap()
}

/// The slow tick: the slowest, with its thread's figures.
fn slowest(report: &Report) -> (&SlowTick, &SchedulerAround) {
    // Timed or recorded (the first window records this thread's first ticks): the slowest of
    // both lists.
    let slow = report.slowest_ticks.as_ref().unwrap();
    let tick = slow.all().max_by_key(|t| t.latency_ns).unwrap();
    assert!(tick.wall_ns >= SLOW.as_nanos() as u64, "{tick:?}");
    assert!(tick.tid.is_some(), "no tid for {tick:?}");
    let scheduler = tick.scheduler.as_ref().unwrap_or_else(|| {
        panic!(
            "no scheduler figures for {tick:?}; resources {:?}",
            report.resources
        )
    });
    // The windows hold the whole tick.
    let start_ms = tick.offset_s * 1e3;
    assert!(scheduler.from_ms <= start_ms, "{scheduler:?} vs {tick:?}");
    assert!(
        scheduler.to_ms >= start_ms + tick.wall_ns as f64 / 1e6,
        "{scheduler:?} vs {tick:?}"
    );
    (tick, scheduler)
}

#[test]
fn a_sleeping_tick_blocked_and_was_not_preempted_for_it() {
    if !schedstats() {
        return;
    }
    // One run at a time: the preemption run saturates the machine.
    let _turn = sampler_support::one_at_a_time();
    // The tick sleeps in 30 pieces: 30 times the thread gives the CPU up.
    let report = profile(|| {
        for _ in 0..SLEEPS {
            std::thread::sleep(SLOW / SLEEPS);
        }
    });
    let (tick, s) = slowest(&report);
    eprintln!("{s:?}");
    // The kernel counts each sleep as the thread giving the CPU up.
    assert!(s.voluntary_switches >= u64::from(SLEEPS), "{s:?}");
    // Off CPU for most of the window: it slept, it was not kept off a CPU it wanted.
    assert!(s.on_cpu_ns < tick.wall_ns / 2, "{s:?}");
    // It ran for microseconds between its sleeps: being preempted in them at least as often as
    // it blocked would mean the kernel counted its sleeps as preemptions. (A loaded machine
    // does preempt it now and then: twice in one run beside two `yes`, when the tick was one
    // sleep of 300 ms and this failed as 2 against 2.)
    assert!(s.involuntary_switches < s.voluntary_switches, "{s:?}");
    let threads = report.resources.as_ref().unwrap().threads.unwrap();
    assert!(threads.threads_sampled >= 1, "{threads:?}");

    // (b) A report written before these fields loads, without them (absent, not zero).
    let mut json: serde_json::Value = serde_json::from_str(&report.to_json_string()).unwrap();
    let slow = json["slowest_ticks"].as_object_mut().unwrap();
    for list in ["ticks", "recorded"] {
        for t in slow[list].as_array_mut().unwrap() {
            let t = t.as_object_mut().unwrap();
            assert!(t.contains_key("tid"));
            t.remove("tid");
            t.remove("scheduler");
        }
    }
    json["resources"].as_object_mut().unwrap().remove("threads");
    // Another run, for the merge below.
    json["name"] = "older".into();
    json["started_at"] = "2020-01-01T00:00:00.000Z".into();
    let old = Report::from_json_str(&json.to_string(), "old.json".as_ref()).unwrap();
    let old_tick = old.slowest_ticks.as_ref().unwrap().all().next().unwrap();
    assert_eq!((old_tick.tid, &old_tick.scheduler), (None, &None));
    assert!(!old.summary().contains("descheduled"));
    assert!(!old.summary().contains("preempted"));

    // (c) A merge keeps the figures, and the summary says them.
    let merged =
        tickprof::merge_reports([("a", &report), ("b", &old)], Shards::Sequential).unwrap();
    let kept = merged
        .slowest_ticks
        .as_ref()
        .unwrap()
        .all()
        .find(|t| t.run.as_deref() == Some("scheduler") && t.ordinal == tick.ordinal)
        .unwrap();
    assert_eq!(kept.scheduler.as_ref(), Some(s));
    // Said once per sample window (and thread), with the ticks it holds.
    let summary = merged.summary();
    // Its ordinal as the outputs print it (the first word of its name).
    let name = tick.name();
    let ordinal = name.split(' ').next().unwrap_or_default();
    let line = summary
        .lines()
        .map(str::trim)
        .find(|l| {
            l.starts_with(&format!("scheduler, {}, ", tick.thread))
                && l.rsplit_once(" — ").is_some_and(|(_, ticks)| {
                    ticks == "all of them" || ticks.split(", ").any(|t| t == ordinal)
                })
        })
        .unwrap_or_else(|| panic!("no scheduler line for {ordinal} in\n{summary}"));
    let said = if s.not_descheduled() && s.voluntary_switches == 0 {
        "not descheduled"
    } else if s.not_descheduled() {
        "not preempted, blocked"
    } else {
        "thread preempted"
    };
    assert!(line.contains(said), "{line}");
    assert!(
        summary.contains("(counts over the window, not necessarily in the tick"),
        "{summary}"
    );
}

#[test]
fn a_busy_tick_among_more_busy_threads_than_cores_was_preempted() {
    if !schedstats() {
        return;
    }
    // One run at a time: the preemption run saturates the machine.
    let _turn = sampler_support::one_at_a_time();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    // More runnable threads than cores for the whole run: the scheduler must share them out.
    let spinners: Vec<_> = (0..cores + 2)
        .map(|_| {
            let stop = std::sync::Arc::clone(&stop);
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
            })
        })
        .collect();
    let report = profile(|| spin(SLOW));
    stop.store(true, Ordering::Relaxed);
    spinners.into_iter().for_each(|s| s.join().unwrap());
    let (_, s) = slowest(&report);
    eprintln!("{s:?}");
    assert!(s.involuntary_switches >= 1, "{s:?}");
    assert!(s.run_queue_wait_ns > 0, "{s:?}");
    assert!(!s.not_descheduled());
    let summary = report.summary();
    assert!(
        summary.contains("thread preempted") && summary.contains("not necessarily in the tick"),
        "{summary}"
    );
}
