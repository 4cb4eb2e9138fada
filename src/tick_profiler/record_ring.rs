//! Closed-span records on their way into the shard's histograms: a single-producer ring of
//! atomics, so the owner thread records a span with plain stores and takes the shard mutex
//! only once per `CAPACITY` spans (to move them into the histograms). Whoever holds the shard
//! mutex drains it: the owner when the ring is full, `stop_profiling` at the end of a run.
//!
//! Measured on the 2-core VM: a mutex per close cost ~15 ns per span.

use super::sync::{AtomicU64, Ordering};

/// Records buffered before a drain; 8 KiB per thread. (2 in loom's model checks, so that a
/// few records fill it.)
const CAPACITY: usize = if cfg!(all(loom, test)) { 2 } else { 128 };
/// `extra_ns` when there is none.
const NONE: u64 = u64::MAX;

/// What a record is, and which histograms it feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecordKind {
    /// A timed tick whose children were not recorded: its latency.
    TimedTick,
    /// A recorded tick: its unattributed time, and its latency only when every tick is
    /// recorded (with sampling, a recorded tick's latency rests on subtracting the calibrated
    /// cost of each of its spans, so the latency histogram takes the timed ticks, which
    /// hold no instrumentation but their own).
    RecordedTick {
        /// Whether its latency goes into the latency histograms.
        latency: bool,
        /// Spans recorded inside it (what recording it cost), at most `u16::MAX`.
        nested: u16,
        /// Of those, the ones its unattributed time was compensated for (created in its own
        /// intervals, outside its children's), at most `u16::MAX`.
        direct: u16,
    },
    /// A component span: its net busy time (and wall time).
    Component {
        /// The interned name's slot.
        slot: u32,
        /// Spans recorded inside it (its compensation), at most `u16::MAX`.
        nested: u16,
        /// Whether its parent is the tick.
        direct: bool,
    },
    /// The fields of the tick whose record follows (see `tick_fields`): no histogram.
    TickFields,
}

/// The low word of a [`RecordKind::TickFields`] (above every component slot).
const TICK_FIELDS: u64 = u32::MAX as u64;

impl RecordKind {
    /// As one word: the kind in the low 32 bits (1 timed tick, 2 recorded tick, 3 recorded
    /// tick with latency, 4 + slot component, `u32::MAX` tick fields), the nested spans in bits 32–47, and in bits
    /// 48–63 a recorded tick's direct spans or a component's "direct child of the tick" bit.
    pub(crate) fn encode(self) -> u64 {
        match self {
            RecordKind::TimedTick => 1,
            RecordKind::RecordedTick {
                latency,
                nested,
                direct,
            } => (2 + u64::from(latency)) | (u64::from(nested) << 32) | (u64::from(direct) << 48),
            RecordKind::Component {
                slot,
                nested,
                direct,
            } => (4 + u64::from(slot)) | (u64::from(nested) << 32) | (u64::from(direct) << 48),
            RecordKind::TickFields => TICK_FIELDS,
        }
    }

    /// The inverse of [`encode`](Self::encode); `None` for a word no record has.
    pub(crate) fn decode(word: u64) -> Option<RecordKind> {
        let low = word & u64::from(u32::MAX);
        let nested = ((word >> 32) & u64::from(u16::MAX)) as u16;
        let direct = (word >> 48) as u16;
        Some(match low {
            1 => RecordKind::TimedTick,
            2 | 3 => RecordKind::RecordedTick {
                latency: low == 3,
                nested,
                direct,
            },
            0 => return None,
            TICK_FIELDS => RecordKind::TickFields,
            slot => RecordKind::Component {
                slot: u32::try_from(slot - 4).ok()?,
                nested,
                direct: direct == 1,
            },
        })
    }
}

