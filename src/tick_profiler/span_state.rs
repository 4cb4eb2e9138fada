//! What the recorder keeps about one live span between its callbacks.

/// How much of a tick is measured, decided once per tick at its callsite's filter decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TickMode {
    /// Counted only: the tick span is not created for tickprof.
    Untimed,
    /// The tick span exists and is timed; its children are not created for tickprof.
    Timed,
    /// The tick and every span inside it are recorded.
    Recorded,
    /// Recorded, and it opens a recording window when it is first entered (the interest
    /// rebuild cannot run inside the filter decision, see `window`).
    Opening,
}

/// What a span is to the profiler, decided once when it is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpanKind {
    /// A tick span, timed or recorded.
    Tick {
        /// Whether its children are recorded too.
        recorded: bool,
    },
    /// A span with a recorded tick among its ancestors; the slot indexes its name's histograms.
    Component {
        /// Index into the collector's interned span names.
        slot: u32,
        /// Whether its parent is the tick itself.
        direct: bool,
    },
    /// Any other span tickprof enabled (one created inside a recorded tick with another root):
    /// tracked so the contextual parent of the next span is known, never recorded.
    Ignored,
}

impl SpanKind {
    /// Whether spans created beneath this one are components.
    pub(crate) fn has_components_below(self) -> bool {
        matches!(
            self,
            SpanKind::Tick { recorded: true } | SpanKind::Component { .. }
        )
    }

    /// As one word (for the park slot): 0 = ignored, 1 = timed tick, 2 = recorded tick,
    /// 3 + 2 × slot (+ 1 if direct) = component. Below bit 62 (the slot's flags).
    pub(crate) fn encode(self) -> u64 {
        match self {
            SpanKind::Ignored => 0,
            SpanKind::Tick { recorded: false } => 1,
            SpanKind::Tick { recorded: true } => 2,
            SpanKind::Component { slot, direct } => 3 + 2 * u64::from(slot) + u64::from(direct),
        }
    }

    /// The inverse of [`encode`](Self::encode).
    pub(crate) fn decode(word: u64) -> SpanKind {
        match word {
            0 => SpanKind::Ignored,
            1 => SpanKind::Tick { recorded: false },
            2 => SpanKind::Tick { recorded: true },
            component => SpanKind::Component {
                slot: u32::try_from((component - 3) / 2).unwrap_or(u32::MAX),
                direct: (component - 3) % 2 == 1,
            },
        }
    }
}

/// Timing state of one span, in raw clock units (converted to ns once, at close).
///
/// Every field is additive over the span's entered intervals, so copies of one span made on
/// two threads (entered on both at once) merge into the state one thread would have seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SpanState {
    pub(crate) kind: SpanKind,
    /// Components: the parent (the span their busy time is credited to when they exit).
    /// Ticks: the n-th tick their thread started in the run (1-based; 0 if unknown), as their
    /// record's `link` (a tick credits no parent). Otherwise 0. One word for both: every span
    /// state is copied at each park and unpark.
    pub(crate) link: u64,
    /// For ticks: the recording window's epoch when it was created (a tick during which the
    /// window opened or closed on another thread is not a clean sample).
    pub(crate) epoch: u64,
    /// Sum of the entered intervals.
    pub(crate) busy_raw: u64,
    /// How many intervals (enter → exit) were timed.
    pub(crate) enters: u32,
    /// Spans tickprof created on this span's thread while it was entered: their cost lies
    /// inside its intervals and is compensated.
    pub(crate) nested: u32,
    /// Busy time of direct children, credited when each child exits.
    pub(crate) children_raw: u64,
    /// The children's entered intervals and nested spans, for their compensation.
    pub(crate) children_enters: u32,
    pub(crate) children_nested: u32,
    /// Clock at the first enter and the last exit (wall time of spans entered more than once).
    pub(crate) first_enter_raw: u64,
    pub(crate) last_exit_raw: u64,
    /// Made by a thread that entered the span without finding its state (the state was
    /// entered on another thread): merged with the other copies when the span closes.
    pub(crate) copy: bool,
    /// A recorded tick that opens a recording window at its first enter.
    pub(crate) opens_window: bool,
}

/// Number of words a `SpanState` packs into (for the lock-free park slot).
pub(crate) const STATE_WORDS: usize = 9;

impl SpanState {
    pub(crate) fn new(kind: SpanKind, link: u64, epoch: u64) -> Self {
        SpanState {
            kind,
            link,
            epoch,
            busy_raw: 0,
            enters: 0,
            nested: 0,
            children_raw: 0,
            children_enters: 0,
            children_nested: 0,
            first_enter_raw: 0,
            last_exit_raw: 0,
            copy: false,
            opens_window: false,
        }
    }

