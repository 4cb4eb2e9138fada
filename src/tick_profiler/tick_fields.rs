//! The first few fields of a tick span (`info_span!("tick", seq = n, ts = %ts)`), so a slow
//! tick can be named in the user's terms ("tick seq=904211").
//!
//! Captured on the hot path, so kept small and allocation-free: a fixed [`TickFields`] (at most
//! [`MAX_FIELDS`] values, strings truncated into 32 bytes) visited from the span's attributes
//! when a timed tick is created (and updated by `Span::record`), kept with the tick's timing
//! until it closes, and copied into the slow-tick list only for a tick that enters it. Names
//! are not copied: the callsite's metadata has them, looked up when the report is built.

use std::fmt::{self, Write as _};

use tracing_core::Metadata;
use tracing_core::field::{Field, Visit};

use crate::report::{TickField, TickFieldValue};

/// Which fields of the tick span a slow tick is reported with
/// ([`MetricsCollectorBuilder::tick_fields`](crate::MetricsCollectorBuilder::tick_fields)).
///
/// They are read when a timed tick span is created (its values exist only then), before its
/// clock starts: the cost is outside the tick's latency, in the loop's throughput, and only on
/// timed ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TickFieldCapture {
    /// None: ticks are reported by ordinal only.
    Off,
    /// Integers, floats, booleans and `&str` values (the default): about 210 instructions
    /// (~35 ns) per timed tick with one field, ~90 of them tracing-core's own visit, measured
    /// with callgrind (`examples/tick_cost.rs`, `ticks_seq` against `ticks_only`).
    #[default]
    Scalars,
    /// Those, and `%display` / `?debug` values, formatted into the tick's 32 bytes: the
    /// formatting's own cost on every timed tick (about 1,700 instructions for a formatted
    /// timestamp), so off by default.
    Formatted,
}

/// Fields kept per tick (the first ones declared).
pub(crate) const MAX_FIELDS: usize = 3;
/// Bytes for the values: an integer takes 8, a string what is left (truncated).
const VALUE_BYTES: usize = 32;

/// What one kept value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Kind {
    #[default]
    None,
    I64,
    U64,
    F64,
    Bool,
    /// UTF-8 text, whole.
    Text,
    /// UTF-8 text cut at a character boundary to fit.
    TextCut,
}

/// Where one value lies: its field's index in the callsite's field set, its kind, its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Slot {
    field: u8,
    kind: Kind,
    start: u8,
    len: u8,
}

/// A tick's first fields, as captured (values only; the names are the callsite's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TickFields {
    /// The tick callsite's metadata address (its field names).
    callsite: usize,
    /// `slots[..count]` were given out (a value too long for its place when recorded again
    /// leaves its old slot empty); `bytes[..used]` hold their values.
    slots: [Slot; MAX_FIELDS],
    count: u8,
    used: u8,
    /// Whether `%`/`?` values are formatted in ([`TickFieldCapture::Formatted`]).
    format: bool,
    bytes: [u8; VALUE_BYTES],
}

impl TickFields {
    /// Empty, for a tick of `callsite`; `format`: whether `%`/`?` values are kept.
    #[inline]
    pub(crate) fn new(callsite: usize, format: bool) -> Self {
        TickFields {
            callsite,
            slots: [Slot::default(); MAX_FIELDS],
            count: 0,
            used: 0,
            format,
            bytes: [0; VALUE_BYTES],
        }
    }

    /// Where `field`'s value of `len` bytes goes: `(slot, start, room)`. Its own place if it is
    /// kept already and the value fits there (`Span::record` of a field set at creation);
    /// else new bytes at the end, in the next slot. `None` once `MAX_FIELDS` slots are given
    /// out or no byte is left.
    #[inline]
    fn place(&mut self, field: &Field, len: usize) -> Option<(usize, usize, usize)> {
        let index = u8::try_from(field.index()).ok().filter(|i| *i < 64)?;
        let count = usize::from(self.count);
        let kept = self
            .slots
            .get(..count)?
            .iter()
            .position(|s| s.field == index && s.kind != Kind::None);
        if let Some(i) = kept {
            let old = self.slots.get_mut(i)?;
            if usize::from(old.len) >= len {
                return Some((i, usize::from(old.start), usize::from(old.len)));
            }
            // Too long for its old place: that slot stays empty, the value goes at the end.
            old.kind = Kind::None;
        }
        let used = usize::from(self.used);
        let room = VALUE_BYTES - used;
        if count >= MAX_FIELDS || room == 0 {
            return None;
        }
        let slot = self.slots.get_mut(count)?;
        slot.field = index;
        self.count += 1;
        Some((count, used, room))
    }

