//! A one-span handoff slot without locks: the owner thread parks the span it just exited here
//! with plain stores; whichever thread next needs it (the owner closing it, or another thread
//! entering a future that moved) claims it with one compare-and-swap.
//!
//! Protocol (`id` is `EMPTY`, `CLAIMED` or a span id; span ids are never 0):
//! - put (owner only): sees `EMPTY` (Acquire, pairs with the claimer's Release below), Release
//!   fence, writes the words, publishes the id (Release);
//! - take (any thread): CAS id → `CLAIMED` (Acquire, pairs with the put's Release), reads the
//!   words, stores `EMPTY` (Release): the reads happen before the owner's next writes;
//! - peek (any thread, without claiming): seqlock read — id (Acquire), words, Acquire fence, id
//!   again. The put's Release fence before its word writes pairs with that Acquire fence: a
//!   peek that read any word of a newer put sees the id change and discards what it read.
//!
//! Measured on the 2-core VM: parking behind the shard mutex instead cost ~15 ns per span.

use std::sync::atomic::{AtomicU64, Ordering, fence};

use super::span_state::{STATE_WORDS, SpanState};

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
        // Orders everything this thread saw (the slot's last claim included) before the word
        // writes, for `peek`'s Acquire fence.
        fence(Ordering::Release);
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

    /// A copy of the parked span's state without claiming it (to classify a child of it).
    pub(crate) fn peek(&self, id: u64) -> Option<SpanState> {
        if id == EMPTY || id == CLAIMED || self.id.load(Ordering::Acquire) != id {
            return None;
        }
        let words = self.read_words();
        fence(Ordering::Acquire);
        (self.id.load(Ordering::Relaxed) == id).then(|| SpanState::from_words(words))
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

#[cfg(test)]
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

    /// Owner parks and re-parks; other threads peek and claim. Every claimed state is one that
    /// was put whole (never a mix of two puts), and every put is claimed at most once.
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
                            if let Some(s) = slot.peek(id) {
                                assert_eq!(s, state(s.epoch), "torn peek");
                            }
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
            if slot.try_put(1 + seed % 4, &state(seed)) {
                put.push(seed);
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
