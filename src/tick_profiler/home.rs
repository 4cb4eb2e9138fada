//! A thread's home: the part of a thread's state that other threads must reach. It holds the
//! cumulative timing of every live span created on the thread (until the span closes,
//! whichever thread enters, exits or closes it), the thread's records (histograms, counters,
//! slowest ticks) and its tick count. The owner takes its mutex once per span creation, exit
//! and close; another thread only when a span moves between threads; a harvest for a swap.
//!
//! A home outlives its thread (the collector keeps it): a later thread takes over a home whose
//! thread exited, so memory does not grow with thread churn, and what it recorded is kept.

use rustc_hash::FxHashMap;

use super::records::{Counters, ThreadRecords};
use super::slow_ticks::ThreadSlowTicks;
use super::sync::{AtomicBool, AtomicU64, Mutex, MutexGuard, Ordering, lock};
use super::thread_ticks::{ThreadKey, ThreadTicks};
use super::timing::SpanTiming;

#[derive(Debug)]
pub(crate) struct Home {
    /// The run `ticks` counts: stored (Release) by the owner after resetting `ticks`.
    run: AtomicU64,
    /// Ticks counted on this home in `run`: written by the owner only (load + store: no
    /// read-modify-write on the hot path), read by anyone. `'static` so that the untimed
    /// tick's shortcut (a thread-local `Cell`, see `thread::Shortcut`) can count into it: one
    /// word leaked per home, and homes are reused when their threads exit.
    ticks: &'static AtomicU64,
    /// Odd span sequences seen by any thread for this home's spans.
    pub(crate) odd: AtomicU64,
    /// The owner's kernel id (0: unknown), for the resource sampler.
    tid: AtomicU64,
    /// Whether a thread owns it (see [`claim`](Self::claim), [`release`](Self::release)).
    owned: AtomicBool,
    /// Set by another thread that closed one of this home's spans: the owner may still have
    /// it entered (a raw enter, a forgotten guard), and checks its stack (see
    /// `ThreadState::drop_dead_frames`).
    closed_elsewhere: AtomicBool,
    data: Mutex<HomeData>,
}

/// The part of a home behind its mutex.
#[derive(Debug, Default)]
pub(crate) struct HomeData {
    /// The run these belong to; records of another run are never mixed in.
    run: u64,
    /// The live tracked spans created on this thread, by id: their cumulative timing.
    pub(crate) spans: FxHashMap<u64, SpanTiming>,
    /// What the thread recorded since the last harvest.
    pub(crate) records: ThreadRecords,
    /// The thread's slowest ticks, and the components of the tick being assembled.
    pub(crate) slow: ThreadSlowTicks,
    /// The thread that owns it now (its name and kernel id): whose ticks a harvest reports.
    owner: Option<ThreadKey>,
    /// Owners that left during the run since the last harvest, with their ticks: the records
    /// hold theirs and the current owner's together.
    handed_over: Vec<(ThreadKey, ThreadTicks)>,
    /// The sum of `handed_over`'s ticks, taken from the records' at the harvest.
    handed_over_sum: ThreadTicks,
    /// Owners that exited during the run, with their CPU time as they exited (kernel id, ns;
    /// the last [`EXITS`]): the resource sampler cannot read a thread that is gone.
    exits: Vec<(u32, u64)>,
    /// Emptied records a harvest swaps in, so the owner never waits for a merge.
    spare: Option<ThreadRecords>,
    /// What earlier harvests of `run` took of the counters read without the mutex.
    harvested_ticks: u64,
    harvested_odd: u64,
}

/// Counts one tick on a home's counter. Its owner thread only (load + store).
#[inline]
pub(crate) fn count(ticks: &AtomicU64) {
    let n = ticks.load(Ordering::Relaxed).wrapping_add(1);
    ticks.store(n, Ordering::Relaxed);
}

/// Exits a home remembers per run.
const EXITS: usize = 16;