    /// Marks slot `i` as holding `len` bytes of `kind` from `start`.
    #[inline]
    fn fill(&mut self, i: usize, kind: Kind, start: usize, len: usize) {
        if let Some(s) = self.slots.get_mut(i) {
            s.kind = kind;
            s.start = start as u8;
            s.len = len as u8;
        }
        self.used = self.used.max((start + len) as u8);
    }

    #[inline]
    fn put_word(&mut self, field: &Field, kind: Kind, word: u64) {
        let Some((i, start, room)) = self.place(field, 8) else {
            return;
        };
        match self.bytes.get_mut(start..start + 8) {
            Some(bytes) if room >= 8 => {
                bytes.copy_from_slice(&word.to_le_bytes());
                self.fill(i, kind, start, 8);
            }
            // Fewer than 8 bytes left: this value is not kept.
            _ => self.fill(i, Kind::None, start, 0),
        }
    }

    fn put_text(&mut self, field: &Field, text: &str) {
        let Some((i, start, room)) = self.place(field, text.len()) else {
            return;
        };
        let mut len = text.len().min(room);
        while !text.is_char_boundary(len) {
            len -= 1;
        }
        if let (Some(to), Some(from)) = (
            self.bytes.get_mut(start..start + len),
            text.as_bytes().get(..len),
        ) {
            to.copy_from_slice(from);
        }
        let kind = if len < text.len() {
            Kind::TextCut
        } else {
            Kind::Text
        };
        self.fill(i, kind, start, len);
    }

    /// Whether any value is kept.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.slots.iter().all(|s| s.kind == Kind::None)
    }

    /// The tick callsite's metadata address.
    pub(crate) fn callsite(&self) -> usize {
        self.callsite
    }

    /// The values with their names (`metadata`: the tick callsite's), in declaration order.
    pub(crate) fn resolve(&self, metadata: &Metadata<'_>) -> Vec<TickField> {
        let mut kept: Vec<Slot> = self
            .slots
            .iter()
            .copied()
            .filter(|s| s.kind != Kind::None)
            .collect();
        kept.sort_by_key(|s| s.field);
        kept.into_iter()
            .filter_map(|s| {
                let name = metadata.fields().iter().nth(usize::from(s.field))?.name();
                let start = usize::from(s.start);
                let bytes = self.bytes.get(start..start + usize::from(s.len))?;
                let word = || {
                    let mut b = [0; 8];
                    b.copy_from_slice(bytes.get(..8)?);
                    Some(u64::from_le_bytes(b))
                };
                let value = match s.kind {
                    Kind::None => return None,
                    // A non-negative one as `U64`: what the JSON reads back (`seq = 5` is an
                    // `i32`, recorded as `i64`), so a report loads equal to itself.
                    Kind::I64 => match word()? as i64 {
                        v if v >= 0 => TickFieldValue::U64(v as u64),
                        v => TickFieldValue::I64(v),
                    },
                    Kind::U64 => TickFieldValue::U64(word()?),
                    // JSON has no NaN or infinity: those are kept as text.
                    Kind::F64 => match f64::from_bits(word()?) {
                        v if v.is_finite() => TickFieldValue::F64(v),
                        v => TickFieldValue::Text(v.to_string()),
                    },
                    Kind::Bool => TickFieldValue::Bool(word()? != 0),
                    Kind::Text | Kind::TextCut => {
                        let mut text = String::from_utf8_lossy(bytes).into_owned();
                        if s.kind == Kind::TextCut {
                            text.push('…');
                        }
                        TickFieldValue::Text(text)
                    }
                };
                Some(TickField {
                    name: name.to_owned(),
                    value,
                })
            })
            .collect()
    }
}

/// Formats into the free bytes, cutting what does not fit (no allocation).
struct Cut<'a> {
    buf: &'a mut [u8],
    len: usize,
    cut: bool,
}

impl fmt::Write for Cut<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.buf.len() - self.len;
        let mut take = s.len().min(room);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        if let (Some(to), Some(from)) = (
            self.buf.get_mut(self.len..self.len + take),
            s.as_bytes().get(..take),
        ) {
            to.copy_from_slice(from);
            self.len += take;
        }
        if take < s.len() {
            self.cut = true;
            return Err(fmt::Error);
        }
        Ok(())
    }
}

