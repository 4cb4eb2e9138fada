//! Every place tickprof relies on how tracing-subscriber 0.3.23 and tracing-core 0.1.36 behave
//! beyond their documented contracts, in one module, each with a test below that fails if the
//! behaviour changes (run with the versions in `Cargo.lock`).
//!
//! 1. **A per-layer filter cannot stop a span from being created.** The `Registry` creates a
//!    span unless every one of 64 filter slots disabled it (`FilterMap::any_enabled` is
//!    `bits != u64::MAX`), so a span that only tickprof's filter refused still costs the
//!    `Registry` ~100 ns. What does stop it: `Layer::enabled` returning `false` after the
//!    layer's own filter said yes (`Filtered::enabled` asks its layer only then), which
//!    disables the span for the whole subscriber. tickprof's filter says yes and its layer says
//!    no ([`set_veto`] → [`take_veto`]) only for callsites no other layer is interested in.
//! 2. **Which other layers want a callsite** is not visible to a filter. tickprof asks by
//!    registering the callsite again through the whole dispatcher while its own filter answers
//!    `never` ([`probe`]): the result is `never` exactly when every other layer said `never`.
//!    Probes run once per callsite (again after a registration tickprof did not cause): at a
//!    run's start, or in the filter decision that first refuses one of its spans. Never inside
//!    a registration pass: a nested one would consume the interest other filters had added to
//!    tracing-subscriber's thread-local sum. (Inside a filter pass a probe touches only that
//!    sum, which filter passes do not use.) In a probe, other collectors' filters answer `never`
//!    and note that they were asked, and after whom: a collector learns whether only tickprof
//!    layers are interested, and whether its filter is the last tickprof filter asked. Only
//!    the last one vetoes, and not a span an earlier one took in the same evaluation
//!    ([`note_taken`], [`veto_unless_taken`]): two collectors see each other's ticks, and no
//!    collector's interest flipping with its windows changes what another may veto.
//! 3. **Rebuilding the interest cache** (`tracing_core::callsite::rebuild_interest_cache`)
//!    asks only the calling thread's default dispatcher while a single dispatcher is
//!    registered ("just one" mode), and registers callsites without tracing-core's dispatcher
//!    lock: a tick callsite registering while a run starts could store the `never` it computed
//!    before the run over the run's `sometimes`, and the whole run would count no tick
//!    (tokio-rs/tracing#3611). A collector keeps a second, no-op dispatcher alive for its whole
//!    life ([`all_dispatchers_rebuild`]), so every rebuild and registration asks every
//!    dispatcher, under the lock; and a run starts by registering one more, which waits for
//!    every registration in flight and then rebuilds every callsite alone. tickprof's own
//!    rebuilds are marked ([`rebuild_interest`], [`rebuilding`]): they do not change what other
//!    layers want.
//! 4. **A callsite's spans are evaluated while it registers** on another thread (tracing-core
//!    answers `sometimes` meanwhile): tickprof's filter can see a callsite it was never told
//!    of. What a callsite is therefore follows from its metadata (`Callsites::role_of`), and
//!    a tick is counted whether or not its registration has reached tickprof.
//!
//! Upstream: tokio-rs/tracing#3572 changes how per-layer interest is summed; a fix of
//! `any_enabled` would make the veto unnecessary (tickprof would then need only its filter).

use std::cell::Cell;

#[cfg(test)]
use tracing_core::subscriber::Interest;
use tracing_core::{Dispatch, Metadata};

use super::callsites::{Others, Veto};

thread_local! {
    /// The collector whose probe runs on this thread (0: none).
    static PROBING: Cell<u64> = const { Cell::new(0) };
    /// During a probe: whether the probing collector's filter has answered, and whether
    /// other collectors' answered before it and after it.
    static PROBE_ORDER: Cell<ProbeOrder> = const { Cell::new(ProbeOrder::NONE) };
    /// The collector whose filter refused the span being evaluated, for its layer's `enabled`.
    static VETO: Cell<u64> = const { Cell::new(0) };
    /// The callsite of the span a tickprof filter that is not the last asked took in the
    /// evaluation under way (0: none): the last one does not disable it.
    static TAKEN: Cell<usize> = const { Cell::new(0) };
    /// Set while tickprof rebuilds the interest cache itself.
    static REBUILDING: Cell<bool> = const { Cell::new(false) };
}

/// Who answered a probe, in the order they were asked.
#[derive(Debug, Clone, Copy)]
struct ProbeOrder {
    answered: bool,
    before: bool,
    after: bool,
}

