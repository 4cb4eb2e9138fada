//! What each callsite is to the profiler, decided once when it registers: the tick, another
//! span (with its interned name), or one of tickprof's calibration spans — and whether any
//! other layer of the subscriber could want its spans, which decides whether tickprof may
//! disable a span it does not record for the whole subscriber (see `subscriber_internals`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rustc_hash::FxHashMap;
use tracing_core::Metadata;

use crate::lock::lock;

/// The target of tickprof's own calibration spans.
pub(crate) const CALIBRATION_TARGET: &str = "tickprof::calibration";
/// The name of the calibration tick.
pub(crate) const CALIBRATION_TICK: &str = "tickprof.calibration.tick";

/// What a callsite is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// A span named like the configured tick.
    Tick,
    /// Any other span name, with its interned slot.
    Span(u32),
    /// tickprof's calibration tick (recorded only while calibrating).
    CalibrationTick,
    /// tickprof's other calibration spans, with their slot.
    CalibrationSpan(u32),
}

/// What the other layers of the subscriber want of a callsite, as one collector sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Others {
    /// Not asked since the callsite last registered: treated as interested (tickprof never
    /// disables what it cannot see).
    Unknown,
    /// A layer that is not tickprof's may want its spans: they are never disabled.
    Interested,
    /// Only tickprof layers (this one and maybe other collectors'). The `last` tickprof filter
    /// asked disables a span for the whole subscriber when it refuses it and no tickprof
    /// filter asked before it in the same evaluation took it (see `subscriber_internals`).
    OnlyTickprof {
        /// No other collector's filter is asked after this one's.
        last: bool,
        /// Other collectors' filters are asked too.
        others: bool,
    },
}

/// What a collector's filter does with a span it refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Veto {
    /// Leaves it to the other layers.
    Never,
    /// Disables it: no other layer wants it, and no other collector is asked.
    Alone,
    /// Disables it unless another collector asked before took it.
    UnlessTaken,
}

impl CallsiteInfo {
    /// A callsite just registered: nothing asked, nothing seen.
    pub(crate) const fn new(role: Role) -> Self {
        CallsiteInfo {
            role,
            others: Others::Unknown,
            place: Place::Unknown,
        }
    }
}

impl Others {
    /// What a lone collector sees in a subscriber nothing else is interested in.
    #[cfg(test)]
    pub(crate) const ALONE: Others = Others::OnlyTickprof {
        last: true,
        others: false,
    };

    /// What this collector's filter does with the spans it refuses.
    pub(crate) fn veto(self) -> Veto {
        match self {
            Others::OnlyTickprof {
                last: true,
                others: false,
            } => Veto::Alone,
            Others::OnlyTickprof { last: true, .. } => Veto::UnlessTaken,
            _ => Veto::Never,
        }
    }

    /// Whether this collector's filter decides whether the spans it refuses exist.
    pub(crate) fn may_veto(self) -> bool {
        self.veto() != Veto::Never
    }
}

/// Where a span callsite's spans run, as the filter has seen them: what decides whether its
/// spans are wanted between recording windows (see `TickGate::interest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// Not seen yet where it could be told: its spans are still looked at between windows.
    Unknown,
    /// Seen outside every tick, never inside one: its spans are counted, and sampled on their
    /// own, between windows too.
    OutsideTicks,
    /// Seen inside a timed or recorded tick (whatever else it was seen in): its spans cost
    /// nothing between windows.
    InsideTicks,
}

impl Place {
    /// What this place becomes once a span is seen at `seen`: inside ticks is final (a
    /// callsite that runs in both places is recorded outside ticks only while recording).
    fn learn(self, seen: Place) -> Place {
        match (self, seen) {
            (Place::InsideTicks, _) | (_, Place::InsideTicks) => Place::InsideTicks,
            (_, Place::OutsideTicks) => Place::OutsideTicks,
            (place, Place::Unknown) => place,
        }
    }
}

/// What the collector knows about one callsite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CallsiteInfo {
    pub(crate) role: Role,
    pub(crate) others: Others,
    pub(crate) place: Place,
}

