//! Adversarial checks of the live engines: runs restarted while the previous run's writers
//! finish, writers sharing a path, collectors dropped mid-run, full disks, and intervals taken
//! from several threads while threads tick, exit and are replaced.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::process::alone;
use tickprof::interval_log::{TICK_TAG, read_window};
use tickprof::{Error, MetricsCollector, Report, Sampling};
use tracing_subscriber::prelude::*;

/// Tests here share a tmpfs mount: one at a time. (The one that counts the process's threads
/// runs in a process of its own.)
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn tick() {
    let _tick = tracing::info_span!("tick").entered();
    let _parse = tracing::info_span!("parse").entered();
    // A span inside a component: the component's busy time is compensated for it.
    let _inner = tracing::info_span!("inner").entered();
    std::hint::black_box(0);
}

/// A tick of twelve components: an interval log line each.
fn wide_tick() {
    let _tick = tracing::info_span!("tick").entered();
    macro_rules! components {
        ($($name:literal)*) => { $( drop(tracing::info_span!($name).entered()); )* };
    }
    components!("c00" "c01" "c02" "c03" "c04" "c05" "c06" "c07" "c08" "c09" "c10" "c11");
}

/// Ticks on a thread of its own under `dispatch` until the returned flag is set.
fn ticker(dispatch: &tracing::Dispatch) -> (Arc<AtomicBool>, std::thread::JoinHandle<()>) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let dispatch = dispatch.clone();
    let handle = std::thread::spawn(move || {
        tracing::dispatcher::with_default(&dispatch, || {
            while !flag.load(Ordering::Relaxed) {
                tick();
            }
        });
    });
    (stop, handle)
}

/// Threads of this process whose name starts with `prefix`.
fn threads_named(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
                .filter(|comm| comm.starts_with(prefix))
                .count()
        })
        .unwrap_or(0)
}

/// Waits up to 10 s (a loaded machine may be slow to run an exiting thread to its end; a thread
/// left behind never goes) for no thread named `prefix` to be left.
fn no_thread_left(prefix: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if threads_named(prefix) == 0 {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    threads_named(prefix) == 0
}

/// A 64 KiB tmpfs mounted in `dir` (root only), unmounted when dropped; `None` if it cannot
/// be mounted.
fn tiny_disk(dir: &Path) -> Option<TinyDisk> {
    let mount = dir.join("tiny");
    std::fs::create_dir(&mount).ok()?;
    std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&mount)
        .status()
        .is_ok_and(|s| s.success())
        .then_some(TinyDisk(mount))
}

struct TinyDisk(std::path::PathBuf);

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

/// A run started by another handle the moment `stop_profiling` releases the run must find its
/// interval log and checkpoint to itself: the previous run's last interval is not appended to
/// the new run's log (same path), and the previous run's final report does not land over the
/// new run's.
#[test]
fn a_run_restarted_during_a_stop_owns_its_files() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let template = |ext: &str| dir.path().join(format!("{{name}}.{ext}"));
    for round in 0..20 {
        let collector = MetricsCollector::builder()
            .sampling(Sampling::full())
            .warmup_ticks(0)
            .measure_overhead(false)
            .without_resource_sampling()
            .checkpoint(template("json").to_str().unwrap(), Duration::from_millis(1))
            .interval_log(template("hlog").to_str().unwrap(), Duration::from_millis(1))
            .build()
            .unwrap();
        let dispatch =
            tracing::Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
        let (stop, handle) = ticker(&dispatch);
        collector.start_profiling("same").unwrap();
        std::thread::sleep(Duration::from_millis(30));
        while collector.ticks_so_far() == 0 {
            std::thread::yield_now();
        }
        let other = collector.clone();
        let restarter = std::thread::spawn(move || {
            loop {
                match other.start_profiling("same") {
                    Ok(()) => return,
                    Err(Error::AlreadyProfiling(_)) => std::hint::spin_loop(),
                    Err(error) => panic!("{error}"),
                }
            }
        });
        let first = collector.stop_profiling().unwrap();
        restarter.join().unwrap();
        // The second run holds ticks however long the ticker is preempted.
        while collector.ticks_so_far() == 0 {
            std::thread::yield_now();
        }
        let second = collector.stop_profiling().unwrap();
        stop.store(true, Ordering::Relaxed);
        handle.join().unwrap();
        assert!(first.ticks.count > 0 && second.ticks.count > 0);

        let log = dir.path().join("same.hlog");
        let window = read_window(&log, None, None)
            .unwrap_or_else(|e| panic!("round {round}: the second run's log: {e}"));
        assert_eq!(
            window.tags[TICK_TAG].histogram.len(),
            second.ticks.latency.samples,
            "round {round}: the log holds the second run's ticks, and only them"
        );
        let saved = Report::load(dir.path().join("same.json")).unwrap();
        assert!(saved.part.is_none(), "round {round}: a final report");
        assert_eq!(
            saved.ticks.count, second.ticks.count,
            "round {round}: the second run's final report is the one on disk"
        );
    }
}

