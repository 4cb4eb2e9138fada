//! Each profiled thread's scheduler counters per sample window: pure code, no I/O, no clock.
//!
//! At every sample the sampler reads each ticking thread's counters (`procfs::thread_sched`);
//! the difference from the previous reading is one window. A window's `from_ms` is when the
//! previous read had finished and its `to_ms` when this one began, so whatever the kernel
//! counted between those instants is in the window's delta (events during a read itself, a few
//! µs, land in one of the two windows around it). Consecutive windows are contiguous, so the
//! sum over a run of them counts everything in `[first.from_ms, last.to_ms]`.
//!
//! Memory is bounded and independent of ticks: at most [`MAX_THREADS`] threads, each at most
//! [`MAX_WINDOWS`] windows. A full thread merges neighbouring windows pairwise (their counts
//! add up, exactly) and every later window covers twice as many samples: a long run keeps the
//! whole run at a coarser grain, which loosens the upper bounds but never makes them wrong.
//! Nothing here is a peak to keep: sums are the right merge for counts.

use std::collections::BTreeMap;

use super::procfs::{SchedCounters, ThreadRead};
use crate::report::ThreadSampling;

/// Threads followed at most; later ones are counted, not followed (a program spawning a thread
/// per task must not grow the sampler without bound).
pub(crate) const MAX_THREADS: usize = 128;

/// Windows kept per thread (even): 1,024 × 40 bytes, 40 KiB per thread at most; 8.5 minutes
/// at the default period before windows are merged.
pub(crate) const MAX_WINDOWS: usize = 1024;

/// What the scheduler counted for one thread over a span of time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SchedDelta {
    pub(crate) involuntary: u32,
    pub(crate) voluntary: u32,
    pub(crate) wait_ns: u64,
    pub(crate) on_cpu_ns: u64,
}

impl SchedDelta {
    /// `later − earlier`, saturating (counters only grow; a tid reused by another thread of
    /// the process would read lower).
    fn between(earlier: &SchedCounters, later: &SchedCounters) -> Self {
        let narrow = |a: u64, b: u64| u32::try_from(b.saturating_sub(a)).unwrap_or(u32::MAX);
        SchedDelta {
            involuntary: narrow(earlier.involuntary, later.involuntary),
            voluntary: narrow(earlier.voluntary, later.voluntary),
            wait_ns: later.wait_ns.saturating_sub(earlier.wait_ns),
            on_cpu_ns: later.on_cpu_ns.saturating_sub(earlier.on_cpu_ns),
        }
    }

    fn add(&mut self, other: &SchedDelta) {
        self.involuntary = self.involuntary.saturating_add(other.involuntary);
        self.voluntary = self.voluntary.saturating_add(other.voluntary);
        self.wait_ns = self.wait_ns.saturating_add(other.wait_ns);
        self.on_cpu_ns = self.on_cpu_ns.saturating_add(other.on_cpu_ns);
    }
}

/// One window: ms since the sampler started.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Window {
    pub(crate) from_ms: f64,
    pub(crate) to_ms: f64,
    pub(crate) delta: SchedDelta,
    /// Samples merged in.
    count: u64,
}

impl Window {
    fn absorb(&mut self, later: &Window) {
        self.to_ms = later.to_ms;
        self.delta.add(&later.delta);
        self.count = self.count.saturating_add(later.count);
    }
}

/// One thread's windows and its latest reading.
#[derive(Debug, Clone, Default)]
struct Thread {
    /// The latest reading, and when it had finished (ms).
    last: Option<(f64, SchedCounters)>,
    windows: Vec<Window>,
    /// Samples per full window (1, 2, 4, …).
    stride: u64,
    /// Its `/proc` entry is gone: never read again.
    exited: bool,
}

impl Thread {
    fn push(&mut self, window: Window) {
        match self.windows.last_mut() {
            Some(last) if last.count < self.stride => last.absorb(&window),
            _ => {
                if self.windows.len() >= MAX_WINDOWS {
                    self.decimate();
                }
                self.windows.push(window);
            }
        }
    }