    /// Adds one timed interval `[entered_raw, exited_raw]` with `nested` spans inside it.
    pub(crate) fn add_interval(&mut self, entered_raw: u64, exited_raw: u64, nested: u32) {
        if self.enters == 0 || entered_raw < self.first_enter_raw {
            self.first_enter_raw = entered_raw;
        }
        self.last_exit_raw = self.last_exit_raw.max(exited_raw);
        self.busy_raw = self
            .busy_raw
            .saturating_add(exited_raw.saturating_sub(entered_raw));
        self.enters = self.enters.saturating_add(1);
        self.nested = self.nested.saturating_add(nested);
    }

    /// Credits one interval of a direct child.
    pub(crate) fn add_child_interval(&mut self, elapsed_raw: u64, nested: u32) {
        self.children_raw = self.children_raw.saturating_add(elapsed_raw);
        self.children_enters = self.children_enters.saturating_add(1);
        self.children_nested = self.children_nested.saturating_add(nested);
    }

    /// Combines two copies of one span's state (entered on two threads).
    pub(crate) fn merge(self, other: SpanState) -> SpanState {
        let (first_enter_raw, last_exit_raw) = match (self.enters, other.enters) {
            (0, _) => (other.first_enter_raw, other.last_exit_raw),
            (_, 0) => (self.first_enter_raw, self.last_exit_raw),
            _ => (
                self.first_enter_raw.min(other.first_enter_raw),
                self.last_exit_raw.max(other.last_exit_raw),
            ),
        };
        // The original (not a copy) knows the parent and epoch; a copy guessed them.
        let (kind, link, epoch) = if self.copy && !other.copy {
            (other.kind, other.link, other.epoch)
        } else {
            (self.kind, self.link, self.epoch)
        };
        // A tick's ordinal: a copy's is 0 (unknown).
        let link = match kind {
            SpanKind::Tick { .. } => self.link.max(other.link),
            SpanKind::Component { .. } | SpanKind::Ignored => link,
        };
        SpanState {
            kind,
            link,
            epoch,
            busy_raw: self.busy_raw.saturating_add(other.busy_raw),
            enters: self.enters.saturating_add(other.enters),
            nested: self.nested.saturating_add(other.nested),
            children_raw: self.children_raw.saturating_add(other.children_raw),
            children_enters: self.children_enters.saturating_add(other.children_enters),
            children_nested: self.children_nested.saturating_add(other.children_nested),
            first_enter_raw,
            last_exit_raw,
            copy: self.copy && other.copy,
            opens_window: self.opens_window || other.opens_window,
        }
    }

    /// The state as words, for the lock-free park slot.
    pub(crate) fn to_words(self) -> [u64; STATE_WORDS] {
        [
            self.kind.encode()
                | (u64::from(self.copy) << 63)
                | (u64::from(self.opens_window) << 62),
            self.link,
            self.epoch,
            self.busy_raw,
            u64::from(self.enters) | (u64::from(self.nested) << 32),
            self.children_raw,
            u64::from(self.children_enters) | (u64::from(self.children_nested) << 32),
            self.first_enter_raw,
            self.last_exit_raw,
        ]
    }

    /// The inverse of [`to_words`](Self::to_words).
    pub(crate) fn from_words(w: [u64; STATE_WORDS]) -> Self {
        let low = |word: u64| (word & u64::from(u32::MAX)) as u32;
        let high = |word: u64| (word >> 32) as u32;
        SpanState {
            kind: SpanKind::decode(w[0] & !(3 << 62)),
            copy: (w[0] >> 63) & 1 == 1,
            opens_window: (w[0] >> 62) & 1 == 1,
            link: w[1],
            epoch: w[2],
            busy_raw: w[3],
            enters: low(w[4]),
            nested: high(w[4]),
            children_raw: w[5],
            children_enters: low(w[6]),
            children_nested: high(w[6]),
            first_enter_raw: w[7],
            last_exit_raw: w[8],
        }
    }
}

/// A span currently entered on this thread.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame {
    pub(crate) id: u64,
    pub(crate) state: SpanState,
    pub(crate) entered_raw: u64,
    /// The thread's count of spans created when this frame was entered.
    pub(crate) created_before: u64,
    /// A span entered again while already entered on this thread: not timed twice, and not a
    /// contextual parent (the registry skips such frames too).
    pub(crate) reentry: bool,
    /// Entered before this thread's part of the run began (in an earlier run, its state
    /// forgotten): kept so that its exit is not taken for an exit without an enter, never timed
    /// or parked (its close finds no state, as for any span of an earlier run).
    pub(crate) earlier_run: bool,
}