/// Checkpoints are renamed over their path: an interval log on the same path would be
/// replaced by the first checkpoint, and go on writing to a file no longer there.
#[test]
fn a_checkpoint_and_an_interval_log_on_one_path_is_a_config_error() {
    let error = MetricsCollector::builder()
        .checkpoint("out/{name}.dat", Duration::from_secs(1))
        .interval_log("out/{name}.dat", Duration::from_secs(1))
        .build()
        .unwrap_err();
    assert!(
        matches!(&error, Error::Config(m) if m.contains("out/{name}.dat")),
        "{error}"
    );
    // Two templates that are one file for this run's name.
    let dir = tempfile::tempdir().unwrap();
    let collector = MetricsCollector::builder()
        .measure_overhead(false)
        .without_resource_sampling()
        .checkpoint(
            dir.path().join("{name}.dat").to_str().unwrap(),
            Duration::from_secs(1),
        )
        .interval_log(
            dir.path().join("x.dat").to_str().unwrap(),
            Duration::from_secs(1),
        )
        .build()
        .unwrap();
    let error = collector.start_profiling("x").unwrap_err();
    assert!(
        matches!(&error, Error::Config(m) if m.contains("x.dat")),
        "{error}"
    );
    assert!(!collector.is_profiling());
    collector.start_profiling("y").unwrap();
    collector.stop_profiling().unwrap();
}

/// Dropping every handle of a collector mid-run, with both writers on a 1 ms period, stops
/// the writers (no thread left behind) and panics nowhere.
#[test]
fn dropping_every_handle_mid_run_stops_the_writers() {
    // Alone: it counts the process's writer and sampler threads, which other tests start.
    if !alone(
        module_path!(),
        "dropping_every_handle_mid_run_stops_the_writers",
    ) {
        return;
    }
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..20 {
        let collector = MetricsCollector::builder()
            .measure_overhead(false)
            .checkpoint(
                dir.path().join("{name}.json").to_str().unwrap(),
                Duration::from_millis(1),
            )
            .interval_log(
                dir.path().join("{name}.hlog").to_str().unwrap(),
                Duration::from_millis(1),
            )
            .build()
            .unwrap();
        let dispatch =
            tracing::Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
        let (stop, handle) = ticker(&dispatch);
        collector.start_profiling("dropped").unwrap();
        std::thread::sleep(Duration::from_millis(5));
        drop(collector);
        std::thread::sleep(Duration::from_millis(2));
        stop.store(true, Ordering::Relaxed);
        handle.join().unwrap();
    }
    assert!(
        no_thread_left("tickprof-checkp"),
        "a checkpoint writer is left"
    );
    assert!(
        no_thread_left("tickprof-hlog"),
        "an interval log writer is left"
    );
    assert!(no_thread_left("tickprof-sampl"), "a sampler is left");
}

/// With the calibration on and sampled ticks, every figure of every interval is measured as
/// the final report's is (nothing is corrected from a report's own means): the interval log's
/// tick and every component, leaves and components holding spans alike, merge back to the
/// final report exactly.
#[test]
fn a_sampled_calibrated_log_merges_back_exactly() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let collector = MetricsCollector::builder()
        .sampling(Sampling::one_in(2))
        .warmup_ticks(0)
        .without_resource_sampling()
        .interval_log(
            dir.path().join("{name}.hlog").to_str().unwrap(),
            Duration::from_millis(50),
        )
        .build()
        .unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
    let (stop, handle) = ticker(&dispatch);
    collector.start_profiling("calibrated").unwrap();
    std::thread::sleep(Duration::from_millis(400));
    let report = collector.stop_profiling().unwrap();
    stop.store(true, Ordering::Relaxed);
    handle.join().unwrap();
    assert!(report.overhead.nested_span_in_run_ns.is_none());
    let window = read_window(dir.path().join("calibrated.hlog"), None, None).unwrap();
    let decoded = |stats: &tickprof::LatencyStats| stats.decode_histogram("h").unwrap();
    assert!(window.tags[TICK_TAG].histogram == decoded(&report.ticks.latency));
    for name in ["inner", "parse"] {
        assert!(
            window.tags[name].histogram == decoded(&report.components[name].latency),
            "{name}"
        );
    }
}

