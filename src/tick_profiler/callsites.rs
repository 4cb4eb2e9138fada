//! What each callsite is to the profiler, decided once per callsite: the tick, the
//! calibration tick, or another name (with its interned slot) — and whether any other layer of
//! the subscriber could want its spans, which decides whether tickprof may disable a span it
//! does not record for the whole subscriber (only then is the span never created).
//!
//! Why the other layers must be asked: a per-layer filter that says "no" for one span does not
//! stop the `Registry` from creating it (tracing-subscriber 0.3.23's `FilterMap::any_enabled`
//! compares the disabled bits against all 64 filter slots, so a span is created unless 64
//! filters disabled it). Only a callsite interest of `never` from every layer, or a global
//! `enabled == false`, keeps a span from existing. tickprof returns the global `false` only
//! for callsites no other layer is interested in, found by *probing*: registering the
//! callsite again through the whole dispatcher while tickprof itself says `never`; the result
//! is `never` exactly when every other layer said `never`.

use std::cell::Cell;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};

use rustc_hash::FxHashMap;
use tracing_core::subscriber::Interest;
use tracing_core::{Dispatch, Metadata};

use super::shared::lock;

/// The target of tickprof's own calibration spans.
pub(crate) const CALIBRATION_TARGET: &str = "tickprof::calibration";
/// The name of the calibration tick.
pub(crate) const CALIBRATION_TICK: &str = "tickprof.calibration.tick";

/// What a callsite is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// A span named like the configured tick.
    Tick,
    /// tickprof's calibration tick (recorded only while calibrating).
    CalibrationTick,
    /// tickprof's other calibration spans (evaluated only while calibrating), with the slot.
    CalibrationSpan(u32),
    /// Any other span name, with its interned slot.
    Named(u32),
}

/// Whether layers other than tickprof are interested in a callsite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Others {
    /// Not probed yet: treated as interested (tickprof never disables what it cannot see).
    Unknown,
    /// Every other layer said `never`: tickprof may disable its spans for the whole subscriber.
    Never,
    /// Some other layer may want its spans.
    Interested,
}

/// What tickprof knows about one callsite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CallsiteInfo {
    pub(crate) role: Role,
    pub(crate) others: Others,
}

thread_local! {
    /// Set while this thread probes a callsite: tickprof's filter then says `never` and probes
    /// nothing itself.
    static PROBING: Cell<bool> = const { Cell::new(false) };
}

/// Whether this thread is inside a probe.
pub(crate) fn probing() -> bool {
    PROBING.try_with(Cell::get).unwrap_or(true)
}

/// How many tick callsites are checked by pointer on the hot path (more are looked up).
const TICK_SLOTS: usize = 8;

/// One tick callsite: its metadata address (0: free) and its `Others`, as a number.
#[derive(Debug, Default)]
struct TickSlot {
    key: AtomicUsize,
    others: AtomicU8,
}

impl Others {
    fn to_u8(self) -> u8 {
        match self {
            Others::Unknown => 0,
            Others::Never => 1,
            Others::Interested => 2,
        }
    }

    fn from_u8(value: u8) -> Others {
        match value {
            1 => Others::Never,
            2 => Others::Interested,
            _ => Others::Unknown,
        }
    }
}

