//! A one-span handoff slot without locks: the owner thread parks the span it just exited here
//! with plain stores; whichever thread next needs it (the owner closing it, or another thread
//! entering a future that moved) claims it with one compare-and-swap.
//!
//! Protocol (`id` is `EMPTY`, `CLAIMED` or a span id; span ids are never 0):
//! - put (owner only): sees `EMPTY` (Acquire, pairs with the claimer's Release below), writes
//!   the words, publishes the id (Release);
//! - take (any thread): CAS id → `CLAIMED` (Acquire, pairs with the put's Release), reads the
//!   words, stores `EMPTY` (Release): the reads happen before the owner's next writes;
//! - peek (owner only): the words, if the id is there. Only the owner writes words, so they
//!   cannot change during its own peek. Another thread's peek could not be made whole without
//!   a sequence word on the hot path: the same span parked, taken and parked again during it
//!   gave a mix of the two states (found by the loom model of a seqlock peek), so other threads
//!   only ask whether a span is here (`holds`: one load of the id).
//!
//! Measured on the 2-core VM: parking behind the shard mutex instead cost ~15 ns per span.

use super::span_state::{STATE_WORDS, SpanState};
use super::sync::{AtomicU64, Ordering};

const EMPTY: u64 = 0;
/// A claimer is copying the words out; the owner must not write them meanwhile.
const CLAIMED: u64 = u64::MAX;

#[derive(Debug, Default)]
pub(crate) struct ParkSlot {
    id: AtomicU64,
    words: [AtomicU64; STATE_WORDS],
}

impl ParkSlot {
    /// Parks `state` if the slot is free; `false` if it is taken (park elsewhere then).
    /// Only the shard's owner thread calls this.
    #[inline]
    pub(crate) fn try_put(&self, id: u64, state: &SpanState) -> bool {
        if id == EMPTY || id == CLAIMED || self.id.load(Ordering::Acquire) != EMPTY {
            return false;
        }
        for (slot, word) in self.words.iter().zip(state.to_words()) {
            slot.store(word, Ordering::Relaxed);
        }
        self.id.store(id, Ordering::Release);
        true
    }

    /// Takes the span out if it is the one parked here. Any thread may call this.
    #[inline]
    pub(crate) fn try_take(&self, id: u64) -> Option<SpanState> {
        if id == EMPTY || id == CLAIMED || self.id.load(Ordering::Relaxed) != id {
            return None;
        }
        self.id
            .compare_exchange(id, CLAIMED, Ordering::Acquire, Ordering::Relaxed)
            .ok()?;
        let state = SpanState::from_words(self.read_words());
        self.id.store(EMPTY, Ordering::Release);
        Some(state)
    }

    /// A copy of the parked span's state without claiming it. Only the shard's owner thread
    /// calls this (see the module doc).
    pub(crate) fn peek(&self, id: u64) -> Option<SpanState> {
        if id == EMPTY || id == CLAIMED || self.id.load(Ordering::Relaxed) != id {
            return None;
        }
        Some(SpanState::from_words(self.read_words()))
    }

    /// Whether span `id` is parked here now. Any thread.
    pub(crate) fn holds(&self, id: u64) -> bool {
        id != EMPTY && id != CLAIMED && self.id.load(Ordering::Relaxed) == id
    }

    fn read_words(&self) -> [u64; STATE_WORDS] {
        let mut words = [0; STATE_WORDS];
        for (word, slot) in words.iter_mut().zip(&self.words) {
            *word = slot.load(Ordering::Relaxed);
        }
        words
    }