/// A full disk mid-run: checkpoint saves fail and are counted, nothing panics, and once the
/// disk has room again the final report replaces the last checkpoint. Needs root (a 64 KiB tmpfs); skipped otherwise.
#[test]
fn a_full_disk_is_counted_not_raised() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = tiny_disk(dir.path()) else {
        eprintln!("skipped: cannot mount a tmpfs");
        return;
    };
    let mount = &disk.0;
    let collector = MetricsCollector::builder()
        .measure_overhead(false)
        .without_resource_sampling()
        .checkpoint(
            mount.join("{name}.json").to_str().unwrap(),
            Duration::from_millis(2),
        )
        .interval_log(
            mount.join("{name}.hlog").to_str().unwrap(),
            Duration::from_millis(1),
        )
        .build()
        .unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
    let (stop, handle) = ticker(&dispatch);
    collector.start_profiling("full").unwrap();
    std::thread::sleep(Duration::from_millis(50));
    // Fill what is left of the disk, then free it again.
    let filler = mount.join("filler");
    let _ = std::fs::write(&filler, vec![0_u8; 128 * 1024]);
    std::thread::sleep(Duration::from_millis(300));
    std::fs::remove_file(&filler).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let report = collector.stop_profiling().unwrap();
    stop.store(true, Ordering::Relaxed);
    handle.join().unwrap();
    let checkpoints = report.checkpoints.as_ref().unwrap();
    let log = report.interval_log.as_ref().unwrap();
    assert!(checkpoints.failed > 0, "{checkpoints:?}");
    assert!(checkpoints.final_written, "{checkpoints:?}");
    assert!(report.ticks.count > 0);
    // The log has a gap where writes failed, but every line in it reads.
    let window = read_window(mount.join("full.hlog"), None, None);
    assert!(window.is_ok(), "{:?}; {log:?}", window.err());
    let saved = Report::load(mount.join("full.json")).unwrap();
    assert_eq!(saved.ticks.count, report.ticks.count);
}

/// One figure of a report.
type Count = Box<dyn Fn(&Report) -> u64>;

/// Sums `f` over reports.
fn sum(reports: &[Report], f: impl Fn(&Report) -> u64) -> u64 {
    reports.iter().map(f).sum()
}