/// The collector's callsite table.
#[derive(Debug)]
pub(crate) struct Callsites {
    tick_name: String,
    table: Mutex<FxHashMap<usize, (CallsiteInfo, &'static Metadata<'static>)>>,
    names: Mutex<Vec<&'static str>>,
    /// Bumped whenever an entry changes, so per-thread caches refresh.
    generation: AtomicU64,
    /// Tick callsites by metadata address, with whether other layers are interested in them:
    /// what every tick's filter decision needs, without a lookup.
    ticks: [TickSlot; TICK_SLOTS],
    /// Whether a tick callsite found no slot (it is known only by lookup).
    unslotted_ticks: AtomicBool,
    calibration_tick: AtomicUsize,
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
            generation: AtomicU64::new(1),
            ticks: Default::default(),
            unslotted_ticks: AtomicBool::new(false),
            calibration_tick: AtomicUsize::new(0),
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
        self.generation.load(Ordering::Acquire)
    }

    /// If `key` is a tick callsite known by address: whether other layers are interested in
    /// it. (`None`: not a tick, or one of more than `TICK_SLOTS` tick callsites.)
    #[inline]
    pub(crate) fn tick(&self, key: usize) -> Option<Others> {
        self.ticks
            .iter()
            .find(|slot| slot.key.load(Ordering::Relaxed) == key)
            .map(|slot| Others::from_u8(slot.others.load(Ordering::Relaxed)))
    }

    /// Whether some tick callsite is not in [`tick`](Self::tick)'s slots: then a span that
    /// is not found there may still be a tick.
    #[inline]
    pub(crate) fn has_unslotted_ticks(&self) -> bool {
        self.unslotted_ticks.load(Ordering::Relaxed)
    }

    /// Whether `key` is the calibration tick's callsite.
    #[inline]
    pub(crate) fn is_calibration_tick(&self, key: usize) -> bool {
        self.calibration_tick.load(Ordering::Relaxed) == key
    }

    /// The entry for `key`, if the callsite was registered.
    pub(crate) fn get(&self, key: usize) -> Option<CallsiteInfo> {
        lock(&self.table).get(&key).map(|(info, _)| *info)
    }

    /// A registered callsite's metadata (its field names), by key.
    pub(crate) fn metadata(&self, key: usize) -> Option<&'static Metadata<'static>> {
        lock(&self.table).get(&key).map(|(_, metadata)| *metadata)
    }

    /// The callsite's entry, creating it (unprobed) on first sight.
    pub(crate) fn entry(&self, metadata: &'static Metadata<'static>) -> CallsiteInfo {
        let key = key(metadata);
        if let Some(info) = self.get(key) {
            return info;
        }
        // tickprof's own spans first: a private calibration collector's tick has their name.
        let role = if metadata.target() == CALIBRATION_TARGET {
            if metadata.name() == CALIBRATION_TICK {
                self.calibration_tick.store(key, Ordering::Relaxed);
                Role::CalibrationTick
            } else {
                Role::CalibrationSpan(self.intern(metadata.name()))
            }
        } else if metadata.name() == self.tick_name {
            // Claim a free slot (compare-and-swap: two threads may register two ticks at once).
            let slotted = self.ticks.iter().any(|slot| {
                slot.key
                    .compare_exchange(0, key, Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
            });
            if !slotted {
                self.unslotted_ticks.store(true, Ordering::Relaxed);
            }
            Role::Tick
        } else {
            Role::Named(self.intern(metadata.name()))
        };
        let info = CallsiteInfo {
            role,
            others: Others::Unknown,
        };
        let mut table = lock(&self.table);
        let info = table.entry(key).or_insert((info, metadata)).0;
        drop(table);
        self.generation.fetch_add(1, Ordering::Release);
        info
    }

    /// The entry of the callsite whose metadata has this target and name, if registered.
    pub(crate) fn find(&self, target: &str, name: &str) -> Option<CallsiteInfo> {
        lock(&self.table)
            .values()
            .find(|(_, metadata)| metadata.target() == target && metadata.name() == name)
            .map(|(info, _)| *info)
    }

    /// Records what the other layers said about `key`.
    pub(crate) fn set_others(&self, key: usize, others: Others) {
        if let Some(slot) = self
            .ticks
            .iter()
            .find(|slot| slot.key.load(Ordering::Relaxed) == key)
        {
            slot.others.store(others.to_u8(), Ordering::Relaxed);
        }
        let mut table = lock(&self.table);
        if let Some((info, _)) = table.get_mut(&key)
            && info.others != others
        {
            info.others = others;
            drop(table);
            self.generation.fetch_add(1, Ordering::Release);
        }
    }
}

/// Registers `metadata` through `dispatch` with tickprof saying `never`: the interest of every
/// other layer combined. Safe inside a registration pass (see the gate's `callsite_enabled`).
pub(crate) fn probe(dispatch: &Dispatch, metadata: &'static Metadata<'static>) -> Interest {
    let _ = PROBING.try_with(|p| p.set(true));
    let interest = dispatch.register_callsite(metadata);
    let _ = PROBING.try_with(|p| p.set(false));
    interest
}

/// What a probe result says about the other layers.
pub(crate) fn others_from(interest: &Interest) -> Others {
    if interest.is_never() {
        Others::Never
    } else {
        Others::Interested
    }
}

/// A small per-thread cache of callsite entries, direct-mapped by address: one load and a
/// compare on the hot path instead of a locked map lookup.
#[derive(Debug)]
pub(crate) struct CallsiteCache {
    generation: u64,
    entries: [(usize, CallsiteInfo); CACHE_SIZE],
}

const CACHE_SIZE: usize = 64;
const EMPTY_INFO: CallsiteInfo = CallsiteInfo {
    role: Role::Named(u32::MAX),
    others: Others::Unknown,
};

impl Default for CallsiteCache {
    fn default() -> Self {
        CallsiteCache {
            generation: 0,
            entries: [(0, EMPTY_INFO); CACHE_SIZE],
        }
    }
}

impl CallsiteCache {
    /// The entry for `key`, from the cache or the table (`None` if never registered).
    #[inline]
    pub(crate) fn get(&mut self, callsites: &Callsites, key: usize) -> Option<CallsiteInfo> {
        let generation = callsites.generation();
        if generation != self.generation {
            self.entries = [(0, EMPTY_INFO); CACHE_SIZE];
            self.generation = generation;
        }
        // Fibonacci hashing: callsite metadata are statics laid out at a fixed stride, which
        // plain low bits would map onto a few slots (eight callsites evicting each other).
        let index = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15_u64 as usize) >> (usize::BITS - 6))
            % CACHE_SIZE;
        if let Some((cached, info)) = self.entries.get(index)
            && *cached == key
        {
            return Some(*info);
        }
        let info = callsites.get(key)?;
        if let Some(entry) = self.entries.get_mut(index) {
            *entry = (key, info);
        }
        Some(info)
    }
}