    /// Merges neighbouring windows pairwise and doubles the stride.
    fn decimate(&mut self) {
        let merged: Vec<Window> = self
            .windows
            .chunks(2)
            .filter_map(|pair| {
                let mut window = *pair.first()?;
                if let Some(later) = pair.get(1) {
                    window.absorb(later);
                }
                Some(window)
            })
            .collect();
        self.windows = merged;
        self.stride = self.stride.max(1).saturating_mul(2);
    }
}

/// The counts over the windows that hold a span of time, and their extent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Around {
    pub(crate) from_ms: f64,
    pub(crate) to_ms: f64,
    pub(crate) delta: SchedDelta,
}

/// Every followed thread's windows.
#[derive(Debug, Clone, Default)]
pub(crate) struct ThreadWindows {
    threads: BTreeMap<u32, Thread>,
    stats: ThreadSampling,
    /// Every thread of the process as the sampler started, and its counters then (`None`:
    /// unreadable): a thread that starts ticking later has its first window from the start, so
    /// its CPU time covers the whole run. Emptied as threads are first read.
    at_start: BTreeMap<u32, Option<SchedCounters>>,
    /// `at_start` lists every thread there was: one missing from it began after the start,
    /// and all its counts are in the run.
    at_start_complete: bool,
    /// When `at_start` was read (sampler ms).
    start_ms: f64,
}

impl ThreadWindows {
    /// Records the process's threads as the sampler starts (`listed`: whether `readings` is
    /// all of them), at `at_ms`: where a thread's first window begins if it is first read later.
    pub(crate) fn start(
        &mut self,
        at_ms: f64,
        readings: impl IntoIterator<Item = (u32, Option<SchedCounters>)>,
        listed: bool,
    ) {
        self.at_start.clear();
        let mut complete = listed;
        for (tid, counters) in readings {
            if self.at_start.len() >= MAX_THREADS {
                complete = false;
                break;
            }
            self.at_start.insert(tid, counters);
        }
        self.at_start_complete = complete;
        self.start_ms = at_ms;
    }

    /// Whether nothing is known of `tid` yet: never read, and not listed at the start.
    pub(crate) fn unknown(&self, tid: u32) -> bool {
        !self.threads.contains_key(&tid) && !self.at_start.contains_key(&tid)
    }

    /// `tid` began after the start (its own start time says so): its first window counts from
    /// zero, whatever the listing at the start missed.
    pub(crate) fn began_after_start(&mut self, tid: u32) {
        if self.at_start.len() < MAX_THREADS {
            self.at_start
                .entry(tid)
                .or_insert(Some(SchedCounters::default()));
        }
    }

    /// Whether the sampler should read `tid` at this sample (a thread that exited is not read
    /// again; one beyond [`MAX_THREADS`] is counted once and never followed).
    pub(crate) fn wants(&mut self, tid: u32) -> bool {
        if let Some(thread) = self.threads.get(&tid) {
            return !thread.exited;
        }
        if self.threads.len() >= MAX_THREADS {
            self.stats.threads_untracked = self.stats.threads_untracked.saturating_add(1);
            // Remembered as exited, so it is counted once (the map may exceed the bound by
            // the tids refused, which carry no windows).
            self.threads.insert(
                tid,
                Thread {
                    exited: true,
                    ..Thread::default()
                },
            );
            return false;
        }
        true
    }