/// Owners that left a home between two harvests, kept apart at most; later ones are added
/// to one entry (a program that spawns a thread per task must not grow a home without bound).
const HANDED_OVER: usize = 16;

/// Keeps `previous`'s ticks apart, or in the last entry once [`HANDED_OVER`] are kept.
fn hand_over(kept: &mut Vec<(ThreadKey, ThreadTicks)>, previous: ThreadKey, ticks: ThreadTicks) {
    let full = kept.len() >= HANDED_OVER;
    match kept.last_mut() {
        Some((key, sum)) if full => {
            *key = ThreadKey::others();
            sum.add(&ticks);
        }
        _ => kept.push((previous, ticks)),
    }
}

/// Whether a harvest leaves the run going or ends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Harvest {
    /// A snapshot or interval: the home keeps recording the run.
    DuringRun,
    /// The run has stopped: the home forgets it.
    Final,
}

/// What one home gave a harvest.
#[derive(Debug, Default)]
pub(crate) struct Harvested {
    pub(crate) records: ThreadRecords,
    pub(crate) slow: super::slow_ticks::SlowCandidates,
    pub(crate) ticks: u64,
    pub(crate) odd: u64,
    /// Its owners since the last harvest and what their ticks add to the time inside ticks.
    pub(crate) threads: Vec<(ThreadKey, ThreadTicks)>,
}

impl Default for Home {
    fn default() -> Self {
        Home {
            run: AtomicU64::new(0),
            ticks: Box::leak(Box::new(AtomicU64::new(0))),
            odd: AtomicU64::new(0),
            tid: AtomicU64::new(0),
            owned: AtomicBool::new(false),
            closed_elsewhere: AtomicBool::new(false),
            data: Mutex::default(),
        }
    }
}