    /// Drops whatever is parked (a new run begins). A slot a claimer is reading stays claimed:
    /// the claimer empties it, and the owner must not write the words before that.
    pub(crate) fn clear(&self) {
        let current = self.id.load(Ordering::Acquire);
        if current != EMPTY && current != CLAIMED {
            let _ = self
                .id
                .compare_exchange(current, EMPTY, Ordering::AcqRel, Ordering::Relaxed);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::tick_profiler::span_state::SpanKind;

    fn state(seed: u64) -> SpanState {
        let mut s = SpanState::new(
            SpanKind::Component {
                slot: 7,
                direct: true,
            },
            42,
            seed,
        );
        s.add_interval(100 + seed, 200 + seed, 3);
        s.add_child_interval(11, 2);
        s
    }

    #[test]
    fn put_take_round_trip_and_single_claim() {
        let slot = ParkSlot::default();
        assert!(slot.try_put(5, &state(1)));
        assert!(!slot.try_put(6, &state(2)), "occupied slot must refuse");
        assert!(slot.try_take(6).is_none());
        assert_eq!(slot.peek(5), Some(state(1)));
        assert_eq!(slot.try_take(5), Some(state(1)));
        assert!(slot.try_take(5).is_none(), "a span is taken once");
        assert!(slot.try_put(6, &state(2)));
        slot.clear();
        assert!(slot.try_take(6).is_none(), "cleared");
    }

    /// Owner parks, peeks and re-parks; other threads claim. Every claimed or peeked state is
    /// one that was put whole (never a mix of two puts), and every put is claimed at most once.
    #[test]
    fn concurrent_claims_see_whole_states() {
        use std::sync::Arc;
        use std::sync::atomic::AtomicBool;
        let slot = Arc::new(ParkSlot::default());
        let done = Arc::new(AtomicBool::new(false));
        let claimers: Vec<_> = (0..2)
            .map(|_| {
                let (slot, done) = (Arc::clone(&slot), Arc::clone(&done));
                std::thread::spawn(move || {
                    let mut taken = Vec::new();
                    while !done.load(Ordering::Relaxed) {
                        for id in 1..=4 {
                            if let Some(s) = slot.try_take(id) {
                                assert_eq!(s, state(s.epoch), "torn take");
                                taken.push(s.epoch);
                            }
                        }
                    }
                    taken
                })
            })
            .collect();
        let mut put = Vec::new();
        for seed in 1..20_000u64 {
            let id = 1 + seed % 4;
            if slot.try_put(id, &state(seed)) {
                put.push(seed);
            }
            if let Some(s) = slot.peek(id) {
                assert_eq!(s, state(s.epoch), "torn peek");
            }
        }
        done.store(true, Ordering::Relaxed);
        let mut taken: Vec<u64> = claimers
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect();
        if let Some(left) = (1..=4).find_map(|id| slot.try_take(id)) {
            taken.push(left.epoch);
        }
        taken.sort_unstable();
        let before = taken.len();
        taken.dedup();
        assert_eq!(before, taken.len(), "a put was claimed twice");
        assert!(taken.iter().all(|t| put.contains(t)));
        assert_eq!(taken.len(), put.len(), "every put is claimed exactly once");
    }
}

/// Model checks: every interleaving loom can build (within its preemption bound) of the owner's
/// puts against other threads' takes, peeks and a clear.
/// `RUSTFLAGS="--cfg loom" cargo test --release --lib loom` (`LOOM_MAX_PREEMPTIONS` overrides
/// the bound of 3).
#[cfg(all(test, loom))]
mod loom_model {
    use loom::sync::Arc;
    use loom::thread;

    use super::*;
    use crate::tick_profiler::span_state::SpanKind;

    /// A state whose every word derives from `seed`, so a mix of two states is detectable.
    fn state(seed: u64) -> SpanState {
        let mut s = SpanState::new(
            SpanKind::Component {
                slot: u32::try_from(seed).unwrap_or(0),
                direct: seed % 2 == 0,
            },
            seed * 3,
            seed,
        );
        s.add_interval(seed * 5, seed * 7, u32::try_from(seed).unwrap_or(0));
        s.add_child_interval(seed * 11, u32::try_from(seed).unwrap_or(0));
        s
    }

    fn model(f: impl Fn() + Sync + Send + 'static) {
        let mut builder = loom::model::Builder::new();
        if builder.preemption_bound.is_none() {
            builder.preemption_bound = Some(3);
        }
        builder.check(f);
    }

    /// The owner parks span 1, then (once the slot is free again) span 2, while another thread
    /// tries to take span 1: what it takes is span 1's state whole, and every put is taken
    /// exactly once (by it or, afterwards, by the owner).
    #[test]
    fn loom_a_take_gets_one_whole_put_once() {
        model(|| {
            let slot = Arc::new(ParkSlot::default());
            let claimer = {
                let slot = Arc::clone(&slot);
                thread::spawn(move || slot.try_take(1))
            };
            assert!(slot.try_put(1, &state(1)), "the slot starts empty");
            let second = slot.try_put(2, &state(2));
            let taken = claimer.join().unwrap();
            let left = (slot.try_take(1), slot.try_take(2));
            match (taken, second) {
                (Some(s), true) => {
                    assert_eq!(s, state(1));
                    assert_eq!(left, (None, Some(state(2))));
                }
                (Some(s), false) => {
                    assert_eq!(s, state(1));
                    assert_eq!(left, (None, None));
                }
                (None, false) => assert_eq!(left, (Some(state(1)), None)),
                (None, true) => panic!("a put into an occupied slot"),
            }
        });
    }

    /// Two threads race to take the same parked span: exactly one gets it, whole.
    #[test]
    fn loom_two_claimers_one_winner() {
        model(|| {
            let slot = Arc::new(ParkSlot::default());
            assert!(slot.try_put(7, &state(7)));
            let claimers: Vec<_> = (0..2)
                .map(|_| {
                    let slot = Arc::clone(&slot);
                    thread::spawn(move || slot.try_take(7))
                })
                .collect();
            let taken: Vec<_> = claimers
                .into_iter()
                .filter_map(|c| c.join().unwrap())
                .collect();
            assert_eq!(taken, vec![state(7)]);
            assert!(slot.try_put(8, &state(8)), "the winner empties the slot");
        });
    }

    /// The owner peeks at the span it parked while another thread takes it: the peek sees the
    /// state whole (or, taken already, nothing), and the taker too.
    #[test]
    fn loom_an_owner_peek_against_a_take() {
        model(|| {
            let slot = Arc::new(ParkSlot::default());
            assert!(slot.try_put(1, &state(1)));
            let claimer = {
                let slot = Arc::clone(&slot);
                thread::spawn(move || slot.try_take(1))
            };
            let seen = slot.peek(1);
            let again = slot.try_put(2, &state(2));
            let taken = claimer.join().unwrap();
            assert!(
                seen.is_none() || seen == Some(state(1)),
                "torn peek: {seen:?}"
            );
            assert_eq!(taken, Some(state(1)));
            if again {
                assert_eq!(slot.peek(2), Some(state(2)));
            }
        });
    }

    /// A new run clears the slot while another thread takes the span parked in it: the taker
    /// gets it whole or not at all, and the slot is free afterwards either way.
    #[test]
    fn loom_a_clear_against_a_take() {
        model(|| {
            let slot = Arc::new(ParkSlot::default());
            assert!(slot.try_put(3, &state(3)));
            let claimer = {
                let slot = Arc::clone(&slot);
                thread::spawn(move || slot.try_take(3))
            };
            slot.clear();
            let taken = claimer.join().unwrap();
            assert!(taken.is_none() || taken == Some(state(3)));
            assert!(slot.try_take(3).is_none(), "cleared or taken");
            assert!(slot.try_put(4, &state(4)), "free again");
        });
    }
}
