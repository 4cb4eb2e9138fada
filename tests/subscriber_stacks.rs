//! Any subscriber stack (issue 19, item 3): one, two and three tickprof layers (each active
//! alone, all active at once, added in any order), beside `fmt` (plain, or behind a per-layer
//! `EnvFilter`), an `EnvFilter` on the whole subscriber, a layer that wants every span and a
//! layer that wants one span name only; under scoped dispatchers and, each in a process of its
//! own, as the global default; with full, default-budget and one-in-n sampling.
//!
//! Every run checks exact relations only (nothing about time: the machine may be loaded):
//! - every active collector counts every tick, and records what its sampling says: with full
//!   sampling every tick with every span in it; otherwise some ticks timed and some recorded
//!   (never more than were counted), each recorded tick with every span in it, warm-up
//!   included (see [`check_report`]);
//! - every other layer sees every span and event it wanted, whether or not tickprof measures
//!   the tick: the counting layers count their spans and events, `fmt` the lines it wrote;
//! - a span no other layer wants exists only where a collector measures it: the user's code
//!   sees how many of its spans exist (`Span::is_disabled`), which with one active collector
//!   is exactly the ticks it timed or recorded and the spans of the ticks it recorded.
//!
//! A layer counts as wanting a span when tracing lets it see that span: a plain layer whose
//! `enabled` says yes (which `EnvFilter` on the whole subscriber is: tracing gives no way to
//! tell a layer that only filters from one that consumes), or a per-layer filtered layer whose
//! filter says yes.
//!
//! A test binary of its own: its runs are serialized so that none sees dispatchers come and go
//! unless its `Install` says so (see `SERIAL`), which other tests' dispatchers in the process
//! would break; the global-default cases run in child processes of this binary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tickprof::{DEFAULT_WARMUP_TICKS, MetricsCollector, Report, Sampling};
use tracing::{Dispatch, Level};
use tracing_core::subscriber::Interest;
use tracing_core::{Metadata, Subscriber};
use tracing_subscriber::filter::{EnvFilter, LevelFilter};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Filter, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// The target of the workload's spans and events (the counting layers count only these, not
/// tickprof's calibration spans).
const TARGET: &str = module_path!();

/// The spans of one tick: name, level, how many one tick creates.
const SPANS: [(&str, Level, u64); 6] = [
    ("tick", Level::INFO, 1),
    ("parse", Level::INFO, 1),
    ("strategy", Level::INFO, 1),
    ("signal", Level::INFO, 2),
    ("noise", Level::DEBUG, 1),
    ("risk", Level::INFO, 1),
];

/// One `warn!` every this many ticks.
const WARN_EVERY: u64 = 1_000;

/// The events of `n` ticks at `level`.
fn events(level: Level, n: u64) -> u64 {
    match level {
        Level::INFO | Level::DEBUG => n,
        Level::WARN => n.div_ceil(WARN_EVERY),
        _ => 0,
    }
}

/// How many spans of each name the user's code saw exist.
type Existing = BTreeMap<&'static str, u64>;

/// The workload: `n` ticks of `tick > {parse, strategy > 2 × signal, noise (debug), risk}`,
/// with an info event per tick, a debug event per tick and a warn event every 1,000 ticks.
/// Adds how many spans of each name existed to `existing`. `first`: the first tick's index.
fn ticks(first: u64, n: u64, existing: &mut Existing) {
    let mut note = |name: &'static str, span: &tracing::Span| {
        if !span.is_disabled() {
            *existing.entry(name).or_default() += 1;
        }
    };
    for i in first..first + n {
        let tick = tracing::info_span!("tick");
        note("tick", &tick);
        let _tick = tick.enter();
        {
            let parse = tracing::info_span!("parse");
            note("parse", &parse);
            let _parse = parse.enter();
            tracing::info!(i, "parsed");
            if i % WARN_EVERY == 0 {
                tracing::warn!(i, "slow line");
            }
        }
        {
            let strategy = tracing::info_span!("strategy");
            note("strategy", &strategy);
            let _strategy = strategy.enter();
            for _ in 0..2 {
                let signal = tracing::info_span!("signal");
                note("signal", &signal);
                signal.in_scope(|| std::hint::black_box(i));
            }
        }
        {
            let noise = tracing::debug_span!("noise");
            note("noise", &noise);
            let _noise = noise.enter();
            tracing::debug!("detail");
        }
        let risk = tracing::info_span!("risk");
        note("risk", &risk);
        risk.in_scope(|| std::hint::black_box(i));
    }
}

/// Counts the workload's spans created (by name) and events (`event LEVEL`) it is shown.
#[derive(Clone, Default)]
struct Counter(Arc<Mutex<BTreeMap<String, u64>>>);

impl Counter {
    fn add(&self, key: String) {
        *self.0.lock().unwrap().entry(key).or_default() += 1;
    }

    fn get(&self, key: &str) -> u64 {
        self.0.lock().unwrap().get(key).copied().unwrap_or(0)
    }

    fn total(&self) -> u64 {
        self.0.lock().unwrap().values().sum()
    }
}