impl ProbeOrder {
    const NONE: ProbeOrder = ProbeOrder {
        answered: false,
        before: false,
        after: false,
    };
}

/// Who is probing on this thread, as `collector` sees it (and, in a probe, notes the order in
/// which tickprof's filters answer: the same order as they are asked to decide a span).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Probing {
    /// Nobody: a real registration.
    No,
    /// `collector` itself: it answers `never`.
    Itself,
    /// Another collector: `collector` answers what it wants, and changes nothing.
    Another,
}

/// Who is probing on this thread.
#[inline]
pub(crate) fn probing(collector: u64) -> Probing {
    match PROBING.try_with(Cell::get).unwrap_or(0) {
        0 => Probing::No,
        c if c == collector => {
            let _ = PROBE_ORDER.try_with(|order| {
                order.set(ProbeOrder {
                    answered: true,
                    ..order.get()
                });
            });
            Probing::Itself
        }
        _ => {
            let _ = PROBE_ORDER.try_with(|order| {
                let mut seen = order.get();
                if seen.answered {
                    seen.after = true;
                } else {
                    seen.before = true;
                }
                order.set(seen);
            });
            Probing::Another
        }
    }
}

/// What every layer of `dispatch` but `collector`'s wants of `metadata`. Call it outside any
/// registration or filter pass, with no tickprof lock held.
pub(crate) fn probe(
    dispatch: &Dispatch,
    metadata: &'static Metadata<'static>,
    collector: u64,
) -> Others {
    let outer = PROBING.try_with(|p| p.replace(collector)).unwrap_or(0);
    if outer != 0 {
        // Never nested (a layer that probes from its own registration): leave it unknown.
        let _ = PROBING.try_with(|p| p.set(outer));
        return Others::Unknown;
    }
    let _ = PROBE_ORDER.try_with(|order| order.set(ProbeOrder::NONE));
    let interest = dispatch.register_callsite(metadata);
    let _ = PROBING.try_with(|p| p.set(0));
    let order = PROBE_ORDER.try_with(Cell::get).unwrap_or(ProbeOrder::NONE);
    if !order.answered {
        // Its filter is not in `dispatch`: nothing to decide there.
        Others::Unknown
    } else if interest.is_never() {
        Others::OnlyTickprof {
            last: !order.after,
            others: order.before || order.after,
        }
    } else {
        Others::Interested
    }
}

/// `collector`'s filter refused a span no layer but tickprof's wants: disables it as `veto`
/// says; whether it does.
#[inline]
pub(crate) fn veto(collector: u64, key: usize, veto: Veto) -> bool {
    match veto {
        Veto::Never => false,
        Veto::Alone => {
            let _ = VETO.try_with(|v| v.set(collector));
            true
        }
        Veto::UnlessTaken => veto_unless_taken(collector, key),
    }
}

/// `collector`'s filter, the last tickprof filter asked, refused a span of callsite `key` that
/// no layer but tickprof's wants: unless a tickprof filter asked before took it in this
/// evaluation, its layer's `enabled`, asked next, disables the span for the whole subscriber.
/// Whether it does.
#[inline]
pub(crate) fn veto_unless_taken(collector: u64, key: usize) -> bool {
    let taken = TAKEN.try_with(|taken| taken.get() == key).unwrap_or(true);
    if taken {
        let _ = TAKEN.try_with(|taken| taken.set(0));
    } else {
        let _ = VETO.try_with(|v| v.set(collector));
    }
    !taken
}

/// A tickprof filter took a span of callsite `key`: if only tickprof layers want it, the last
/// one asked must not disable it; if this one is the last, the evaluation's record ends here.
/// A record a short-circuited evaluation left behind only ever spares one span its veto.
#[inline]
pub(crate) fn note_taken(key: usize, others: Others) {
    let _ = TAKEN.try_with(|taken| match others {
        Others::OnlyTickprof { last: false, .. } => taken.set(key),
        Others::OnlyTickprof {
            last: true,
            others: true,
        } if taken.get() == key => taken.set(0),
        _ => {}
    });
}

/// Whether `collector`'s filter asked for a veto (and clears it).
#[inline]
pub(crate) fn take_veto(collector: u64) -> bool {
    VETO.try_with(|v| {
        if v.get() == collector {
            v.set(0);
            true
        } else {
            false
        }
    })
    .unwrap_or(false)
}

/// Rebuilds tracing's callsite interest cache, marked as tickprof's own rebuild.
pub(crate) fn rebuild_interest() {
    let outer = REBUILDING.try_with(|r| r.replace(true)).unwrap_or(false);
    tracing_core::callsite::rebuild_interest_cache();
    let _ = REBUILDING.try_with(|r| r.set(outer));
}