/// The collector's callsite table.
#[derive(Debug)]
pub(crate) struct Callsites {
    tick_name: String,
    table: Mutex<FxHashMap<usize, (CallsiteInfo, &'static Metadata<'static>)>>,
    names: Mutex<Vec<&'static str>>,
    /// Bumped whenever an entry changes (so per-thread caches refresh), and whenever a run or
    /// a recording window begins or ends (so the untimed tick's shortcut, armed for one
    /// generation, never decides across either): see `Generation`.
    generation: Generation,
    /// Whether some callsite's `Others` is `Unknown` (asked at the next probe point).
    unprobed: AtomicBool,
}

/// A collector's decision generation: what a thread's cached decisions (callsite entries,
/// the untimed tick's shortcut) were made under. Shared by the callsite table, the window and
/// the run switch, each of which bumps it after its change is visible.
#[derive(Debug, Clone)]
pub(crate) struct Generation(Arc<AtomicU64>);

impl Default for Generation {
    fn default() -> Self {
        Generation(Arc::new(AtomicU64::new(1)))
    }
}

impl Generation {
    #[inline]
    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// Pairs with the Acquire in [`get`](Self::get): a thread that sees the new generation
    /// sees what changed before it.
    pub(crate) fn bump(&self) {
        self.0.fetch_add(1, Ordering::Release);
    }
}

/// The metadata's address: the identity of its callsite.
#[inline]
pub(crate) fn key(metadata: &Metadata<'_>) -> usize {
    std::ptr::from_ref(metadata) as usize
}

impl Callsites {
    pub(crate) fn new(tick_name: String) -> Self {
        Callsites {
            tick_name,
            table: Mutex::new(FxHashMap::default()),
            names: Mutex::new(Vec::new()),
            generation: Generation::default(),
            unprobed: AtomicBool::new(false),
        }
    }

    pub(crate) fn tick_name(&self) -> &str {
        &self.tick_name
    }

    /// The interned names, indexed by slot.
    pub(crate) fn names(&self) -> Vec<&'static str> {
        lock(&self.names).clone()
    }

    /// The slot of a span name, interning it on first sight.
    pub(crate) fn intern(&self, name: &'static str) -> u32 {
        let mut names = lock(&self.names);
        let slot = match names.iter().position(|known| *known == name) {
            Some(slot) => slot,
            None => {
                names.push(name);
                names.len() - 1
            }
        };
        u32::try_from(slot).unwrap_or(u32::MAX)
    }

    #[inline]
    pub(crate) fn generation(&self) -> u64 {
        self.generation.get()
    }

    /// A run began or ended: decisions cached under the earlier generation are stale.
    pub(crate) fn bump_generation(&self) {
        self.generation.bump();
    }

    /// The generation counter, for the window (which bumps it too).
    pub(crate) fn generation_counter(&self) -> Generation {
        self.generation.clone()
    }

    /// The entry for `key`, if the callsite registered.
    pub(crate) fn get(&self, key: usize) -> Option<CallsiteInfo> {
        lock(&self.table).get(&key).map(|(info, _)| *info)
    }

    /// A registered callsite's metadata (its field names), by key.
    pub(crate) fn metadata(&self, key: usize) -> Option<&'static Metadata<'static>> {
        lock(&self.table).get(&key).map(|(_, metadata)| *metadata)
    }

    /// Notes a registration of `metadata` (the first, or a rebuild of the interest cache) and
    /// returns its entry. Unless `others_unchanged` (tickprof's own rebuild), what other layers
    /// want of it is asked again at the next probe point: a reloaded filter or a new
    /// dispatcher may have changed it.
    pub(crate) fn register(
        &self,
        metadata: &'static Metadata<'static>,
        others_unchanged: bool,
    ) -> CallsiteInfo {
        let key = key(metadata);
        let mut table = lock(&self.table);
        if let Some((info, _)) = table.get_mut(&key) {
            let found = *info;
            if !others_unchanged && info.others != Others::Unknown {
                info.others = Others::Unknown;
                drop(table);
                self.unprobed.store(true, Ordering::Release);
                self.generation.bump();
            }
            return found;
        }
        drop(table);
        let info = CallsiteInfo::new(self.role_of(metadata));
        let info = lock(&self.table).entry(key).or_insert((info, metadata)).0;
        self.unprobed.store(true, Ordering::Release);
        self.generation.bump();
        info
    }

    /// Notes that a span of callsite `key` was seen at `seen` (a changed place changes its
    /// interest at the next rebuild: a window's switch or a run's start).
    pub(crate) fn learn_place(&self, key: usize, seen: Place) {
        let mut table = lock(&self.table);
        let Some((info, _)) = table.get_mut(&key) else {
            return;
        };
        let place = info.place.learn(seen);
        if place != info.place {
            info.place = place;
            drop(table);
            self.generation.bump();
        }
    }

    /// What a callsite is, from its metadata alone: for a callsite not registered yet (another
    /// thread may be registering it right now, and its spans are evaluated meanwhile).
    pub(crate) fn role_of(&self, metadata: &Metadata<'_>) -> Role {
        if metadata.target() == CALIBRATION_TARGET {
            if metadata.name() == CALIBRATION_TICK {
                Role::CalibrationTick
            } else {
                Role::CalibrationSpan(self.intern(metadata.name()))
            }
        } else if metadata.name() == self.tick_name {
            Role::Tick
        } else {
            Role::Span(self.intern(metadata.name()))
        }
    }

    /// Whether some callsite waits to be probed.
    #[inline]
    pub(crate) fn has_unprobed(&self) -> bool {
        self.unprobed.load(Ordering::Acquire)
    }

    /// The callsites waiting to be probed (and clears the flag: a registration meanwhile sets
    /// it again).
    pub(crate) fn take_unprobed(&self) -> Vec<&'static Metadata<'static>> {
        self.unprobed.store(false, Ordering::Release);
        lock(&self.table)
            .values()
            .filter(|(info, _)| info.others == Others::Unknown)
            .map(|(_, metadata)| *metadata)
            .collect()
    }

    /// Records what the other layers want of `key`.
    pub(crate) fn set_others(&self, key: usize, others: Others) {
        let mut table = lock(&self.table);
        if let Some((info, _)) = table.get_mut(&key)
            && info.others != others
        {
            info.others = others;
            drop(table);
            self.generation.bump();
        }
    }

    /// The entry of the callsite with this target and name, if registered.
    pub(crate) fn find(&self, target: &str, name: &str) -> Option<CallsiteInfo> {
        lock(&self.table)
            .values()
            .find(|(_, metadata)| metadata.target() == target && metadata.name() == name)
            .map(|(info, _)| *info)
    }
}

