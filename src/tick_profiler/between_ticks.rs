//! Spans outside every tick, between recording windows: whether a thread is certainly between
//! ticks, and which of those spans to record.
//!
//! A tick the sampler does not time is refused, so it leaves no trace on its thread: a span
//! created in no span tickprof times may be between ticks or inside such a tick. It is
//! certainly between ticks when the last tick decided on its thread was timed or recorded (or
//! none was): an untimed decision is the only one that arms the untimed tick's shortcut, and
//! every tick the shortcut decides follows one. A callsite first seen there is known to run
//! outside ticks (`callsites::Place`); its spans are then counted wherever they are evaluated.

/// One thread's view of the time between its ticks.
#[derive(Debug)]
pub(crate) struct BetweenTicks {
    /// No untimed tick was decided here since the last timed or recorded one.
    last_tick_tracked: bool,
    /// The clock (raw) when the last span outside ticks was recorded between windows.
    last_recorded_raw: Option<u64>,
}

impl Default for BetweenTicks {
    fn default() -> Self {
        BetweenTicks {
            last_tick_tracked: true,
            last_recorded_raw: None,
        }
    }
}

impl BetweenTicks {
    /// A tick was decided here: `tracked` if it is timed or recorded.
    #[inline]
    pub(crate) fn tick_decided(&mut self, tracked: bool) {
        self.last_tick_tracked = tracked;
    }

    /// Whether a span created in no span tickprof times is certainly between ticks.
    #[inline]
    pub(crate) fn certainly_between(&self) -> bool {
        self.last_tick_tracked
    }

    /// A span outside ticks starts being recorded at `now_raw` whatever the gap (the first
    /// sight of its callsite): the next one is due a gap after it.
    pub(crate) fn recorded_at(&mut self, now_raw: u64) {
        self.last_recorded_raw = Some(now_raw);
    }

    /// Whether to record a span outside ticks that starts at `now_raw`, between windows: one
    /// at least `gap_ns` after the last one recorded (so that they cost about the budget's
    /// share of the time), the first always.
    pub(crate) fn sample(&mut self, clock: &quanta::Clock, now_raw: u64, gap_ns: u64) -> bool {
        let due = self
            .last_recorded_raw
            .is_none_or(|last| clock.delta_as_nanos(last, now_raw) >= gap_ns);
        if due {
            self.last_recorded_raw = Some(now_raw);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_untimed_decision_makes_the_thread_uncertain() {
        let mut between = BetweenTicks::default();
        assert!(between.certainly_between(), "no tick yet");
        between.tick_decided(true);
        assert!(between.certainly_between());
        between.tick_decided(false);
        assert!(!between.certainly_between());
        between.tick_decided(true);
        assert!(between.certainly_between());
    }

    #[test]
    fn spans_are_recorded_at_most_once_per_gap_and_the_first_always() {
        let (clock, mock) = quanta::Clock::mock();
        let mut between = BetweenTicks::default();
        assert!(between.sample(&clock, clock.raw(), 1_000));
        mock.increment(999);
        assert!(!between.sample(&clock, clock.raw(), 1_000));
        mock.increment(1);
        assert!(between.sample(&clock, clock.raw(), 1_000));
        assert!(between.sample(&clock, clock.raw(), 0), "no gap: every one");
    }
}