/// Whether this thread is inside tickprof's own rebuild.
#[inline]
pub(crate) fn rebuilding() -> bool {
    REBUILDING.try_with(Cell::get).unwrap_or(false)
}

/// A no-op dispatcher: registering it rebuilds every callsite's interest alone, after every
/// registration in flight; keeping it alive keeps tracing-core out of its "just one" mode (see
/// the module doc, 3). Its cost while it lives: callsites every other layer always wants
/// become `sometimes` (one `enabled` walk per evaluation). It wants nothing and hints `OFF`, so
/// it never raises the global maximum level (tracing's own `NoSubscriber` hints nothing, which
/// counts as `TRACE`, and an idle tickprof alone would no longer make every span free).
pub(crate) fn all_dispatchers_rebuild() -> Dispatch {
    Dispatch::new(WantsNothing)
}

/// The subscriber of [`all_dispatchers_rebuild`].
struct WantsNothing;

impl tracing_core::Subscriber for WantsNothing {
    fn register_callsite(
        &self,
        _: &'static Metadata<'static>,
    ) -> tracing_core::subscriber::Interest {
        tracing_core::subscriber::Interest::never()
    }

    fn enabled(&self, _: &Metadata<'_>) -> bool {
        false
    }

    fn max_level_hint(&self) -> Option<tracing_core::LevelFilter> {
        Some(tracing_core::LevelFilter::OFF)
    }

    fn new_span(&self, _: &tracing_core::span::Attributes<'_>) -> tracing_core::span::Id {
        // Never called: it enables nothing.
        tracing_core::span::Id::from_u64(u64::MAX)
    }