/// Threads tick, exit and are replaced (their shards reused within the run) while three other
/// threads take intervals and snapshots: the intervals add up to the final report exactly, in
/// every count, whatever the sampling.
#[test]
fn intervals_from_three_threads_with_threads_coming_and_going_add_up() {
    for sampling in [Sampling::full(), Sampling::one_in(3), Sampling::default()] {
        let collector = MetricsCollector::builder()
            .sampling(sampling)
            .warmup_ticks(50)
            .without_resource_sampling()
            .build()
            .unwrap();
        let dispatch =
            tracing::Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
        collector.start_profiling("churn").unwrap();
        let done = Arc::new(AtomicBool::new(false));
        let takers: Vec<_> = (0..3)
            .map(|i| {
                let collector = collector.clone();
                let done = Arc::clone(&done);
                std::thread::spawn(move || {
                    let mut intervals = Vec::new();
                    while !done.load(Ordering::Relaxed) {
                        if i == 2 {
                            let _ = collector.snapshot().unwrap();
                        } else {
                            intervals.push(collector.interval().unwrap());
                        }
                        std::thread::sleep(Duration::from_micros(300));
                    }
                    intervals
                })
            })
            .collect();
        let mut ticked = 0_u64;
        for _generation in 0..6 {
            let workers: Vec<_> = (0..4)
                .map(|_| {
                    let dispatch = dispatch.clone();
                    std::thread::spawn(move || {
                        tracing::dispatcher::with_default(&dispatch, || {
                            for _ in 0..3_000 {
                                tick();
                            }
                        });
                        3_000_u64
                    })
                })
                .collect();
            ticked += workers.into_iter().map(|w| w.join().unwrap()).sum::<u64>();
        }
        done.store(true, Ordering::Relaxed);
        let mut intervals: Vec<Report> =
            takers.into_iter().flat_map(|t| t.join().unwrap()).collect();
        // No thread ticks any more: one last interval takes the rest of the run.
        intervals.push(collector.interval().unwrap());
        let report = collector.stop_profiling().unwrap();
        assert_eq!(report.ticks.count, ticked, "{sampling:?}");
        let mut indexes: Vec<u64> = intervals
            .iter()
            .map(|r| match r.part {
                Some(tickprof::RunPart::Interval { index, .. }) => index,
                _ => 0,
            })
            .collect();
        indexes.sort_unstable();
        assert_eq!(indexes, (1..=intervals.len() as u64).collect::<Vec<_>>());
        let s = |r: &Report| r.sampling.clone().unwrap();
        let w = |r: &Report| r.ticks.warmup.clone().unwrap();
        let checks: Vec<(&str, Count)> = vec![
            ("ticks.count", Box::new(|r| r.ticks.count)),
            ("latency samples", Box::new(|r| r.ticks.latency.samples)),
            ("ticks_timed", Box::new(move |r| s(r).ticks_timed)),
            ("ticks_recorded", Box::new(move |r| s(r).ticks_recorded)),
            ("windows", Box::new(move |r| s(r).windows)),
            ("warmup.count", Box::new(move |r| w(r).count)),
            ("warmup.recorded", Box::new(move |r| w(r).recorded)),
            (
                "warmup samples",
                Box::new(move |r| w(r).latency.map_or(0, |l| l.samples)),
            ),
            (
                "parse count",
                Box::new(|r| r.components.get("parse").map_or(0, |c| c.count)),
            ),
            ("overflow", Box::new(|r| r.dropped.overflow)),
            ("straddled", Box::new(|r| r.dropped.straddled)),
            ("clamped", Box::new(|r| r.dropped.clamped)),
            ("missing", Box::new(|r| r.dropped.missing_span_data)),
            ("uncredited", Box::new(|r| r.dropped.uncredited_children)),
        ];
        for (what, f) in &checks {
            assert_eq!(
                sum(&intervals, f),
                f(&report),
                "{what} with {sampling:?} over {} intervals",
                intervals.len()
            );
        }
    }
}

