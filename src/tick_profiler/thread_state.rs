//! Per-thread, per-collector state of the layer: the stack of entered spans, spans created but
//! not yet entered, and a callsite cache. Only its own thread touches it, so no locks.

use std::cell::RefCell;
use std::sync::{Arc, Weak};

use tracing_core::Metadata;

use super::shard::Shard;
use super::shared::{Shared, lock};
use super::span_state::{Frame, SpanKind, SpanState};

/// How many created-but-not-entered spans are kept without a lock. A span is normally entered
/// right after it is created; older ones are forgotten and classified from the registry if
/// they are entered after all.
const CREATED_SLOTS: usize = 4;

/// What a callsite is, decided once per thread and callsite: no string compare per span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallsiteKind {
    /// The configured tick name.
    Tick,
    /// Any other name, with its interned slot.
    Named(u32),
}

#[derive(Debug)]
pub(crate) struct ThreadState {
    collector: u64,
    /// Lets a thread drop the state of collectors that no longer exist.
    owner: Weak<Shared>,
    /// The run this state belongs to; a mismatch resets it.
    run: u64,
    pub(crate) shard: Arc<Shard>,
    callsites: Vec<(usize, CallsiteKind)>,
    created: [Option<(u64, SpanState)>; CREATED_SLOTS],
    next_created: usize,
    pub(crate) stack: Vec<Frame>,
}

thread_local! {
    static THREAD_STATES: RefCell<Vec<ThreadState>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's state for `shared`'s active `run`; `None` if the thread-local is
/// unavailable (thread teardown) or already borrowed (never expected: callbacks do not nest).
#[inline]
pub(crate) fn with_thread_state<R>(
    shared: &Arc<Shared>,
    run: u64,
    f: impl FnOnce(&mut ThreadState) -> R,
) -> Option<R> {
    THREAD_STATES
        .try_with(|states| {
            let mut states = states.try_borrow_mut().ok()?;
            let index = match states.iter().position(|s| s.collector == shared.id) {
                Some(index) => index,
                None => {
                    // First use of this collector on this thread: forget dropped collectors.
                    states.retain(|state| state.owner.strong_count() > 0);
                    states.push(ThreadState::new(shared, shared.register_shard()));
                    states.len() - 1
                }
            };
            let state = states.get_mut(index)?;
            if state.run != run {
                state.begin_run(run);
            }
            Some(f(state))
        })
        .ok()
        .flatten()
}

impl ThreadState {
    fn new(shared: &Arc<Shared>, shard: Arc<Shard>) -> Self {
        ThreadState {
            collector: shared.id,
            owner: Arc::downgrade(shared),
            run: 0,
            shard,
            callsites: Vec::new(),
            created: [None; CREATED_SLOTS],
            next_created: 0,
            stack: Vec::new(),
        }
    }

    /// Forgets everything of an earlier run; claims the shard for `run`.
    fn begin_run(&mut self, run: u64) {
        self.run = run;
        self.stack.clear();
        self.created = [None; CREATED_SLOTS];
        let mut data = lock(&self.shard.data);
        if data.run != run {
            self.shard.reset_for(&mut data, run);
        }
    }

    /// The callsite's kind, interning its name on first sight.
    #[inline]
    pub(crate) fn callsite_kind(
        &mut self,
        shared: &Shared,
        metadata: &'static Metadata<'static>,
    ) -> CallsiteKind {
        let key = std::ptr::from_ref(metadata) as usize;
        if let Some((_, kind)) = self.callsites.iter().find(|(k, _)| *k == key) {
            return *kind;
        }
        let kind = if metadata.name() == shared.tick_name {
            CallsiteKind::Tick
        } else {
            CallsiteKind::Named(shared.intern(metadata.name()))
        };
        self.callsites.push((key, kind));
        kind
    }

    /// Keeps a newly created span until it is entered.
    #[inline]
    ///
    /// The oldest entry is overwritten when the ring is full: a never-entered span holds only
    /// its kind, which the registry can tell again if it is entered later. It is never moved to
    /// the shard, so other threads only ever find spans that were entered (and hold time).
    pub(crate) fn remember_created(&mut self, id: u64, state: SpanState) {
        let slot = self.next_created % CREATED_SLOTS;
        self.next_created = self.next_created.wrapping_add(1);
        if let Some(entry) = self.created.get_mut(slot) {
            *entry = Some((id, state));
        }
    }

    /// Takes a created-but-not-entered span out.
    #[inline]
    pub(crate) fn take_created(&mut self, id: u64) -> Option<SpanState> {
        self.created
            .iter_mut()
            .find(|slot| matches!(slot, Some((created, _)) if *created == id))
            .and_then(Option::take)
            .map(|(_, state)| state)
    }

    /// A live span's kind, without moving it: entered, created or parked by this thread.
    pub(crate) fn kind_of(&self, id: u64) -> Option<SpanKind> {
        if let Some(frame) = self.stack.iter().rev().find(|f| f.id == id) {
            return Some(frame.state.kind);
        }
        if let Some((_, state)) = self.created.iter().flatten().find(|(c, _)| *c == id) {
            return Some(state.kind);
        }
        self.shard.parked_kind(id)
    }

    /// Counts a span the layer could not see or an odd span sequence.
    pub(crate) fn count_missing(&self) {
        lock(&self.shard.data).missing_span_data += 1;
    }
}