impl Home {
    /// The counter of ticks (for the untimed tick's shortcut).
    pub(crate) fn tick_counter(&self) -> &'static AtomicU64 {
        self.ticks
    }

    /// Another thread closed one of this home's spans (see `closed_elsewhere`).
    pub(crate) fn note_closed_elsewhere(&self) {
        self.closed_elsewhere.store(true, Ordering::Relaxed);
    }

    /// Whether another thread closed one of this home's spans since the last call.
    #[inline]
    pub(crate) fn take_closed_elsewhere(&self) -> bool {
        self.closed_elsewhere.load(Ordering::Relaxed)
            && self.closed_elsewhere.swap(false, Ordering::Relaxed)
    }

    /// Locks the home's data.
    #[inline]
    pub(crate) fn data(&self) -> MutexGuard<'_, HomeData> {
        lock(&self.data)
    }

    /// Makes the calling thread its owner, if it has none: whether it did. Acquire pairs with
    /// the previous owner's Release in [`release`](Self::release): its last writes happen
    /// before the new owner's.
    pub(crate) fn claim(&self) -> bool {
        self.owned
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Its owner thread exits (its state is dropped): another thread may take it over.
    pub(crate) fn release(&self) {
        self.owned.store(false, Ordering::Release);
    }

    /// Counts one tick. Owner only.
    #[inline]
    pub(crate) fn count_tick(&self) {
        count(self.ticks);
    }

    /// Ticks counted on this home in `run` (0 if it has not ticked in it). Any thread.
    pub(crate) fn ticks_in(&self, run: u64) -> u64 {
        if self.run.load(Ordering::Acquire) == run {
            self.ticks.load(Ordering::Relaxed)
        } else {
            0
        }
    }

    /// The kernel id of the thread that last began a run here, if known.
    // Read only by the resource sampler (feature `sampler`).
    #[cfg_attr(not(feature = "sampler"), allow(dead_code))]
    pub(crate) fn tid(&self) -> Option<u32> {
        u32::try_from(self.tid.load(Ordering::Relaxed))
            .ok()
            .filter(|&tid| tid != 0)
    }

    /// The owner's first callback in `run`: a home that already holds `run` (its previous owner
    /// exited during the run) keeps its records, which add up; any other is emptied.
    pub(crate) fn begin_run(
        &self,
        run: u64,
        slowest_ticks: usize,
        warmup_ticks: u64,
        sampled: bool,
        tid: Option<u32>,
    ) {
        let owner = ThreadKey::current(tid);
        let mut data = self.data();
        self.tid
            .store(u64::from(tid.unwrap_or(0)), Ordering::Relaxed);
        if data.run == run {
            // The previous owner exited during the run: what the records hold so far is its.
            let ticks = self.ticks_in(run).saturating_sub(data.harvested_ticks);
            let mut so_far = ThreadTicks::from_records(&data.records, ticks);
            so_far.subtract(&data.handed_over_sum);
            if let Some(previous) = data.owner.replace(owner.clone())
                && !so_far.is_empty()
            {
                data.handed_over_sum.add(&so_far);
                hand_over(&mut data.handed_over, previous, so_far);
            }
            data.slow.begin_thread(owner);
            return;
        }
        data.owner = Some(owner.clone());
        data.exits.clear();
        data.handed_over.clear();
        data.handed_over_sum = ThreadTicks::default();
        data.run = run;
        data.spans.clear();
        data.take_made_histograms();
        data.records.reset();
        data.slow.reset(slowest_ticks, warmup_ticks, sampled, owner);
        data.harvested_ticks = 0;
        data.harvested_odd = 0;
        self.ticks.store(0, Ordering::Relaxed);
        self.odd.store(0, Ordering::Relaxed);
        // Pairs with the Acquire load in `ticks_in`: a reader that sees the new run sees the
        // counter reset.
        self.run.store(run, Ordering::Release);
    }

    /// Takes what this home recorded of `run` since the previous harvest. Under the mutex it
    /// only swaps the records with the spare; the caller merges them and hands them back
    /// emptied with [`give_back`](Self::give_back).
    pub(crate) fn harvest(&self, run: u64, harvest: Harvest) -> Option<Harvested> {
        let mut data = self.data();
        if data.run != run {
            return None;
        }
        let mut records = data.spare.take().unwrap_or_default();
        std::mem::swap(&mut records, &mut data.records);
        let slow = data.slow.take();
        let ticks_so_far = self.ticks_in(run);
        let odd = self.odd.load(Ordering::Relaxed);
        let ticks = ticks_so_far.saturating_sub(data.harvested_ticks);
        let mut threads = std::mem::take(&mut data.handed_over);
        for (maker, n) in &records.moved_from {
            threads.push((maker.clone(), ThreadTicks::moved_out(*n)));
        }
        if let Some(owner) = data.owner.clone() {
            let mut own = ThreadTicks::from_records(&records, ticks);
            own.subtract(&data.handed_over_sum);
            threads.push((owner, own));
        }
        data.handed_over_sum = ThreadTicks::default();
        let mut taken = Harvested {
            records,
            slow,
            ticks,
            odd: odd.saturating_sub(data.harvested_odd),
            threads,
        };
        data.harvested_ticks = ticks_so_far;
        data.harvested_odd = odd;
        if harvest == Harvest::Final {
            // Recorded ticks still open as the run ends (a child span leaked inside one keeps
            // it open): their components were recorded without them.
            let open = data
                .spans
                .values()
                .filter(|timing| timing.live.is_some())
                .count();
            taken.records.counters.straddled += open as u64;
            data.run = 0;
            data.spans.clear();
            data.harvested_ticks = 0;
            data.harvested_odd = 0;
        }
        Some(taken)
    }

    /// Returns harvested records, emptied, as the next spare (no allocation after the first).
    pub(crate) fn give_back(&self, mut records: ThreadRecords) {
        records.reset();
        let mut data = self.data();
        if data.spare.is_none() {
            data.spare = Some(records);
        }
    }
}

