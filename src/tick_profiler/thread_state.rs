//! Per-thread, per-collector state: the stack of entered spans, the spans created here and not
//! yet entered, the callsite cache, the tick sampler and the decision made for the tick being
//! created. Only its own thread touches it, so no locks. (Spans between two entered intervals
//! live in the thread's shard, where any thread can find them.)

use std::cell::{Cell, RefCell};
use std::sync::{Arc, Weak};

use super::budget::TickSampler;
use super::callsites::{CallsiteCache, CallsiteInfo};
use super::shard::{EventCounters, Shard};
use super::shared::Shared;
use super::span_state::{Frame, SpanKind, SpanState, TickMode};
use super::tick_fields::TickFields;

/// How many created-but-not-entered spans are kept here. A span is nearly always entered on
/// its creating thread right after it is created, so this needs no lock and no shared memory.
/// A span first entered on another thread (or created more than this many spans ago) holds no
/// time yet: that thread rebuilds what it is from the registry (see `recorder`). Registry ids
/// carry a generation, so a forgotten entry can never be mistaken for a later span.
const CREATED_SLOTS: usize = 4;

/// How many live ticks' fields are kept (more live ticks on one thread, as async tasks have:
/// the oldest are forgotten, and those ticks are reported without fields).
const TICK_FIELD_SLOTS: usize = 4;

/// A live tick's fields, kept by the thread that created it.
#[derive(Debug, Clone, Copy)]
struct KeptFields {
    /// The tick's span id.
    id: u64,
    /// When it was kept (the thread's count of kept fields then): the oldest goes first.
    kept: u64,
    fields: TickFields,
}

/// The decision the filter made for the tick span the recorder is about to see created.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PendingTick {
    /// The tick callsite's key (the decision is for that callsite only).
    pub(crate) callsite: usize,
    pub(crate) mode: TickMode,
    /// The window epoch when the decision was made.
    pub(crate) epoch: u64,
    /// The tick's ordinal on this thread (its count just after it was counted).
    pub(crate) ordinal: u64,
}

#[derive(Debug)]
pub(crate) struct ThreadState {
    collector: u64,
    /// Lets a thread drop the state of collectors that no longer exist.
    owner: Weak<Shared>,
    /// The run this state belongs to; a mismatch resets it.
    run: u64,
    pub(crate) shard: Arc<Shard>,
    /// This thread's kernel id, read once when it registered (see `kernel_tid`).
    tid: Option<u32>,
    pub(crate) callsites: CallsiteCache,
    pub(crate) sampler: TickSampler,
    pub(crate) pending_tick: Option<PendingTick>,
    created: [Option<(u64, SpanState)>; CREATED_SLOTS],
    next_created: usize,
    /// The fields of live ticks created here, by span id, until they close.
    tick_fields: [Option<KeptFields>; TICK_FIELD_SLOTS],
    /// How many fields this thread kept (stamps for `KeptFields::kept`).
    tick_fields_kept: u64,
    /// How many of `tick_fields` are in use (0: nothing to look for at a tick's close).
    tick_fields_held: usize,
    /// The shard's tick count when this thread took it over in this run: ordinals count this
    /// thread's ticks, not its shard's previous owner's.
    ordinal_base: u64,
    /// Spans tickprof created on this thread (frames remember it at enter: the difference at
    /// exit is the number of spans created inside the interval).
    pub(crate) spans_created: u64,
    pub(crate) stack: Vec<Frame>,
    /// A span closed while entered on this thread (its exit never reaches the layer): until
    /// the stack empties, the registry's stack may hold it above the frames here, and the
    /// registry, not this stack, says what the current span is.
    pub(crate) closed_inside: bool,
}

thread_local! {
    static THREAD_STATES: RefCell<Vec<ThreadState>> = const { RefCell::new(Vec::new()) };
    /// The filter's verdict for the span being evaluated, for the recorder's global
    /// `enabled`: `true` when tickprof does not record it and no other layer wants it, so the
    /// span is disabled for the whole subscriber and never created.
    static REFUSE: Cell<bool> = const { Cell::new(false) };
}

/// Sets the verdict the recorder's `enabled` reads next.
#[inline]
pub(crate) fn set_refuse(refuse: bool) {
    let _ = REFUSE.try_with(|r| r.set(refuse));
}

/// Takes the verdict (and clears it).
#[inline]
pub(crate) fn take_refuse() -> bool {
    REFUSE.try_with(|r| r.replace(false)).unwrap_or(false)
}

/// Runs `f` with this thread's state for `shared`'s active `run`; `None` if the thread-local is
/// unavailable (thread teardown) or already borrowed (never expected: callbacks do not nest).
#[inline]
pub(crate) fn with_thread_state<R>(
    shared: &Arc<Shared>,
    run: u64,
    f: impl FnOnce(&mut ThreadState) -> R,
) -> Option<R> {
    with_thread(shared, |state| {
        if state.run != run {
            state.begin_run(run, shared);
        }
        f(state)
    })
}