/// Async ticks on a multi-thread runtime, moving between workers at every `.await`, while
/// two threads take intervals: the intervals add up to the final report in ticks, latency
/// samples and component counts.
/// (Under heavy load the final report's `fetch` count was seen below the 1,200 spans that
/// closed, with no dropped counter; not asserted here until explained.)
#[test]
fn async_ticks_moving_between_threads_add_up_across_intervals() {
    use tracing::Instrument;
    use tracing::instrument::WithSubscriber;
    let collector = MetricsCollector::builder()
        .sampling(Sampling::full())
        .warmup_ticks(3)
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_time()
        .build()
        .unwrap();
    collector.start_profiling("async").unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let takers: Vec<_> = (0..2)
        .map(|_| {
            let collector = collector.clone();
            let done = Arc::clone(&done);
            std::thread::spawn(move || {
                let mut intervals = Vec::new();
                while !done.load(Ordering::Relaxed) {
                    intervals.push(collector.interval().unwrap());
                    std::thread::sleep(Duration::from_micros(500));
                }
                intervals
            })
        })
        .collect();
    runtime.block_on(async {
        let tasks: Vec<_> = (0..400_u64)
            .map(|i| {
                let span =
                    tracing::dispatcher::with_default(&dispatch, || tracing::info_span!("tick"));
                let work = async move {
                    for _ in 0..3 {
                        async { tokio::task::yield_now().await }
                            .instrument(tracing::info_span!("fetch"))
                            .await;
                    }
                    std::hint::black_box(i);
                };
                tokio::spawn(work.instrument(span).with_subscriber(dispatch.clone()))
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    done.store(true, Ordering::Relaxed);
    let mut intervals: Vec<Report> = takers.into_iter().flat_map(|t| t.join().unwrap()).collect();
    intervals.push(collector.interval().unwrap());
    let report = collector.stop_profiling().unwrap();
    assert_eq!(report.ticks.count, 400);
    let total = |f: &dyn Fn(&Report) -> u64| intervals.iter().map(f).sum::<u64>();
    assert_eq!(total(&|r| r.ticks.count), 400);
    assert_eq!(
        total(&|r| r.ticks.latency.samples + r.ticks.warmup.as_ref().unwrap().count),
        report.ticks.latency.samples + report.ticks.warmup.as_ref().unwrap().count
    );
    assert_eq!(
        total(&|r| r.components.get("fetch").map_or(0, |c| c.count)),
        report.components["fetch"].count
    );
}

/// `stop_profiling` while other threads take snapshots and intervals: each gets a report or
/// `NotProfiling`, nothing panics or waits forever, and the next run starts clean.
#[test]
fn stop_racing_with_snapshots_and_intervals() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..20 {
        let collector = MetricsCollector::builder()
            .measure_overhead(false)
            .without_resource_sampling()
            .interval_log(
                dir.path().join("{name}.hlog").to_str().unwrap(),
                Duration::from_millis(1),
            )
            .build()
            .unwrap();
        let dispatch =
            tracing::Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
        let (stop, handle) = ticker(&dispatch);
        collector.start_profiling("race").unwrap();
        let readers: Vec<_> = (0..3)
            .map(|i| {
                let collector = collector.clone();
                std::thread::spawn(move || {
                    loop {
                        let taken = if i == 0 {
                            collector.snapshot()
                        } else {
                            collector.interval()
                        };
                        match taken {
                            Ok(_) => {}
                            Err(Error::NotProfiling) => return,
                            Err(error) => panic!("{error}"),
                        }
                    }
                })
            })
            .collect();
        while collector.ticks_so_far() == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(5));
        let report = collector.stop_profiling().unwrap();
        for reader in readers {
            reader.join().unwrap();
        }
        stop.store(true, Ordering::Relaxed);
        handle.join().unwrap();
        assert!(report.ticks.count > 0);
    }
}
/// An interval log whose writes fail (a full disk) and then succeed again: the intervals that
/// failed are missing, and every line in the file still reads (a line cut by the full disk
/// would make the whole log unreadable). Needs root (a tmpfs); skipped otherwise.
#[test]
fn an_interval_log_reads_after_the_disk_was_full() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = tiny_disk(dir.path()) else {
        eprintln!("skipped: cannot mount a tmpfs");
        return;
    };
    let mount = &disk.0;
    let collector = MetricsCollector::builder()
        .sampling(Sampling::full())
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
    collector.start_profiling("wide").unwrap();
    let mut log = tickprof::interval_log::IntervalLog::create(
        mount.join("wide.hlog"),
        "wide",
        std::time::SystemTime::now(),
    )
    .unwrap();
    let interval = || {
        tracing::dispatcher::with_default(&dispatch, || {
            for _ in 0..200 {
                wide_tick();
            }
        });
        collector.interval().unwrap()
    };
    log.append(&interval()).unwrap();
    let filler = mount.join("filler");
    let _ = std::fs::write(&filler, vec![0_u8; 128 * 1024]);
    let mut failed = 0;
    for _ in 0..8 {
        failed += u32::from(log.append(&interval()).is_err());
    }
    std::fs::remove_file(&filler).unwrap();
    let mut written_after = 0;
    for _ in 0..3 {
        written_after += u32::from(log.append(&interval()).is_ok());
    }
    let _ = collector.stop_profiling().unwrap();
    assert!(failed > 0, "the disk was full");
    assert_eq!(written_after, 3, "the disk has room again");
    let window = read_window(mount.join("wide.hlog"), None, None);
    assert!(window.is_ok(), "{}", window.unwrap_err());
}

/// An interval log whose intervals have different histogram bounds (reports of two
/// collectors appended to one log, or logs concatenated): a window merges them, whichever
/// comes first, as HdrHistogram's own log processor does.
#[test]
fn a_window_merges_intervals_of_different_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.hlog");
    let interval_of = |highest: Duration, spin: Duration| {
        let collector = MetricsCollector::builder()
            .sampling(Sampling::full())
            .warmup_ticks(0)
            .measure_overhead(false)
            .without_resource_sampling()
            .histogram_bounds(Duration::from_nanos(1), highest)
            .build()
            .unwrap();
        let dispatch =
            tracing::Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
        collector.start_profiling("mixed").unwrap();
        tracing::dispatcher::with_default(&dispatch, || {
            for _ in 0..10 {
                let _tick = tracing::info_span!("tick").entered();
                let start = Instant::now();
                while start.elapsed() < spin {
                    std::hint::spin_loop();
                }
            }
        });
        let interval = collector.interval().unwrap();
        collector.stop_profiling().unwrap();
        interval
    };
    // Narrow bounds first (1 ns .. 100 µs), then ticks of 2 ms under wide bounds.
    let narrow = interval_of(Duration::from_micros(100), Duration::ZERO);
    let wide = interval_of(Duration::from_secs(10), Duration::from_millis(2));
    let mut log =
        tickprof::interval_log::IntervalLog::create(&path, "mixed", std::time::SystemTime::now())
            .unwrap();
    log.append(&narrow).unwrap();
    log.append(&wide).unwrap();
    drop(log);
    let window = read_window(&path, None, None).unwrap();
    let ticks = &window.tags[TICK_TAG].histogram;
    assert_eq!(ticks.len(), 20);
    assert!(ticks.max() >= 2_000_000, "max {} ns", ticks.max());
}