impl Visit for TickFields {
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put_word(field, Kind::I64, value as u64);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put_word(field, Kind::U64, value);
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put_word(field, Kind::F64, value.to_bits());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put_word(field, Kind::Bool, u64::from(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.put_text(field, value);
    }

    /// `%value` and `?value` fields: formatted into the free bytes (what does not fit is cut).
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if !self.format {
            return;
        }
        // A value recorded again is formatted anew at the end (its length is not known).
        let Some((i, start, _)) = self.place(field, VALUE_BYTES) else {
            return;
        };
        let mut out = Cut {
            buf: self.bytes.get_mut(start..).unwrap_or_default(),
            len: 0,
            cut: false,
        };
        let _ = write!(out, "{value:?}");
        let (len, cut) = (out.len, out.cut);
        let kind = if cut { Kind::TextCut } else { Kind::Text };
        self.fill(i, kind, start, len);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use tracing_core::callsite::{Callsite, Identifier};
    use tracing_core::field::FieldSet;
    use tracing_core::{Kind as MetaKind, Level, Metadata, subscriber::Interest};

    struct Site;
    static SITE: Site = Site;
    static FIELD_NAMES: &[&str] = &["seq", "ts", "venue", "price", "late"];
    static META: Metadata<'static> = Metadata::new(
        "tick",
        "test",
        Level::INFO,
        None,
        None,
        None,
        FieldSet::new(FIELD_NAMES, Identifier(&SITE)),
        MetaKind::SPAN,
    );
    impl Callsite for Site {
        fn set_interest(&self, _: Interest) {}
        fn metadata(&self) -> &Metadata<'_> {
            &META
        }
    }

    fn field(name: &str) -> Field {
        META.fields().field(name).expect("declared")
    }

    fn resolved(f: &TickFields) -> Vec<(String, TickFieldValue)> {
        f.resolve(&META)
            .into_iter()
            .map(|t| (t.name, t.value))
            .collect()
    }

    #[test]
    fn keeps_the_first_fields_in_declaration_order() {
        let mut f = TickFields::new(7, true);
        f.record_str(&field("ts"), "2025-03-14T14:30:07.102Z");
        f.record_u64(&field("seq"), 904_211);
        f.record_str(&field("venue"), "XNAS");
        f.record_f64(&field("price"), 1.5);
        assert_eq!(f.callsite(), 7);
        assert_eq!(
            resolved(&f),
            [
                ("seq".to_owned(), TickFieldValue::U64(904_211)),
                (
                    "ts".to_owned(),
                    TickFieldValue::Text("2025-03-14T14:30:07.102Z".to_owned())
                ),
            ],
            "24 + 8 bytes fill the value area: the third field has no room"
        );
    }

    #[test]
    fn every_kind_round_trips_and_long_text_is_cut_at_a_char_boundary() {
        let mut f = TickFields::new(1, true);
        f.record_i64(&field("seq"), -5);
        f.record_bool(&field("late"), true);
        f.record_str(&field("venue"), "ééééééééééééééééé"); // 34 bytes
        let got = resolved(&f);
        assert_eq!(got[0], ("seq".to_owned(), TickFieldValue::I64(-5)));
        assert_eq!(got[1].0, "venue");
        let TickFieldValue::Text(text) = &got[1].1 else {
            panic!("text expected: {got:?}");
        };
        assert_eq!(
            text,
            &format!("{}…", "é".repeat(8)),
            "16 bytes left, cut whole"
        );
        assert_eq!(got[2], ("late".to_owned(), TickFieldValue::Bool(true)));
    }

    #[test]
    fn debug_values_take_no_slot_unless_formatting_is_on() {
        let mut f = TickFields::new(1, false);
        f.record_debug(&field("ts"), &"x");
        f.record_u64(&field("seq"), 3);
        assert_eq!(
            resolved(&f),
            [("seq".to_owned(), TickFieldValue::U64(3))],
            "the skipped value leaves its slot and bytes to the next"
        );
    }

    #[test]
    fn debug_values_are_formatted_into_the_free_bytes_and_records_replace() {
        let mut f = TickFields::new(1, true);
        f.record_u64(&field("seq"), 1);
        f.record_debug(&field("ts"), &format_args!("{}", "x".repeat(40)));
        f.record_u64(&field("seq"), 2);
        let got = resolved(&f);
        assert_eq!(got[0], ("seq".to_owned(), TickFieldValue::U64(2)));
        assert_eq!(
            got[1],
            (
                "ts".to_owned(),
                TickFieldValue::Text(format!("{}…", "x".repeat(24)))
            )
        );
        assert!(!f.is_empty());
        assert!(TickFields::new(1, true).is_empty());
    }
}