/// A small per-thread cache of callsite entries, open-addressed by address (linear probing):
/// a multiply, a load and a compare on the hot path instead of a locked map lookup.
#[derive(Debug)]
pub(crate) struct CallsiteCache {
    generation: u64,
    entries: [(usize, CallsiteInfo); CACHE_SIZE],
}

const CACHE_SIZE: usize = 64;
/// Entries probed before a lookup goes to the table.
const MAX_PROBES: usize = 8;
const EMPTY: (usize, CallsiteInfo) = (0, CallsiteInfo::new(Role::Span(u32::MAX)));

impl Default for CallsiteCache {
    fn default() -> Self {
        CallsiteCache {
            generation: 0,
            entries: [EMPTY; CACHE_SIZE],
        }
    }
}

impl CallsiteCache {
    /// The entry for `key`, from the cache or the table (`None` if it never registered).
    #[inline]
    pub(crate) fn get(&mut self, callsites: &Callsites, key: usize) -> Option<CallsiteInfo> {
        let generation = callsites.generation();
        if generation != self.generation {
            self.entries = [EMPTY; CACHE_SIZE];
            self.generation = generation;
        }
        // Fibonacci hashing: callsite metadata are statics laid out at a fixed stride, which
        // plain low bits would map onto a few entries.
        let home = key.wrapping_mul(0x9E37_79B9_7F4A_7C15_u64 as usize) >> (usize::BITS - 6);
        for probe in 0..MAX_PROBES {
            let index = (home + probe) % CACHE_SIZE;
            match self.entries.get(index) {
                Some((cached, info)) if *cached == key => return Some(*info),
                Some((0, _)) => {
                    let info = callsites.get(key)?;
                    if let Some(entry) = self.entries.get_mut(index) {
                        *entry = (key, info);
                    }
                    return Some(info);
                }
                _ => {}
            }
        }
        // More callsites than the cache holds near this one: looked up (and not cached).
        callsites.get(key)
    }
}