/// A process killed while its interval log writes a line leaves that line cut short, with no
/// newline: the log still reads, up to its last whole line. A cut line that is not the last
/// is still an error naming it.
#[test]
fn a_log_cut_mid_line_reads_to_its_last_whole_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.hlog");
    let collector = MetricsCollector::builder()
        .sampling(Sampling::full())
        .warmup_ticks(0)
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
    collector.start_profiling("cut").unwrap();
    let mut log =
        tickprof::interval_log::IntervalLog::create(&path, "cut", std::time::SystemTime::now())
            .unwrap();
    for _ in 0..3 {
        tracing::dispatcher::with_default(&dispatch, || {
            for _ in 0..10 {
                tick();
            }
        });
        log.append(&collector.interval().unwrap()).unwrap();
    }
    drop(log);
    collector.stop_profiling().unwrap();
    let whole = std::fs::read_to_string(&path).unwrap();
    let last = whole.lines().last().unwrap().to_owned();
    for cut in [5, 20, last.len() / 2, last.len() - 3] {
        let text = format!("{whole}{}", &last[..cut]);
        std::fs::write(&path, &text).unwrap();
        let window =
            read_window(&path, None, None).unwrap_or_else(|e| panic!("cut after {cut} bytes: {e}"));
        assert_eq!(
            window.tags[TICK_TAG].histogram.len(),
            30,
            "cut after {cut} bytes"
        );
    }
    // The same line cut short, then a whole one: a broken line in the middle is an error.
    let cut = &last[..last.len() / 2];
    std::fs::write(&path, format!("{whole}{cut}\n{last}\n")).unwrap();
    let error = read_window(&path, None, None).unwrap_err().to_string();
    let line = whole.lines().count() + 1;
    assert!(error.contains(&format!("line {line}")), "{error}");
}

/// Span names first seen while intervals are being taken: every one is counted. (The harvest
/// read the names before taking the threads' histograms; a component whose name was interned
/// in between had its histogram taken and dropped as nameless.)
#[test]
fn components_first_seen_during_a_harvest_are_not_dropped() {
    let collector = MetricsCollector::builder()
        .sampling(Sampling::full())
        .warmup_ticks(0)
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(collector.layer()));
    collector.start_profiling("names").unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let taker = {
        let collector = collector.clone();
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                let _ = collector.interval().unwrap();
            }
        })
    };
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let dispatch = dispatch.clone();
            std::thread::spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    for _ in 0..50 {
                        wide_tick();
                        std::thread::sleep(Duration::from_micros(200));
                    }
                });
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    done.store(true, Ordering::Relaxed);
    taker.join().unwrap();
    let report = collector.stop_profiling().unwrap();
    assert_eq!(report.ticks.count, 200);
    for (name, component) in &report.components {
        assert_eq!(component.count, 200, "{name}");
    }
    assert_eq!(report.components.len(), 12);
}
