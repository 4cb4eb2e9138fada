//! What the layer keeps about one live span between its callbacks.

/// What a span is to the profiler, decided once per callsite and parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpanKind {
    /// A tick span (its name is the configured tick name).
    Tick,
    /// A span with a tick among its ancestors; the slot indexes its name's histograms.
    Component {
        /// Index into the collector's interned span names.
        slot: u32,
    },
    /// Any other span: tracked only so the contextual parent of the next span is known.
    Ignored,
}

impl SpanKind {
    /// Whether spans created beneath this one are components.
    pub(crate) fn is_tick_or_component(self) -> bool {
        !matches!(self, SpanKind::Ignored)
    }
}

/// Timing state of one span, in raw clock units (converted to ns once, at close).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SpanState {
    pub(crate) kind: SpanKind,
    /// Sum of the entered intervals.
    pub(crate) busy_raw: u64,
    /// For ticks: busy time of direct child spans, so unattributed = busy − children.
    pub(crate) children_raw: u64,
    /// Clock at the first enter (for wall time).
    pub(crate) first_enter_raw: u64,
    /// Clock at the last exit (for wall time).
    pub(crate) last_exit_raw: u64,
    /// How many times the span was entered; wall time is recorded when more than once.
    pub(crate) enters: u32,
}

impl SpanState {
    pub(crate) fn new(kind: SpanKind) -> Self {
        SpanState {
            kind,
            busy_raw: 0,
            children_raw: 0,
            first_enter_raw: 0,
            last_exit_raw: 0,
            enters: 0,
        }
    }

    /// Combines two copies of one span's state (entered on two threads).
    pub(crate) fn merge(self, other: SpanState) -> SpanState {
        let first_enter_raw = match (self.enters, other.enters) {
            (0, _) => other.first_enter_raw,
            (_, 0) => self.first_enter_raw,
            _ => self.first_enter_raw.min(other.first_enter_raw),
        };
        SpanState {
            kind: self.kind,
            busy_raw: self.busy_raw.saturating_add(other.busy_raw),
            children_raw: self.children_raw.saturating_add(other.children_raw),
            first_enter_raw,
            last_exit_raw: self.last_exit_raw.max(other.last_exit_raw),
            enters: self.enters.saturating_add(other.enters),
        }
    }
}

/// A span currently entered on this thread.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame {
    pub(crate) id: u64,
    pub(crate) state: SpanState,
    pub(crate) entered_raw: u64,
    /// A span entered again while already entered (recursion): not timed twice.
    pub(crate) reentry: bool,
}