/// Runs `f` with this thread's state whatever its run (for what does not depend on one: the
/// callsite cache).
#[inline]
pub(crate) fn with_thread<R>(
    shared: &Arc<Shared>,
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
            states.get_mut(index).map(f)
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
            tid: super::kernel_tid::current(),
            callsites: CallsiteCache::default(),
            sampler: TickSampler::new(0, 0),
            pending_tick: None,
            created: [None; CREATED_SLOTS],
            next_created: 0,
            tick_fields: [None; TICK_FIELD_SLOTS],
            tick_fields_kept: 0,
            tick_fields_held: 0,
            ordinal_base: 0,
            spans_created: 0,
            stack: Vec::new(),
            closed_inside: false,
        }
    }

    /// Forgets everything of an earlier run; claims the shard for `run`. Spans still entered
    /// from an earlier run stay on the stack as frames of an earlier run (ignored: not timed,
    /// not recorded, nothing beneath them a component), so that their exits are not taken for
    /// exits without an enter.
    fn begin_run(&mut self, run: u64, shared: &Shared) {
        self.run = run;
        for frame in &mut self.stack {
            frame.state = SpanState::new(SpanKind::Ignored, 0, 0);
            frame.entered_raw = 0;
            frame.earlier_run = true;
        }
        self.created = [None; CREATED_SLOTS];
        self.pending_tick = None;
        let seed = (std::ptr::from_ref(self) as u64) ^ shared.clock.raw() ^ run.rotate_left(32);
        let warmup_ticks = shared.budget.warmup_ticks();
        self.sampler = TickSampler::new(seed, warmup_ticks);
        self.shard.begin_run(
            run,
            warmup_ticks,
            shared.slowest_ticks,
            &shared.template,
            self.tid,
        );
        self.ordinal_base = self.shard.ticks_in(run);
        self.tick_fields = [None; TICK_FIELD_SLOTS];
        self.tick_fields_held = 0;
    }

    /// Counts one tick; returns its ordinal (the n-th tick this thread started in the run).
    #[inline]
    pub(crate) fn count_tick(&self) -> u64 {
        self.shard.count_tick().wrapping_sub(self.ordinal_base)
    }

    /// Keeps a live tick's fields until it closes: in a free slot, else in place of the
    /// oldest kept (a tick closed on another thread leaves its fields here until then).
    #[inline]
    pub(crate) fn keep_tick_fields(&mut self, id: u64, fields: TickFields) {
        self.tick_fields_kept = self.tick_fields_kept.wrapping_add(1);
        let kept = Some(KeptFields {
            id,
            kept: self.tick_fields_kept,
            fields,
        });
        if let Some(free) = self.tick_fields.iter_mut().find(|slot| slot.is_none()) {
            *free = kept;
            self.tick_fields_held += 1;
        } else if let Some(oldest) = self
            .tick_fields
            .iter_mut()
            .min_by_key(|slot| slot.as_ref().map_or(0, |k| k.kept))
        {
            *oldest = kept;
        }
    }

    /// A live tick's fields, to update (`Span::record`).
    #[inline]
    pub(crate) fn tick_fields_mut(&mut self, id: u64) -> Option<&mut TickFields> {
        if self.tick_fields_held == 0 {
            return None;
        }
        self.tick_fields
            .iter_mut()
            .flatten()
            .find(|kept| kept.id == id)
            .map(|kept| &mut kept.fields)
    }

    /// Takes a closing tick's fields out.
    #[inline]
    pub(crate) fn take_tick_fields(&mut self, id: u64) -> Option<TickFields> {
        if self.tick_fields_held == 0 {
            return None;
        }
        let kept = self
            .tick_fields
            .iter_mut()
            .find(|slot| slot.is_some_and(|kept| kept.id == id))?
            .take()?;
        self.tick_fields_held -= 1;
        Some(kept.fields)
    }

    /// The run this thread's state belongs to.
    #[inline]
    pub(crate) fn run(&self) -> u64 {
        self.run
    }

    /// The callsite's entry (`None` if it never registered with this collector).
    #[inline]
    pub(crate) fn callsite(&mut self, shared: &Shared, key: usize) -> Option<CallsiteInfo> {
        self.callsites.get(&shared.callsites, key)
    }

    /// Keeps a newly created span until it is entered (the oldest entry is forgotten when the
    /// ring is full).
    #[inline]
    pub(crate) fn remember_created(&mut self, id: u64, state: SpanState) {
        self.spans_created = self.spans_created.wrapping_add(1);
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

    /// A live span's state, without moving it: entered, created or parked by this thread.
    pub(crate) fn peek(&self, id: u64) -> Option<SpanState> {
        if let Some(frame) = self.stack.iter().rev().find(|f| f.id == id) {
            return Some(frame.state);
        }
        if let Some((_, state)) = self.created.iter().flatten().find(|(c, _)| *c == id) {
            return Some(*state);
        }
        self.shard.peek(id)
    }

    /// A live span's kind (what classifying its children needs), without copying its state
    /// out of the stack or the created ring.
    #[inline]
    pub(crate) fn peek_kind(&self, id: u64) -> Option<SpanKind> {
        if let Some(frame) = self.stack.iter().rev().find(|f| f.id == id) {
            return Some(frame.state.kind);
        }
        if let Some((_, state)) = self.created.iter().flatten().find(|(c, _)| *c == id) {
            return Some(state.kind);
        }
        self.shard.peek(id).map(|state| state.kind)
    }

    /// The contextual parent of a span created now, as the registry sees it: the innermost
    /// entered span that is not a re-entry (the registry's `current` skips duplicates).
    pub(crate) fn current(&self) -> Option<&Frame> {
        self.stack.iter().rev().find(|frame| !frame.reentry)
    }

    /// Counts a span the recorder had no state for, or an odd span sequence.
    pub(crate) fn count_missing(&self) {
        EventCounters::bump(&self.shard.events.missing_span_data, 1);
    }
}