fn event_key(level: Level) -> String {
    format!("event {level}")
}

impl<S: Subscriber> Layer<S> for Counter {
    fn on_new_span(
        &self,
        attrs: &tracing_core::span::Attributes<'_>,
        _: &tracing_core::span::Id,
        _: Context<'_, S>,
    ) {
        if attrs.metadata().target() == TARGET {
            self.add(attrs.metadata().name().to_owned());
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() == TARGET {
            self.add(event_key(*event.metadata().level()));
        }
    }
}

/// A per-layer filter that wants the workload's spans of one name and nothing else.
struct Only(&'static str);

impl Only {
    fn wants(&self, metadata: &Metadata<'_>) -> bool {
        metadata.is_span() && metadata.target() == TARGET && metadata.name() == self.0
    }
}

impl<S> Filter<S> for Only {
    fn enabled(&self, metadata: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        self.wants(metadata)
    }

    fn callsite_enabled(&self, metadata: &'static Metadata<'static>) -> Interest {
        if self.wants(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }
}

/// A `fmt` writer that counts the lines written.
#[derive(Clone, Default)]
struct Lines(Arc<AtomicU64>);

impl Write for Lines {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        self.0.fetch_add(lines, Ordering::Relaxed);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Lines {
    type Writer = Lines;

    fn make_writer(&'a self) -> Lines {
        self.clone()
    }
}

/// One layer of a stack.
#[derive(Clone, Copy, Debug)]
enum Slot {
    /// Collector `k`'s layer.
    Tickprof(usize),
    /// `fmt::layer()`: wants every span and event.
    Fmt,
    /// `fmt::layer().with_filter(EnvFilter::new(directive))`.
    FmtFiltered(&'static str),
    /// `EnvFilter::new(directive)` as a plain layer: the whole subscriber's filter.
    EnvFilter(&'static str),
    /// A plain counting layer: wants every span and event.
    WantsAll,
    /// A counting layer behind a filter that wants the spans of this name only.
    WantsOnly(&'static str),
}

use Slot::{EnvFilter as Env, Fmt, FmtFiltered, Tickprof, WantsAll, WantsOnly};

/// The level a directive of these tests allows.
fn level_of(directive: &str) -> LevelFilter {
    directive.parse().unwrap()
}

/// What a collector samples in a run.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// `Sampling::full()`.
    Full,
    /// The default (a budget of 3 %), with the default calibration the budget paces on.
    Budget,
    /// `Sampling::one_in(n)`.
    OneIn(u64),
}

impl Mode {
    fn ticks(self) -> u64 {
        match self {
            // The budget paces on measured tick times, from checkpoints every 1,024 ticks.
            Mode::Budget => 20_000,
            // About 500 ticks timed and 500 recorded (in windows of 64) at one in ten.
            Mode::OneIn(_) => 5_000,
            Mode::Full => 2_000,
        }
    }
}

/// One run: the stack (innermost first: `registry().with(stack[0]).with(stack[1])…`) and
/// what each collector does (`None`: idle, its layer in the stack all the same).
struct Case {
    stack: Vec<Slot>,
    modes: Vec<Option<Mode>>,
    /// The active collectors start one after another, a quarter of the run apart (in the
    /// order of their indices), rather than all before the first tick.
    staggered: bool,
}

impl Case {
    fn new(stack: &[Slot], modes: &[Option<Mode>]) -> Self {
        let collectors = stack
            .iter()
            .filter_map(|slot| match slot {
                Tickprof(k) => Some(*k + 1),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        assert_eq!(collectors, modes.len(), "one mode per collector");
        Case {
            stack: stack.to_vec(),
            modes: modes.to_vec(),
            staggered: false,
        }
    }

    fn staggered(mut self) -> Self {
        self.staggered = true;
        self
    }

    /// The tick before which collector `k` starts (`None`: idle).
    fn start_of(&self, k: usize) -> Option<u64> {
        self.modes.get(k).copied().flatten()?;
        if !self.staggered {
            return Some(0);
        }
        let before = self.modes.iter().take(k).flatten().count() as u64;
        Some(before * (self.ticks() / 4))
    }

    fn ticks(&self) -> u64 {
        self.modes
            .iter()
            .flatten()
            .map(|mode| mode.ticks())
            .max()
            .unwrap_or(2_000)
    }

    fn label(&self) -> String {
        let staggered = if self.staggered { ", staggered" } else { "" };
        format!("stack {:?}, modes {:?}{staggered}", self.stack, self.modes)
    }

    /// The level the whole subscriber allows.
    fn global(&self) -> LevelFilter {
        self.stack
            .iter()
            .filter_map(|slot| match slot {
                Env(directive) => Some(level_of(directive)),
                _ => None,
            })
            .min()
            .unwrap_or(LevelFilter::TRACE)
    }

    /// Spans of `name` (at `level`) per tick that exist for someone (0 if the whole subscriber
    /// disables them).
    fn per_tick(&self, name: &str) -> u64 {
        let (_, level, count) = SPANS.iter().find(|(n, _, _)| *n == name).unwrap();
        if *level <= self.global() { *count } else { 0 }
    }

    /// Whether a layer other than tickprof's wants spans of `name` at `level`.
    fn others_want(&self, name: &str, level: Level) -> bool {
        self.stack.iter().any(|slot| match slot {
            Tickprof(_) => false,
            Fmt | WantsAll => true,
            FmtFiltered(directive) | Env(directive) => level <= level_of(directive),
            WantsOnly(only) => *only == name,
        })
    }
}

/// Everything a run's layers hold, by position in the stack.
struct Parts {
    collectors: Vec<MetricsCollector>,
    counters: Vec<Counter>,
    lines: Vec<Lines>,
}

impl Parts {
    fn new(case: &Case) -> Self {
        let collectors = case
            .modes
            .iter()
            .map(|mode| {
                let builder = MetricsCollector::builder().without_resource_sampling();
                match mode {
                    Some(Mode::Full) => builder.sampling(Sampling::full()).measure_overhead(false),
                    Some(Mode::OneIn(n)) => builder
                        .sampling(Sampling::one_in(*n))
                        .measure_overhead(false),
                    Some(Mode::Budget) | None => builder,
                }
                .build()
                .unwrap()
            })
            .collect();
        Parts {
            collectors,
            counters: case.stack.iter().map(|_| Counter::default()).collect(),
            lines: case.stack.iter().map(|_| Lines::default()).collect(),
        }
    }

    /// The layer at `position` of the stack.
    fn layer<S>(&self, slot: Slot, position: usize) -> Box<dyn Layer<S> + Send + Sync>
    where
        S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
    {
        let fmt = || {
            tracing_subscriber::fmt::layer()
                .with_writer(self.lines[position].clone())
                .without_time()
                .with_ansi(false)
        };
        let counter = self.counters[position].clone();
        match slot {
            Tickprof(k) => self.collectors[k].layer().boxed(),
            Fmt => fmt().boxed(),
            FmtFiltered(directive) => fmt().with_filter(EnvFilter::new(directive)).boxed(),
            Env(directive) => EnvFilter::new(directive).boxed(),
            WantsAll => counter.boxed(),
            WantsOnly(name) => counter.with_filter(Only(name)).boxed(),
        }
    }

    /// The subscriber of `stack`, innermost layer first.
    fn dispatch(&self, stack: &[Slot]) -> Dispatch {
        macro_rules! stack {
            ($($slot:ident : $position:literal),*) => {{
                let subscriber = tracing_subscriber::registry();
                $(let subscriber = subscriber.with(self.layer(*$slot, $position));)*
                Dispatch::new(subscriber)
            }};
        }
        match stack {
            [a] => stack!(a: 0),
            [a, b] => stack!(a: 0, b: 1),
            [a, b, c] => stack!(a: 0, b: 1, c: 2),
            [a, b, c, d] => stack!(a: 0, b: 1, c: 2, d: 3),
            [a, b, c, d, e] => stack!(a: 0, b: 1, c: 2, d: 3, e: 4),
            [a, b, c, d, e, f] => stack!(a: 0, b: 1, c: 2, d: 3, e: 4, f: 5),
            [a, b, c, d, e, f, g] => stack!(a: 0, b: 1, c: 2, d: 3, e: 4, f: 5, g: 6),
            _ => panic!("stacks of 1 to 7 layers"),
        }
    }
}

/// How a run's subscriber is installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Install {
    /// `tracing::dispatcher::with_default`.
    Scoped,
    /// `tracing::dispatcher::with_default`, while another dispatcher that wants every span
    /// exists (so every callsite's cached interest is `sometimes`: each span is evaluated).
    ScopedBesideAnother,
    /// As `ScopedBesideAnother`, and every 500 ticks one more dispatcher is created (each
    /// rebuilds every callsite's interest, as a test or a thread creating its own does).
    ScopedBesideNewOnes,
    /// `tracing::dispatcher::set_global_default` (once per process).
    Global,
}

/// Runs are serialized: a run must not see other runs' dispatchers come and go unless its
/// `Install` says so. (Each new dispatcher rebuilds every callsite's interest; while tickprof
/// has the bug `an_idle_outer_collector_does_not_hide_components_after_a_new_dispatcher`
/// shows, a dispatcher a parallel test creates makes two-collector cases fail at random.)
static SERIAL: Mutex<()> = Mutex::new(());

/// Ticks between two points where a run may start a collector or create a dispatcher.
const PART: u64 = 500;

/// Runs `case` and checks everything it must hold.
fn run(case: &Case, install: Install) {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let label = format!("{install:?}, {}", case.label());
    let parts = Parts::new(case);
    let dispatch = parts.dispatch(&case.stack);
    let n = case.ticks();
    let body = || {
        let mut existing: Existing = SPANS.iter().map(|(name, _, _)| (*name, 0)).collect();
        let mut done = 0;
        while done < n {
            for k in 0..case.modes.len() {
                if case.start_of(k) == Some(done) {
                    parts.collectors[k]
                        .start_profiling(&format!("collector {k}"))
                        .unwrap();
                }
            }
            let next = (0..case.modes.len())
                .filter_map(|k| case.start_of(k))
                .filter(|&start| start > done)
                .fold(n.min((done / PART + 1) * PART), u64::min);
            ticks(done, next - done, &mut existing);
            done = next;
            if install == Install::ScopedBesideNewOnes && done < n {
                drop(Dispatch::new(tracing_subscriber::registry()));
            }
        }
        let reports: Vec<Option<Report>> = case
            .modes
            .iter()
            .enumerate()
            .map(|(k, mode)| mode.map(|_| parts.collectors[k].stop_profiling().unwrap()))
            .collect();
        (existing, reports)
    };
    let (existing, reports) = match install {
        Install::Scoped => tracing::dispatcher::with_default(&dispatch, body),
        Install::ScopedBesideAnother | Install::ScopedBesideNewOnes => {
            let other = Counter::default();
            let _another = Dispatch::new(tracing_subscriber::registry().with(other.clone()));
            let outcome = tracing::dispatcher::with_default(&dispatch, body);
            assert_eq!(
                other.total(),
                0,
                "{label}: the other dispatcher is not the default"
            );
            outcome
        }
        Install::Global => {
            tracing::dispatcher::set_global_default(dispatch).unwrap();
            body()
        }
    };
    // What each active collector measured: (ticks timed or recorded, ticks recorded).
    let measured: Vec<(u64, u64)> = reports
        .iter()
        .zip(&case.modes)
        .enumerate()
        .filter_map(|(k, (report, mode))| {
            let label = format!("{label}, collector {k}");
            let counted = n - case.start_of(k)?;
            Some(check_report(
                &label,
                case,
                report.as_ref()?,
                (*mode)?,
                counted,
            ))
        })
        .collect();
    check_existing(&label, case, &existing, &measured, n);
    check_others(&label, case, &parts, n);
}

/// Checks one collector's report of its `n` ticks (those after its start) on one thread;
/// returns (ticks timed or recorded, ticks recorded).
///
/// How the counters relate (see `run_report.rs`): `ticks_recorded` counts every recorded tick,
/// warm-up included; `ticks_timed` the ticks after the warm-up in `ticks.latency` (with full
/// sampling every tick after the warm-up; otherwise the timed-only ones); a warm-up tick is
/// always timed or recorded, and counted in `warmup.count`, the recorded ones also in
/// `warmup.recorded`.
fn check_report(label: &str, case: &Case, report: &Report, mode: Mode, n: u64) -> (u64, u64) {
    assert_eq!(report.ticks.count, n, "{label}: every tick counted");
    let s = report.sampling.as_ref().unwrap();
    let warmup = report.ticks.warmup.as_ref().unwrap();
    assert_eq!(
        warmup.count,
        n.min(DEFAULT_WARMUP_TICKS),
        "{label}: every warm-up tick measured: {warmup:?}"
    );
    let (kind, one_in) = match mode {
        Mode::Full => (tickprof::SamplingKind::Full, None),
        Mode::Budget => (tickprof::SamplingKind::Budget, None),
        Mode::OneIn(every) => (tickprof::SamplingKind::OneIn, Some(every)),
    };
    assert_eq!((&s.mode, s.one_in), (&kind, one_in), "{label}");
    let timed_only = match mode {
        Mode::Full => {
            assert_eq!(
                s.ticks_recorded, n,
                "{label}: full records every tick: {s:?}"
            );
            assert_eq!(s.ticks_timed, n - warmup.count, "{label}: {s:?}");
            assert_eq!(warmup.recorded, warmup.count, "{label}: {warmup:?}");
            0
        }
        Mode::Budget | Mode::OneIn(_) => {
            let timed_only = s.ticks_timed + (warmup.count - warmup.recorded);
            assert!(
                timed_only + s.ticks_recorded <= n,
                "{label}: measured at most the ticks counted: {s:?}, {warmup:?}"
            );
            assert!(
                s.ticks_timed > 0 && s.ticks_recorded > 0,
                "{label}: a run of {n} ticks times and records some: {s:?}"
            );
            if let Mode::OneIn(_) = mode {
                assert!(
                    timed_only + s.ticks_recorded < n,
                    "{label}: one in n leaves ticks untimed: {s:?}, {warmup:?}"
                );
            }
            timed_only
        }
    };
    assert_eq!(report.ticks.latency.samples, s.ticks_timed, "{label}");
    assert_eq!(report.unattributed.samples, s.ticks_recorded, "{label}");
    let recorded_latency = report.ticks.recorded.as_ref().map(|l| l.samples);
    assert_eq!(recorded_latency, Some(s.ticks_recorded), "{label}");
    // Every recorded tick with every span in it.
    let expected: BTreeMap<&str, u64> = SPANS
        .iter()
        .filter(|(name, _, _)| *name != "tick" && case.per_tick(name) > 0)
        .map(|(name, _, _)| (*name, s.ticks_recorded * case.per_tick(name)))
        .collect();
    let actual: BTreeMap<&str, u64> = report
        .components
        .iter()
        .map(|(name, stats)| (name.as_str(), stats.count))
        .collect();
    assert_eq!(
        actual, expected,
        "{label}: components of {} recorded ticks",
        s.ticks_recorded
    );
    let d = &report.dropped;
    assert_eq!(
        (d.missing_span_data, d.straddled, d.uncredited_children),
        (0, 0, 0),
        "{label}: {d:?}"
    );
    (timed_only + s.ticks_recorded, s.ticks_recorded)
}

/// Checks which of the workload's spans existed: all those another layer wants; of the
/// others, the ones some collector measured (exactly those, with one active collector).
fn check_existing(label: &str, case: &Case, existing: &Existing, measured: &[(u64, u64)], n: u64) {
    let mut wrong = Vec::new();
    for (name, level, _) in SPANS {
        let exist = existing[name];
        let per_tick = case.per_tick(name);
        if case.others_want(name, level) || per_tick == 0 {
            if exist != n * per_tick {
                wrong.push(format!(
                    "{exist} `{name}` spans exist, not {}: every one another layer wants (and \
                     none the whole subscriber disables)",
                    n * per_tick
                ));
            }
            continue;
        }
        let by_collector: Vec<u64> = measured
            .iter()
            .map(|&(ticks, recorded)| {
                if name == "tick" {
                    ticks
                } else {
                    recorded * per_tick
                }
            })
            .collect();
        let (least, most) = (
            by_collector.iter().copied().max().unwrap_or(0),
            by_collector.iter().sum::<u64>(),
        );
        if !(least..=most).contains(&exist) {
            wrong.push(format!(
                "{exist} `{name}` spans exist; no other layer wants them, so they exist exactly \
                 where a collector measures them: at least {least}, at most {most} (by \
                 collector: {by_collector:?})"
            ));
        }
    }
    assert!(wrong.is_empty(), "{label}:\n{}", wrong.join("\n"));
}

/// Checks that every other layer saw every span and event it wanted, and nothing else.
fn check_others(label: &str, case: &Case, parts: &Parts, n: u64) {
    let global = case.global();
    let events_up_to = |level: LevelFilter| -> u64 {
        [Level::WARN, Level::INFO, Level::DEBUG]
            .into_iter()
            .filter(|l| *l <= global && *l <= level)
            .map(|l| events(l, n))
            .sum()
    };
    for (position, slot) in case.stack.iter().enumerate() {
        let counter = &parts.counters[position];
        let lines = parts.lines[position].0.load(Ordering::Relaxed);
        match slot {
            Tickprof(_) | Env(_) => {}
            Fmt => assert_eq!(
                lines,
                events_up_to(LevelFilter::TRACE),
                "{label}: fmt writes every event"
            ),
            FmtFiltered(directive) => assert_eq!(
                lines,
                events_up_to(level_of(directive)),
                "{label}: fmt behind `{directive}` writes its events"
            ),
            WantsAll => {
                for (name, _, _) in SPANS {
                    assert_eq!(
                        counter.get(name),
                        n * case.per_tick(name),
                        "{label}: the layer that wants every span sees every `{name}`"
                    );
                }
                for level in [Level::WARN, Level::INFO, Level::DEBUG] {
                    let expected = if level <= global { events(level, n) } else { 0 };
                    assert_eq!(
                        counter.get(&event_key(level)),
                        expected,
                        "{label}: the layer that wants everything sees every {level} event"
                    );
                }
            }
            WantsOnly(name) => {
                let expected = if SPANS.iter().any(|(n, _, _)| n == name) {
                    n * case.per_tick(name)
                } else {
                    0
                };
                assert_eq!(
                    (counter.get(name), counter.total()),
                    (expected, expected),
                    "{label}: the layer that wants `{name}` sees each one, and nothing else"
                );
            }
        }
    }
}

fn run_all(install: Install, cases: &[Case]) {
    for case in cases {
        run(case, install);
    }
}

use Install::{Scoped, ScopedBesideAnother, ScopedBesideNewOnes};
use Mode::{Budget, Full, OneIn};

// ---------------------------------------------------------------------------------------------
// One tickprof layer

#[test]
fn one_layer_alone_with_each_sampling() {
    run_all(
        Scoped,
        &[
            Case::new(&[Tickprof(0)], &[Some(Full)]),
            Case::new(&[Tickprof(0)], &[Some(Budget)]),
            Case::new(&[Tickprof(0)], &[Some(OneIn(10))]),
        ],
    );
}

#[test]
fn one_layer_beside_fmt_inside_or_outside_it() {
    run_all(
        Scoped,
        &[
            Case::new(&[Fmt, Tickprof(0)], &[Some(Full)]),
            Case::new(&[Tickprof(0), Fmt], &[Some(OneIn(10))]),
        ],
    );
}

#[test]
fn one_layer_with_env_filter_on_the_whole_subscriber_and_per_layer() {
    run_all(
        Scoped,
        &[
            // The README's stack.
            Case::new(&[Env("info"), Fmt, Tickprof(0)], &[Some(Budget)]),
            // The whole subscriber's filter asked last, after tickprof's decision…
            Case::new(&[Env("info"), Tickprof(0)], &[Some(OneIn(10))]),
            // …and first.
            Case::new(&[Tickprof(0), Env("info")], &[Some(Full)]),
            // fmt behind a per-layer filter that wants no span of the tick: tickprof alone
            // decides which exist.
            Case::new(&[Tickprof(0), FmtFiltered("warn")], &[Some(OneIn(10))]),
            Case::new(&[FmtFiltered("warn"), Tickprof(0)], &[Some(Full)]),
            // The tick's level excluded for fmt, not for the whole subscriber.
            Case::new(
                &[Env("info"), FmtFiltered("warn"), Tickprof(0)],
                &[Some(OneIn(10))],
            ),
            Case::new(
                &[Env("debug"), Tickprof(0), FmtFiltered("info")],
                &[Some(Full)],
            ),
        ],
    );
}

#[test]
fn one_layer_beside_a_layer_that_wants_every_span() {
    run_all(
        Scoped,
        &[
            Case::new(&[WantsAll, Tickprof(0)], &[Some(OneIn(10))]),
            Case::new(&[Tickprof(0), WantsAll], &[Some(Budget)]),
            Case::new(&[Tickprof(0), WantsAll], &[Some(Full)]),
        ],
    );
}

#[test]
fn one_layer_beside_layers_that_want_one_span_or_none() {
    run_all(
        Scoped,
        &[
            Case::new(
                &[WantsOnly("risk"), Tickprof(0), WantsOnly("nothing")],
                &[Some(OneIn(10))],
            ),
            Case::new(&[Tickprof(0), WantsOnly("tick")], &[Some(Budget)]),
            Case::new(&[WantsOnly("nothing"), Tickprof(0)], &[Some(Full)]),
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Two tickprof layers

/// It counted 0 ticks: the idle outer layer vetoed every tick before the inner one was asked.
#[test]
fn the_inner_of_two_layers_counts_its_ticks_when_only_it_is_active() {
    run_all(
        Scoped,
        &[
            Case::new(&[Tickprof(0), Tickprof(1)], &[Some(Full), None]),
            Case::new(&[Tickprof(0), Tickprof(1)], &[Some(OneIn(10)), None]),
        ],
    );
}

#[test]
fn the_outer_of_two_layers_counts_its_ticks_when_only_it_is_active() {
    run_all(
        Scoped,
        &[
            Case::new(&[Tickprof(0), Tickprof(1)], &[None, Some(Full)]),
            Case::new(&[Tickprof(0), Tickprof(1)], &[None, Some(OneIn(10))]),
        ],
    );
}

/// It panicked: each layer inserted its own `RecordedTick` into the span's extensions
/// ("type already present").
#[test]
fn two_layers_recording_the_same_tick_do_not_panic() {
    run_all(
        Scoped,
        &[Case::new(
            &[Tickprof(0), Tickprof(1)],
            &[Some(Full), Some(Full)],
        )],
    );
}

#[test]
fn two_layers_both_active_one_of_them_recording_every_tick() {
    run_all(
        Scoped,
        &[
            Case::new(&[Tickprof(0), Tickprof(1)], &[Some(OneIn(10)), Some(Full)]),
            Case::new(&[Tickprof(1), Tickprof(0)], &[Some(OneIn(10)), Some(Full)]),
        ],
    );
}

#[test]
fn two_layers_beside_fmt_and_a_layer_that_wants_every_span() {
    run_all(
        Scoped,
        &[
            Case::new(
                &[Tickprof(0), WantsAll, Tickprof(1)],
                &[Some(OneIn(10)), None],
            ),
            Case::new(&[Tickprof(0), Fmt, Tickprof(1)], &[None, Some(OneIn(10))]),
            Case::new(
                &[Env("info"), Tickprof(1), FmtFiltered("warn"), Tickprof(0)],
                &[Some(OneIn(10)), Some(Full)],
            ),
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Three tickprof layers

#[test]
fn three_layers_each_active_alone() {
    let stack = [Tickprof(0), Tickprof(1), Tickprof(2)];
    run_all(
        Scoped,
        &[
            Case::new(&stack, &[Some(OneIn(10)), None, None]),
            Case::new(&stack, &[None, Some(OneIn(10)), None]),
            Case::new(&stack, &[None, None, Some(OneIn(10))]),
        ],
    );
}

#[test]
fn three_layers_all_active() {
    run_all(
        Scoped,
        &[
            Case::new(
                &[Tickprof(0), Tickprof(1), Tickprof(2)],
                &[Some(Full), Some(Budget), Some(OneIn(10))],
            ),
            Case::new(
                &[Tickprof(2), Tickprof(0), Tickprof(1)],
                &[Some(Full), Some(Full), Some(Full)],
            ),
        ],
    );
}

#[test]
fn three_layers_among_other_layers_in_any_order() {
    let stack = [
        Env("info"),
        Tickprof(2),
        FmtFiltered("warn"),
        Tickprof(0),
        WantsOnly("risk"),
        Tickprof(1),
    ];
    run_all(
        Scoped,
        &[
            Case::new(&stack, &[Some(OneIn(10)), None, None]),
            Case::new(&stack, &[None, Some(Full), None]),
            Case::new(&stack, &[None, None, Some(OneIn(10))]),
            Case::new(&stack, &[Some(OneIn(10)), Some(Full), Some(OneIn(4))]),
            Case::new(
                &[Tickprof(1), WantsAll, Tickprof(0), Fmt, Tickprof(2)],
                &[Some(OneIn(10)), Some(OneIn(10)), Some(Full)],
            ),
        ],
    );
}

/// Collectors started one after another while the loop runs (each start rebuilds every
/// callsite's interest), with one recording every tick.
#[test]
fn layers_started_one_after_another() {
    run_all(
        Scoped,
        &[
            Case::new(&[Tickprof(0), Tickprof(1)], &[Some(OneIn(10)), Some(Full)]).staggered(),
            Case::new(&[Tickprof(0), Tickprof(1)], &[Some(Full), Some(OneIn(10))]).staggered(),
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Beside other dispatchers

#[test]
fn beside_another_dispatcher() {
    run_all(
        ScopedBesideAnother,
        &[
            Case::new(&[Tickprof(0)], &[Some(OneIn(10))]),
            Case::new(&[Tickprof(0), Tickprof(1)], &[Some(OneIn(10)), None]),
            Case::new(&[Tickprof(0), Tickprof(1)], &[None, Some(OneIn(10))]),
            Case::new(
                &[Tickprof(0), Tickprof(1), Tickprof(2)],
                &[Some(Full), Some(OneIn(4)), Some(OneIn(10))],
            ),
        ],
    );
}

#[test]
fn beside_dispatchers_created_while_the_loop_runs() {
    run_all(
        ScopedBesideNewOnes,
        &[
            Case::new(&[Tickprof(0)], &[Some(OneIn(10))]),
            Case::new(
                &[Env("info"), FmtFiltered("warn"), Tickprof(0)],
                &[Some(OneIn(10))],
            ),
            // The active layer outside the idle one.
            Case::new(&[Tickprof(0), Tickprof(1)], &[None, Some(OneIn(10))]),
            Case::new(
                &[Tickprof(0), Tickprof(1), Tickprof(2)],
                &[Some(Full), Some(OneIn(4)), Some(OneIn(10))],
            ),
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// The global default: one process per case (a process has one global default).

/// The environment variable that makes this test binary one global-default child.
const GLOBAL_CASE: &str = "TICKPROF_SUBSCRIBER_STACKS_GLOBAL_CASE";

fn global_cases() -> Vec<Case> {
    vec![
        // The README's stack, with the default sampling (calibrated on the global dispatcher).
        Case::new(
            &[Env("info"), FmtFiltered("warn"), Tickprof(0)],
            &[Some(Budget)],
        ),
        Case::new(
            &[Tickprof(0), WantsAll, Tickprof(1)],
            &[Some(OneIn(10)), None],
        ),
        Case::new(&[Tickprof(0), Tickprof(1)], &[Some(Full), None]),
        Case::new(&[Tickprof(0), Tickprof(1)], &[None, Some(OneIn(10))]),
        Case::new(
            &[Tickprof(0), Tickprof(1), Tickprof(2)],
            &[Some(Full), Some(Budget), Some(OneIn(10))],
        ),
    ]
}

/// Each case in a child process (this binary, this test, `GLOBAL_CASE` set), all at once.
#[test]
fn global_default() {
    let cases = global_cases();
    if let Ok(index) = std::env::var(GLOBAL_CASE) {
        let case = &cases[index.parse::<usize>().unwrap()];
        run(case, Install::Global);
        println!("GLOBAL CASE {index} PASSED");
        return;
    }
    let children: Vec<_> = (0..cases.len())
        .map(|index| {
            std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "global_default",
                    "--exact",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(GLOBAL_CASE, index.to_string())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (index, child) in children.into_iter().enumerate() {
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains(&format!("GLOBAL CASE {index} PASSED")),
            "global default, {}:\n{stdout}\n{}",
            cases[index].label(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Failing: tickprof bugs, each with a minimal reproduction and the matrix cases it fails.

/// A collector that times one tick in ten and records one in ten (no calibration, no
/// resource sampler).
fn one_in_ten() -> MetricsCollector {
    MetricsCollector::builder()
        .sampling(Sampling::one_in(10))
        .measure_overhead(false)
        .without_resource_sampling()
        .build()
        .unwrap()
}

/// Ticks a collector timed or recorded: the ticks it needed a span for.
fn measured(report: &Report) -> u64 {
    let s = report.sampling.as_ref().unwrap();
    let w = report.ticks.warmup.as_ref().unwrap();
    s.ticks_timed + w.count - w.recorded + s.ticks_recorded
}

/// Two active collectors each see the other's `sometimes` interest in the tick callsite
/// ("another layer may want it"), so neither vetoes the ticks it leaves untimed: every tick
/// span is created, though at most the ticks one of them timed or recorded need to be.
#[test]
fn two_sampling_layers_create_only_the_ticks_they_measure() {
    let (a, b) = (one_in_ten(), one_in_ten());
    let dispatch = Dispatch::new(
        tracing_subscriber::registry()
            .with(a.layer())
            .with(b.layer()),
    );
    let (exist, a, b) = tracing::dispatcher::with_default(&dispatch, || {
        a.start_profiling("a").unwrap();
        b.start_profiling("b").unwrap();
        let mut exist = 0;
        for _ in 0..5_000 {
            let tick = tracing::info_span!("tick");
            exist += u64::from(!tick.is_disabled());
            let _tick = tick.enter();
        }
        (
            exist,
            a.stop_profiling().unwrap(),
            b.stop_profiling().unwrap(),
        )
    });
    assert_eq!((a.ticks.count, b.ticks.count), (5_000, 5_000));
    let (a, b) = (measured(&a), measured(&b));
    assert!(
        exist <= a + b,
        "{exist} of 5,000 tick spans created; a measured {a}, b {b}"
    );
}

/// (The staggered case also fails the next bug first.)
#[test]
fn matrix_cases_with_several_sampling_layers_active() {
    run_all(
        Scoped,
        &[
            Case::new(
                &[Tickprof(0), Tickprof(1)],
                &[Some(OneIn(10)), Some(OneIn(10))],
            )
            .staggered(),
            Case::new(&[Tickprof(0), Tickprof(1)], &[Some(Budget), Some(OneIn(5))]),
            Case::new(
                &[Tickprof(0), FmtFiltered("warn"), Tickprof(1), Tickprof(2)],
                &[Some(OneIn(10)), None, Some(OneIn(4))],
            ),
        ],
    );
}

/// A collector asks once what other layers want of a callsite, and keeps the answer across
/// the interest rebuilds tickprof makes (`subscriber_internals::rebuilding`). But another
/// collector's rebuilds (its windows opening and closing) change what that collector wants of
/// a component callsite (`never` ↔ `sometimes`). A collector that asked while the other's
/// window was closed (at its own start, or after a registration tickprof did not make: a new
/// dispatcher) keeps `Others::Never`, and vetoes the component inside the other's later
/// windows: evaluated first (the outer layer), it hides the component from the collector that
/// records the tick, whose recorded tick then has no components. (At one in ten, the other's
/// window is closed at a given moment nine times in ten: ten starts make a miss unlikely; it
/// failed 30 runs in 30. With `rebuilding()` always `false` it passed 10 in 10.)
#[test]
fn an_outer_collector_started_and_stopped_does_not_hide_components_from_the_inner_one() {
    let (inner, outer) = (one_in_ten(), one_in_ten());
    let dispatch = Dispatch::new(
        tracing_subscriber::registry()
            .with(inner.layer())
            .with(outer.layer()),
    );
    let report = tracing::dispatcher::with_default(&dispatch, || {
        inner.start_profiling("inner").unwrap();
        for _ in 0..10 {
            outer.start_profiling("outer").unwrap();
            for _ in 0..500 {
                let _tick = tracing::info_span!("tick").entered();
                let _parse = tracing::info_span!("parse").entered();
            }
            let _ = outer.stop_profiling().unwrap();
        }
        inner.stop_profiling().unwrap()
    });
    let recorded = report.sampling.as_ref().unwrap().ticks_recorded;
    assert_eq!(report.ticks.count, 5_000);
    assert_eq!(
        report.components["parse"].count, recorded,
        "every recorded tick has its `parse`"
    );
}

/// The same with the outer collector idle throughout: what it knows is reset by the rebuilds
/// of dispatchers created while the loop runs (as tests running in parallel do).
#[test]
fn an_idle_outer_collector_does_not_hide_components_after_a_new_dispatcher() {
    let (active, idle) = (one_in_ten(), one_in_ten());
    let dispatch = Dispatch::new(
        tracing_subscriber::registry()
            .with(active.layer())
            .with(idle.layer()),
    );
    let report = tracing::dispatcher::with_default(&dispatch, || {
        active.start_profiling("inner").unwrap();
        for _ in 0..50 {
            for _ in 0..100 {
                let _tick = tracing::info_span!("tick").entered();
                let _parse = tracing::info_span!("parse").entered();
            }
            drop(Dispatch::new(tracing_subscriber::registry()));
        }
        active.stop_profiling().unwrap()
    });
    let recorded = report.sampling.as_ref().unwrap().ticks_recorded;
    assert_eq!(report.ticks.count, 5_000);
    assert_eq!(
        report.components["parse"].count, recorded,
        "every recorded tick has its `parse`"
    );
}

#[test]
fn matrix_cases_where_an_outer_collector_asked_too_early() {
    run_all(
        ScopedBesideNewOnes,
        &[
            Case::new(&[Tickprof(0), Tickprof(1)], &[Some(OneIn(10)), None]),
            Case::new(
                &[Tickprof(0), Tickprof(1), Tickprof(2)],
                &[None, Some(OneIn(10)), None],
            ),
        ],
    );
}