impl HomeData {
    /// Its owner (kernel id `tid`) exits with `cpu_ns` of CPU time.
    #[cfg_attr(not(feature = "sampler"), allow(dead_code))]
    pub(crate) fn note_exit(&mut self, tid: u32, cpu_ns: u64) {
        if self.exits.len() >= EXITS {
            self.exits.remove(0);
        }
        self.exits.push((tid, cpu_ns));
    }

    /// Owners that exited during the run, and their CPU time then.
    #[cfg_attr(not(feature = "sampler"), allow(dead_code))]
    pub(crate) fn exits(&self) -> &[(u32, u64)] {
        &self.exits
    }

    /// The thread that owns the home now.
    pub(crate) fn owner(&self) -> Option<&ThreadKey> {
        self.owner.as_ref()
    }

    /// Records into the spare when earlier runs made more of its histograms: the last harvest
    /// left the records it swapped in (made on first use, so empty on a home's first harvest),
    /// and a new run would make on the loop what the spare already has. Both are emptied.
    fn take_made_histograms(&mut self) {
        let Some(spare) = self.spare.as_mut() else {
            return;
        };
        if spare.histograms_made() > self.records.histograms_made() {
            std::mem::swap(spare, &mut self.records);
            spare.reset();
        }
    }

    /// The counters of what the thread recorded.
    pub(crate) fn counters(&mut self) -> &mut Counters {
        &mut self.records.counters
    }
}

/// Models of the counting path under every interleaving loom finds (`RUSTFLAGS="--cfg loom"
/// cargo test --release --lib loom`): a tick counted on a home is harvested exactly once,
/// whether the harvest runs while the owner ticks or the home changes owner mid-run.
#[cfg(all(test, loom))]
mod loom_models {
    use super::*;
    use loom::sync::Arc;
    use loom::thread;

    const RUN: u64 = 1;

    fn ticking(home: &Home, ticks: u64) {
        for _ in 0..ticks {
            home.count_tick();
        }
    }

    /// A snapshot harvests while the owner ticks; the final harvest takes the rest: the two
    /// add up to every tick, none counted twice.
    #[test]
    fn loom_a_harvest_during_the_run_neither_loses_nor_repeats_a_tick() {
        loom::model(|| {
            let home = Arc::new(Home::default());
            assert!(home.claim());
            home.begin_run(RUN, 0, 0, false, None);
            let owner = {
                let home = Arc::clone(&home);
                thread::spawn(move || ticking(&home, 2))
            };
            let during = home.harvest(RUN, Harvest::DuringRun).map_or(0, |h| h.ticks);
            owner.join().unwrap();
            let last = home.harvest(RUN, Harvest::Final).map_or(0, |h| h.ticks);
            assert_eq!(during + last, 2);
        });
    }

    /// The owner exits mid-run and a new thread takes the home over (thread churn): the new
    /// owner's count continues from the old one's last store, never from a stale value.
    #[test]
    fn loom_a_home_taken_over_mid_run_keeps_every_tick() {
        loom::model(|| {
            let home = Arc::new(Home::default());
            // Claimed for the first thread as a thread's state claims its home when it starts.
            assert!(home.claim());
            let first = {
                let home = Arc::clone(&home);
                thread::spawn(move || {
                    home.begin_run(RUN, 0, 0, false, None);
                    ticking(&home, 2);
                    home.release();
                })
            };
            let second = {
                let home = Arc::clone(&home);
                thread::spawn(move || {
                    // Takes the home once the first thread has let it go.
                    while !home.claim() {
                        thread::yield_now();
                    }
                    home.begin_run(RUN, 0, 0, false, None);
                    ticking(&home, 1);
                    home.release();
                })
            };
            first.join().unwrap();
            second.join().unwrap();
            let total = home.harvest(RUN, Harvest::Final).map_or(0, |h| h.ticks);
            assert_eq!(total, 3);
        });
    }
}