/// One closed span, durations in ns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Record {
    /// A [`RecordKind`], encoded.
    pub(crate) kind: u64,
    /// Busy time as measured.
    pub(crate) raw_ns: u64,
    /// Busy time net of the instrumentation inside it.
    pub(crate) net_ns: u64,
    /// Recorded ticks: unattributed time (net).
    pub(crate) extra_ns: Option<u64>,
    /// Spans entered more than once (async code): first enter to last exit.
    pub(crate) wall_ns: Option<u64>,
    /// The clock (raw units) at its first enter: where it sits on its tick's timeline.
    pub(crate) start_raw: u64,
    /// The span's id (a tick's components name it as their parent).
    pub(crate) id: u64,
    /// Ticks: the ordinal (the n-th tick its thread started in the run, 0 if unknown).
    /// Components: the parent span's id.
    pub(crate) link: u64,
}

/// One record as atomics: eight words, one cache line.
#[derive(Debug, Default)]
struct Entry {
    kind: AtomicU64,
    raw_ns: AtomicU64,
    net_ns: AtomicU64,
    extra_ns: AtomicU64,
    wall_ns: AtomicU64,
    start_raw: AtomicU64,
    id: AtomicU64,
    link: AtomicU64,
}

#[derive(Debug)]
pub(crate) struct RecordRing {
    entries: Box<[Entry]>,
    /// Written only by the producer (the shard's owner thread).
    head: AtomicU64,
    /// Written only under the shard mutex.
    tail: AtomicU64,
}

impl Default for RecordRing {
    fn default() -> Self {
        RecordRing {
            entries: (0..CAPACITY).map(|_| Entry::default()).collect(),
            head: AtomicU64::new(0),
            tail: AtomicU64::new(0),
        }
    }
}

impl RecordRing {
    /// Appends a record; `false` when full (drain under the shard mutex, then retry).
    /// Only the shard's owner thread calls this.
    #[inline]
    pub(crate) fn try_push(&self, record: Record) -> bool {
        let head = self.head.load(Ordering::Relaxed);
        let tail = self.tail.load(Ordering::Acquire);
        if head.wrapping_sub(tail) >= CAPACITY as u64 {
            return false;
        }
        let Some(entry) = self.entries.get(head as usize % CAPACITY) else {
            return false;
        };
        entry.kind.store(record.kind, Ordering::Relaxed);
        entry.raw_ns.store(record.raw_ns, Ordering::Relaxed);
        entry.net_ns.store(record.net_ns, Ordering::Relaxed);
        entry
            .extra_ns
            .store(record.extra_ns.unwrap_or(NONE), Ordering::Relaxed);
        entry
            .wall_ns
            .store(record.wall_ns.unwrap_or(NONE), Ordering::Relaxed);
        entry.start_raw.store(record.start_raw, Ordering::Relaxed);
        entry.id.store(record.id, Ordering::Relaxed);
        entry.link.store(record.link, Ordering::Relaxed);
        self.head.store(head.wrapping_add(1), Ordering::Release);
        true
    }

    /// Whether at least half the ring is in use: time to drain at the next tick boundary.
    #[inline]
    pub(crate) fn half_full(&self) -> bool {
        let used = self
            .head
            .load(Ordering::Relaxed)
            .wrapping_sub(self.tail.load(Ordering::Relaxed));
        used >= CAPACITY as u64 / 2
    }

    /// Hands every buffered record to `sink`. Call only with the shard mutex held.
    pub(crate) fn drain(&self, mut sink: impl FnMut(Record)) {
        let head = self.head.load(Ordering::Acquire);
        let mut tail = self.tail.load(Ordering::Relaxed);
        while tail != head {
            if let Some(entry) = self.entries.get(tail as usize % CAPACITY) {
                let extra_ns = entry.extra_ns.load(Ordering::Relaxed);
                let wall_ns = entry.wall_ns.load(Ordering::Relaxed);
                sink(Record {
                    kind: entry.kind.load(Ordering::Relaxed),
                    raw_ns: entry.raw_ns.load(Ordering::Relaxed),
                    net_ns: entry.net_ns.load(Ordering::Relaxed),
                    extra_ns: (extra_ns != NONE).then_some(extra_ns),
                    wall_ns: (wall_ns != NONE).then_some(wall_ns),
                    start_raw: entry.start_raw.load(Ordering::Relaxed),
                    id: entry.id.load(Ordering::Relaxed),
                    link: entry.link.load(Ordering::Relaxed),
                });
            }
            tail = tail.wrapping_add(1);
        }
        self.tail.store(tail, Ordering::Release);
    }