    /// Records a reading of `tid` begun at `before_ms` and finished at `after_ms`.
    pub(crate) fn record(
        &mut self,
        tid: u32,
        before_ms: f64,
        after_ms: f64,
        reading: Result<SchedCounters, ThreadRead>,
    ) {
        let thread = self.threads.entry(tid).or_default();
        match reading {
            Ok(now) => {
                let last = thread.last.or_else(|| {
                    self.stats.threads_sampled = self.stats.threads_sampled.saturating_add(1);
                    // First read: from its counters at the start, or from zero if it began
                    // after it; nothing if it is unknown.
                    match self.at_start.remove(&tid) {
                        Some(at_start) => at_start.map(|c| (self.start_ms, c)),
                        None if self.at_start_complete => {
                            Some((self.start_ms, SchedCounters::default()))
                        }
                        None => None,
                    }
                });
                if let Some((last_ms, last)) = last {
                    thread.push(Window {
                        from_ms: last_ms,
                        to_ms: before_ms,
                        delta: SchedDelta::between(&last, &now),
                        count: 1,
                    });
                }
                thread.last = Some((after_ms, now));
            }
            Err(ThreadRead::Exited) => {
                thread.exited = true;
                self.stats.threads_exited = self.stats.threads_exited.saturating_add(1);
            }
            // The next good reading's window spans the gap: coarser, still right.
            Err(ThreadRead::Unreadable) => {
                self.stats.reads_failed = self.stats.reads_failed.saturating_add(1);
            }
        }
    }

    /// The counts of `tid` over the contiguous windows that together hold all of
    /// `[from_ms, to_ms]` (sampler ms); `None` when no reading of the thread covers it (before
    /// its first reading, after its last, or a thread never followed).
    pub(crate) fn around(&self, tid: u32, from_ms: f64, to_ms: f64) -> Option<Around> {
        let windows = &self.threads.get(&tid)?.windows;
        // The last window starting at or before `from_ms`.
        let first = windows
            .partition_point(|w| w.from_ms <= from_ms)
            .checked_sub(1)?;
        let rest = windows.get(first..)?;
        let last = first + rest.iter().position(|w| w.to_ms >= to_ms)?;
        let covering = windows.get(first..=last)?;
        let mut delta = SchedDelta::default();
        covering.iter().for_each(|w| delta.add(&w.delta));
        Some(Around {
            from_ms: covering.first()?.from_ms,
            to_ms: covering.last()?.to_ms,
            delta,
        })
    }

    /// `tid`'s time on a CPU over its windows (from the sampler's start, or its first read,
    /// to its last read); `None` for a thread with no window.
    pub(crate) fn on_cpu_ns(&self, tid: u32) -> Option<u64> {
        let thread = self.threads.get(&tid)?;
        // One that exited was last read up to a period before: its figure would be short.
        if thread.exited || thread.windows.is_empty() {
            return None;
        }
        Some(thread.windows.iter().map(|w| w.delta.on_cpu_ns).sum())
    }

    /// `tid`'s time on a CPU from where its windows begin (the sampler's start, or its
    /// creation) to its exit, given its own reading then (`exit_ns`); `None` when where they
    /// begin is unknown.
    pub(crate) fn on_cpu_ns_at_exit(&self, tid: u32, exit_ns: u64) -> Option<u64> {
        let base = match self.threads.get(&tid) {
            Some(thread) => {
                let (_, last) = thread.last?;
                if thread.windows.is_empty() {
                    // Read once, with nothing before it: where it began is not known.
                    return None;
                }
                let counted: u64 = thread.windows.iter().map(|w| w.delta.on_cpu_ns).sum();
                last.on_cpu_ns.checked_sub(counted)?
            }
            None => match self.at_start.get(&tid) {
                Some(at_start) => at_start.as_ref()?.on_cpu_ns,
                None if self.at_start_complete => 0,
                None => return None,
            },
        };
        exit_ns.checked_sub(base)
    }

    /// [`on_cpu_ns`](Self::on_cpu_ns) of every thread that has a figure.
    pub(crate) fn all_on_cpu_ns(&self) -> BTreeMap<u32, u64> {
        self.threads
            .keys()
            .filter_map(|&tid| Some((tid, self.on_cpu_ns(tid)?)))
            .collect()
    }

    /// How the per-thread reads went.
    pub(crate) fn stats(&self) -> ThreadSampling {
        self.stats
    }