    fn record(&self, _: &tracing_core::span::Id, _: &tracing_core::span::Record<'_>) {}

    fn record_follows_from(&self, _: &tracing_core::span::Id, _: &tracing_core::span::Id) {}

    fn event(&self, _: &tracing_core::Event<'_>) {}

    fn enter(&self, _: &tracing_core::span::Id) {}

    fn exit(&self, _: &tracing_core::span::Id) {}
}

/// The interest sum tracing-subscriber computes for two per-layer filters (for tests and docs).
#[cfg(test)]
fn sum(a: &Interest, b: &Interest) -> Interest {
    if (a.is_never() && b.is_never()) || (a.is_always() && b.is_always()) {
        a.clone()
    } else {
        Interest::sometimes()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    //! Behaviour of tracing-subscriber 0.3.23 that tickprof relies on. A failure here means the
    //! upstream behaviour changed: read the module doc before changing anything else.
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

    use super::*;

    /// Counts the spans it sees created.
    #[derive(Clone, Default)]
    struct Seen(Arc<AtomicUsize>);

    impl<S: tracing_core::Subscriber> Layer<S> for Seen {
        fn on_new_span(
            &self,
            _: &tracing_core::span::Attributes<'_>,
            _: &tracing_core::span::Id,
            _: Context<'_, S>,
        ) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A layer that refuses globally every span its filter let through.
    struct Vetoing;

    impl<S: tracing_core::Subscriber> Layer<S> for Vetoing {
        fn enabled(&self, _: &Metadata<'_>, _: Context<'_, S>) -> bool {
            false
        }
    }

    /// A filter that decides per span, like tickprof's (interest `sometimes`).
    struct Decide(bool);

    impl<S> tracing_subscriber::layer::Filter<S> for Decide {
        fn enabled(&self, _: &Metadata<'_>, _: &Context<'_, S>) -> bool {
            self.0
        }

        fn callsite_enabled(&self, _: &'static Metadata<'static>) -> Interest {
            Interest::sometimes()
        }
    }

    fn no() -> Decide {
        Decide(false)
    }

    fn yes() -> Decide {
        Decide(true)
    }

    #[test]
    fn a_lone_refusing_per_layer_filter_does_not_stop_span_creation() {
        let subscriber = tracing_subscriber::registry().with(Seen::default().with_filter(no()));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("refused");
            assert!(
                span.id().is_some(),
                "the Registry no longer creates spans every per-layer filter refused: \
                 tickprof's veto may be unnecessary (module doc, 1)"
            );
        });
    }

    #[test]
    fn a_filtered_layer_that_refuses_after_its_filter_accepted_disables_the_span_globally() {
        let seen = Seen::default();
        let subscriber = tracing_subscriber::registry()
            .with(seen.clone())
            .with(Vetoing.with_filter(yes()));
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("vetoed");
            assert!(span.id().is_none());
        });
        // Even for a layer without a filter that wanted it: hence a veto only when no other
        // layer is interested.
        assert_eq!(seen.0.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_refusing_filter_leaves_other_layers_their_spans() {
        let seen = Seen::default();
        let subscriber = tracing_subscriber::registry()
            .with(seen.clone().with_filter(yes()))
            .with(Vetoing.with_filter(no()));
        tracing::subscriber::with_default(subscriber, || {
            let _span = tracing::info_span!("kept");
        });
        assert_eq!(seen.0.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn per_layer_interests_are_summed() {
        let (n, s, a) = (Interest::never, Interest::sometimes, Interest::always);
        assert!(sum(&n(), &n()).is_never());
        assert!(sum(&a(), &a()).is_always());
        for (x, y) in [(n(), a()), (a(), n()), (s(), n()), (a(), s()), (s(), s())] {
            assert!(sum(&x, &y).is_sometimes());
        }
    }

    /// A filter whose interest depends on a probe: `never` while `collector` probes.
    struct Probed(u64, bool);

    impl<S> tracing_subscriber::layer::Filter<S> for Probed {
        fn enabled(&self, _: &Metadata<'_>, _: &Context<'_, S>) -> bool {
            true
        }

        fn callsite_enabled(&self, _: &'static Metadata<'static>) -> Interest {
            match probing(self.0) {
                Probing::Itself | Probing::Another => Interest::never(),
                Probing::No if self.1 => Interest::sometimes(),
                Probing::No => Interest::never(),
            }
        }
    }

    fn probe_of<S>(subscriber: S) -> Others
    where
        S: tracing_core::Subscriber + Send + Sync + 'static,
    {
        let dispatch = Dispatch::new(subscriber);
        let metadata = tracing::dispatcher::with_default(&dispatch, || {
            tracing::info_span!("probed").metadata()
        })
        .expect("the span was created");
        probe(&dispatch, metadata, 1)
    }

    #[test]
    fn a_probe_outside_a_pass_is_the_other_layers_interest() {
        let alone =
            tracing_subscriber::registry().with(Seen::default().with_filter(Probed(1, true)));
        assert_eq!(probe_of(alone), Others::ALONE);
        let with_plain = tracing_subscriber::registry()
            .with(Seen::default())
            .with(Seen::default().with_filter(Probed(1, true)));
        assert_eq!(probe_of(with_plain), Others::Interested);
        // Another collector is seen as such, asked after this one (inner) or before (outer):
        // layers are asked from the outermost in, in a probe as in a decision.
        let inner_other = tracing_subscriber::registry()
            .with(Seen::default().with_filter(Probed(2, true)))
            .with(Seen::default().with_filter(Probed(1, true)));
        assert_eq!(
            probe_of(inner_other),
            Others::OnlyTickprof {
                last: false,
                others: true
            }
        );
        let outer_other = tracing_subscriber::registry()
            .with(Seen::default().with_filter(Probed(1, true)))
            .with(Seen::default().with_filter(Probed(2, true)));
        assert_eq!(
            probe_of(outer_other),
            Others::OnlyTickprof {
                last: true,
                others: true
            }
        );
        // A dispatcher without this collector's filter: nothing to decide there.
        let without = tracing_subscriber::registry().with(Seen::default());
        assert_eq!(probe_of(without), Others::Unknown);
    }

    #[test]
    fn only_the_last_filter_vetoes_and_not_what_an_earlier_one_took() {
        // An earlier collector took the span: no veto, and the record ends.
        note_taken(
            11,
            Others::OnlyTickprof {
                last: false,
                others: true,
            },
        );
        assert!(!veto_unless_taken(7, 11));
        assert!(!take_veto(7));
        // Nobody took it: vetoed.
        assert!(veto_unless_taken(7, 11));
        assert!(take_veto(7));
        // A record of another callsite (a nested evaluation) is not this one's.
        note_taken(
            12,
            Others::OnlyTickprof {
                last: false,
                others: true,
            },
        );
        assert!(veto_unless_taken(7, 11));
        assert!(take_veto(7));
        // The last filter taking its span ends the record of it.
        note_taken(
            12,
            Others::OnlyTickprof {
                last: true,
                others: true,
            },
        );
        assert!(veto_unless_taken(7, 12));
        assert!(take_veto(7));
    }

    #[test]
    fn the_veto_is_taken_once_and_only_by_its_collector() {
        assert!(veto_unless_taken(7, 3));
        assert!(!take_veto(8));
        assert!(take_veto(7));
        assert!(!take_veto(7));
    }
}
