//! What one thread's ticks add to the run's time inside ticks: its tick count and the sums the
//! estimate needs (its warm-up ticks' measured time, its timed ticks' count and time). Taken
//! from a home at each harvest, so the hot path pays nothing for it.

use std::sync::Arc;

use hdrhistogram::Histogram;

use super::records::ThreadRecords;

/// Which thread: the name it had when it began the run (or its `ThreadId`), and its kernel id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct ThreadKey {
    pub(crate) label: Arc<str>,
    pub(crate) tid: Option<u32>,
}

/// The label of threads beyond those kept apart.
pub(crate) const OTHER_THREADS: &str = "(other threads)";

impl ThreadKey {
    /// The entry that adds up threads beyond those kept apart.
    pub(crate) fn others() -> Self {
        ThreadKey {
            label: Arc::from(OTHER_THREADS),
            tid: None,
        }
    }

    /// The calling thread, with its kernel id `tid`.
    pub(crate) fn current(tid: Option<u32>) -> Self {
        let current = std::thread::current();
        let label = match current.name() {
            Some(name) => name.to_owned(),
            None => format!("{:?}", current.id()),
        };
        ThreadKey {
            label: Arc::from(label),
            tid,
        }
    }
}

/// One thread's ticks in a run (or a part of it): sums that add up over harvests.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct ThreadTicks {
    /// Ticks counted (exact).
    pub(crate) ticks: u64,
    /// Of which warm-up ticks, and their measured net time (ns).
    pub(crate) warmup_ticks: u64,
    pub(crate) warmup_ns: f64,
    /// Ticks in the latency histogram (timed after the warm-up), and their net time (ns).
    pub(crate) timed: u64,
    pub(crate) timed_ns: f64,
    /// Ticks made here and closed on another thread (negative), or made on another and closed
    /// here (positive): a tick's record is its closer's, so its count goes with it. Transfers
    /// add up to 0 over threads, within each harvest.
    pub(crate) moved: i64,
}

impl ThreadTicks {
    /// What `records` (one harvest of a home) and the `ticks` it counted since the last one say.
    pub(crate) fn from_records(records: &ThreadRecords, ticks: u64) -> Self {
        let (timed, timed_ns) = count_and_sum(records.latency.as_ref());
        let (_, warmup_ns) = count_and_sum(records.warmup.as_ref());
        let moved_in = records.moved_from.iter().map(|(_, n)| *n).sum::<u64>();
        ThreadTicks {
            ticks,
            warmup_ticks: records.counters.warmup_ticks,
            warmup_ns,
            timed,
            timed_ns,
            moved: i64::try_from(moved_in).unwrap_or(i64::MAX),
        }
    }

    /// The ticks `maker` made that closed elsewhere: the other side of `moved_in`.
    pub(crate) fn moved_out(ticks: u64) -> Self {
        ThreadTicks {
            moved: -i64::try_from(ticks).unwrap_or(i64::MAX),
            ..ThreadTicks::default()
        }
    }

    /// Its ticks: those counted here, with the transfers (never below 0: a snapshot can see a
    /// transfer before the count it moves).
    pub(crate) fn net_ticks(&self) -> u64 {
        let net = i128::from(self.ticks) + i128::from(self.moved);
        u64::try_from(net.max(0)).unwrap_or(u64::MAX)
    }

    /// Nothing counted or measured.
    pub(crate) fn is_empty(&self) -> bool {
        *self == ThreadTicks::default()
    }

    /// Takes away a part already reported (an owner that left its home).
    pub(crate) fn subtract(&mut self, part: &ThreadTicks) {
        self.ticks = self.ticks.saturating_sub(part.ticks);
        self.warmup_ticks = self.warmup_ticks.saturating_sub(part.warmup_ticks);
        self.warmup_ns = (self.warmup_ns - part.warmup_ns).max(0.0);
        self.timed = self.timed.saturating_sub(part.timed);
        self.timed_ns = (self.timed_ns - part.timed_ns).max(0.0);
        self.moved = self.moved.saturating_sub(part.moved);
    }

    pub(crate) fn add(&mut self, other: &ThreadTicks) {
        self.ticks += other.ticks;
        self.warmup_ticks += other.warmup_ticks;
        self.warmup_ns += other.warmup_ns;
        self.timed += other.timed;
        self.timed_ns += other.timed_ns;
        self.moved = self.moved.saturating_add(other.moved);
    }
}

/// A histogram's count and sum, the sum as its mean × count (the same bucket values every
/// merged histogram's mean uses, so the threads' sums add up to the run's).
fn count_and_sum(histogram: Option<&Histogram<u64>>) -> (u64, f64) {
    histogram.map_or((0, 0.0), |h| (h.len(), h.mean() * h.len() as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_come_from_the_histograms_and_add_up() {
        let template = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
        let mut records = ThreadRecords::default();
        let mut latency = Histogram::new_from(&template);
        for v in [1_000, 3_000] {
            latency.record(v).unwrap();
        }
        let mut warmup = Histogram::new_from(&template);
        warmup.record(50_000).unwrap();
        records.latency = Some(latency);
        records.warmup = Some(warmup);
        records.counters.warmup_ticks = 1;
        let mut t = ThreadTicks::from_records(&records, 10);
        assert_eq!((t.ticks, t.warmup_ticks, t.timed), (10, 1, 2));
        assert!((t.timed_ns - 4_000.0).abs() < 4.0, "{t:?}");
        assert!((t.warmup_ns - 50_000.0).abs() < 50.0, "{t:?}");
        t.add(&ThreadTicks::from_records(&ThreadRecords::default(), 5));
        assert_eq!((t.ticks, t.timed), (15, 2));
    }

    #[test]
    fn a_thread_is_named_by_its_name_or_its_id() {
        let key = std::thread::Builder::new()
            .name("feed".into())
            .spawn(|| ThreadKey::current(Some(7)))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!((&*key.label, key.tid), ("feed", Some(7)));
        let unnamed = std::thread::spawn(|| ThreadKey::current(None))
            .join()
            .unwrap();
        assert!(unnamed.label.starts_with("ThreadId("), "{unnamed:?}");
    }
}