    /// Windows stored for `tid` (tests).
    #[cfg(test)]
    fn windows(&self, tid: u32) -> usize {
        self.threads.get(&tid).map_or(0, |t| t.windows.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counters(involuntary: u64, wait_ns: u64) -> SchedCounters {
        SchedCounters {
            on_cpu_ns: 10 * wait_ns,
            wait_ns,
            voluntary: 2 * involuntary,
            involuntary,
        }
    }

    /// Readings of one thread at 100 ms steps, each taking 1 ms; `f(i)` is the cumulative
    /// count at reading `i`.
    fn series(n: u64, f: impl Fn(u64) -> (u64, u64)) -> ThreadWindows {
        let mut w = ThreadWindows::default();
        for i in 0..n {
            let (inv, wait) = f(i);
            let at = i as f64 * 100.0;
            assert!(w.wants(7));
            w.record(7, at, at + 1.0, Ok(counters(inv, wait)));
        }
        w
    }

    #[test]
    fn windows_are_deltas_between_reads() {
        let w = series(4, |i| (i * i, 1_000 * i));
        // Reads at 0, 100, 200, 300 ms: windows 1–100, 101–200, 201–300.
        assert_eq!(w.windows(7), 3);
        let a = w.around(7, 150.0, 160.0).unwrap();
        assert_eq!((a.from_ms, a.to_ms), (101.0, 200.0));
        assert_eq!(a.delta.involuntary, 4 - 1);
        assert_eq!(a.delta.wait_ns, 1_000);
        assert_eq!(a.delta.voluntary, 6);
        // Across a boundary: both windows, summed.
        let a = w.around(7, 150.0, 250.0).unwrap();
        assert_eq!((a.from_ms, a.to_ms), (101.0, 300.0));
        assert_eq!(a.delta.involuntary, 9 - 1);
        // Inside a read (100–101 ms): the window before it is included.
        let a = w.around(7, 100.5, 150.0).unwrap();
        assert_eq!(a.from_ms, 1.0);
    }

    #[test]
    fn uncovered_spans_have_no_figure() {
        let w = series(3, |i| (i, i));
        assert_eq!(w.around(7, 0.5, 10.0), None, "before the first window");
        assert_eq!(w.around(7, 150.0, 250.0), None, "past the last reading");
        assert_eq!(w.around(8, 50.0, 60.0), None, "a thread never read");
        assert!(w.around(7, 1.0, 200.0).is_some());
    }

    #[test]
    fn decimation_bounds_memory_and_keeps_sums() {
        let n = 10 * MAX_WINDOWS as u64 + 3;
        let w = series(n, |i| (i, 5 * i));
        assert!(w.windows(7) <= MAX_WINDOWS);
        assert!(w.windows(7) >= MAX_WINDOWS / 2);
        // The whole run: every count, exactly.
        let last_ms = (n - 1) as f64 * 100.0;
        let a = w.around(7, 1.0, last_ms).unwrap();
        assert_eq!(u64::from(a.delta.involuntary), n - 1);
        assert_eq!(a.delta.wait_ns, 5 * (n - 1));
        // A short span: one merged window, which holds it.
        let a = w.around(7, 50_000.0, 50_010.0).unwrap();
        assert!(a.from_ms <= 50_000.0 && a.to_ms >= 50_010.0);
        assert!(a.to_ms - a.from_ms < 100.0 * 32.0, "{a:?}");
    }

    #[test]
    fn exited_and_unreadable_threads_are_counted() {
        let mut w = series(3, |i| (i, i));
        w.record(7, 300.0, 301.0, Err(ThreadRead::Unreadable));
        w.record(7, 400.0, 401.0, Ok(counters(9, 9)));
        // The failed read widened the last window, still contiguous.
        let a = w.around(7, 250.0, 350.0).unwrap();
        assert_eq!((a.from_ms, a.to_ms), (201.0, 400.0));
        assert_eq!(a.delta.involuntary, 9 - 2);
        w.record(7, 500.0, 500.5, Err(ThreadRead::Exited));
        assert!(!w.wants(7));
        let stats = w.stats();
        assert_eq!(
            (
                stats.threads_sampled,
                stats.reads_failed,
                stats.threads_exited
            ),
            (1, 1, 1)
        );
    }

    #[test]
    fn threads_beyond_the_bound_are_counted_once() {
        let mut w = ThreadWindows::default();
        for tid in 0..MAX_THREADS as u32 {
            assert!(w.wants(tid));
            w.record(tid, 0.0, 1.0, Ok(counters(0, 0)));
        }
        assert!(!w.wants(100_000));
        assert!(!w.wants(100_000));
        assert_eq!(w.stats().threads_untracked, 1);
        assert!(w.wants(3), "followed threads stay followed");
    }

    #[test]
    fn a_thread_first_read_late_counts_from_the_start() {
        let at = |cpu: u64| SchedCounters {
            on_cpu_ns: cpu,
            ..SchedCounters::default()
        };
        let mut w = ThreadWindows::default();
        // Threads 7 (50 ns of CPU before the start) and 8 (unreadable) at the start, complete.
        w.start(0.5, [(7, Some(at(50))), (8, None)], true);
        // Read first at 200 ms: 7 from its start reading, 9 (begun after the start) from zero,
        // 8 unknown.
        for (tid, cpu) in [(7, 80), (8, 1_000), (9, 30)] {
            assert!(w.wants(tid));
            w.record(tid, 200.0, 201.0, Ok(at(cpu)));
        }
        assert_eq!(w.on_cpu_ns(7), Some(30));
        assert_eq!(w.on_cpu_ns(9), Some(30));
        assert_eq!(w.on_cpu_ns(8), None);
        let a = w.around(7, 10.0, 20.0).unwrap();
        assert_eq!((a.from_ms, a.to_ms), (0.5, 200.0));
        // A later read adds its window.
        w.record(7, 300.0, 301.0, Ok(at(100)));
        assert_eq!(w.on_cpu_ns(7), Some(50));
        assert_eq!(
            w.all_on_cpu_ns().into_iter().collect::<Vec<_>>(),
            [(7, 50), (9, 30)]
        );
        // One that exited has no figure: its last window ends up to a period early; with its
        // own reading at its exit, it is exact.
        w.record(9, 400.0, 401.0, Err(ThreadRead::Exited));
        assert_eq!(w.on_cpu_ns(9), None);
        assert_eq!(
            w.on_cpu_ns_at_exit(9, 75),
            Some(75),
            "begun after the start"
        );
        assert_eq!(
            w.on_cpu_ns_at_exit(7, 120),
            Some(70),
            "from its 50 ns at the start"
        );
        // Never read by the sampler: from its reading at the start, or from zero.
        let mut w = ThreadWindows::default();
        w.start(0.0, [(7, Some(at(50))), (8, None)], true);
        assert_eq!(w.on_cpu_ns_at_exit(7, 90), Some(40));
        assert_eq!(w.on_cpu_ns_at_exit(8, 90), None, "unreadable at the start");
        assert_eq!(
            w.on_cpu_ns_at_exit(9, 90),
            Some(90),
            "begun after the start"
        );
        // An incomplete listing: a thread missing from it is unknown, not new...
        let mut w = ThreadWindows::default();
        w.start(0.0, [(7, Some(at(50)))], false);
        assert!(w.wants(9));
        assert!(w.unknown(9));
        w.record(9, 200.0, 201.0, Ok(at(30)));
        assert_eq!(w.on_cpu_ns(9), None);
        // ...unless its own start time says it began after the start.
        assert!(w.unknown(10));
        w.began_after_start(10);
        assert!(!w.unknown(10));
        w.record(10, 200.0, 201.0, Ok(at(30)));
        assert_eq!(w.on_cpu_ns(10), Some(30));
        assert_eq!(w.stats().threads_sampled, 2);
    }
}