    /// Discards buffered records (a new run begins). Call only with the shard mutex held.
    pub(crate) fn discard(&self) {
        self.tail
            .store(self.head.load(Ordering::Acquire), Ordering::Release);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn record(i: u64) -> Record {
        Record {
            kind: 1 + i % 5,
            raw_ns: i,
            net_ns: i / 2,
            extra_ns: i.is_multiple_of(2).then_some(i * 10),
            wall_ns: i.is_multiple_of(3).then_some(i * 20),
            start_raw: i * 30,
            id: i + 1,
            link: i * 40,
        }
    }

    #[test]
    fn kinds_round_trip() {
        for kind in [
            RecordKind::TimedTick,
            RecordKind::RecordedTick {
                latency: false,
                nested: 8,
                direct: 8,
            },
            RecordKind::RecordedTick {
                latency: true,
                nested: u16::MAX,
                direct: 3,
            },
            RecordKind::Component {
                slot: 0,
                nested: 0,
                direct: true,
            },
            RecordKind::Component {
                slot: 1_000,
                nested: u16::MAX,
                direct: false,
            },
            RecordKind::TickFields,
        ] {
            assert_eq!(RecordKind::decode(kind.encode()), Some(kind));
        }
        assert_eq!(RecordKind::decode(0), None);
    }

    #[test]
    fn keeps_order_refuses_when_full_and_wraps() {
        let ring = RecordRing::default();
        let mut seen = Vec::new();
        let mut next = 0u64;
        for _ in 0..3 {
            while ring.try_push(record(next)) {
                next += 1;
            }
            assert_eq!(next as usize % CAPACITY, 0, "refuses exactly at capacity");
            ring.drain(|r| seen.push(r));
        }
        assert_eq!(seen, (0..next).map(record).collect::<Vec<_>>());
        ring.try_push(record(1));
        ring.discard();
        ring.drain(|_| panic!("discarded records must not be drained"));
    }
}

/// Model checks: every interleaving loom can build (within its preemption bound) of the owner
/// pushing while the holder of the shard mutex drains.
/// `RUSTFLAGS="--cfg loom" cargo test --release --lib loom`.
#[cfg(all(test, loom))]
mod loom_model {
    use loom::sync::Arc;
    use loom::thread;

    use super::*;

    /// A record whose every field derives from `i`, so a mix of two records is detectable.
    fn record(i: u64) -> Record {
        Record {
            kind: 1 + i,
            raw_ns: i * 3,
            net_ns: i * 5,
            extra_ns: (i % 2 == 0).then_some(i * 7),
            wall_ns: (i % 3 == 0).then_some(i * 9),
            start_raw: i * 11,
            id: i * 13,
            link: i * 17,
        }
    }

    /// The owner pushes three records into a ring of two while a drainer empties it twice;
    /// then whatever is left is drained. Every accepted record comes out once, whole and in
    /// order; a refused one was refused because the ring was full.
    #[test]
    fn loom_drained_records_are_whole_once_and_in_order() {
        let mut builder = loom::model::Builder::new();
        if builder.preemption_bound.is_none() {
            builder.preemption_bound = Some(3);
        }
        builder.check(|| {
            let ring = Arc::new(RecordRing::default());
            let drainer = {
                let ring = Arc::clone(&ring);
                thread::spawn(move || {
                    let mut out = Vec::new();
                    for _ in 0..2 {
                        ring.drain(|r| out.push(r));
                    }
                    out
                })
            };
            let accepted: Vec<Record> = (1..=3).map(record).filter(|&r| ring.try_push(r)).collect();
            assert!(
                accepted.len() >= CAPACITY,
                "refused before the ring was full"
            );
            let mut drained = drainer.join().unwrap();
            ring.drain(|r| drained.push(r));
            assert_eq!(drained, accepted);
        });
    }
}
