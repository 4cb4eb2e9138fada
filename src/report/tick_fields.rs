//! A slow tick's own fields (`info_span!("tick", seq = n)`): how the user names a tick.
//!
//! In the JSON they are an object in declaration order (`"fields": {"seq": 904211, "ts":
//! "2025-03-14T14:30:07.102Z"}`), so `jq '.slowest_ticks.ticks[0].fields.seq'` works.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One field of a tick span, as it was when the tick closed.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TickField {
    /// The field's name at the tick's callsite.
    pub name: String,
    /// Its value (text cut to fit ends with `…`).
    pub value: TickFieldValue,
}

impl TickField {
    /// The field `name` with `value`.
    pub fn new(name: impl Into<String>, value: TickFieldValue) -> Self {
        TickField {
            name: name.into(),
            value,
        }
    }
}

/// A tick field's value: integers, floats and booleans as they were recorded; strings and
/// `%`/`?` values as text (at most 32 bytes, cut at a character boundary, then `…`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum TickFieldValue {
    /// A `bool` field.
    Bool(bool),
    /// A non-negative integer (`u64`, or a non-negative `i64`: one form, as the JSON reads
    /// back).
    U64(u64),
    /// A negative integer.
    I64(i64),
    /// An `f64` field.
    F64(f64),
    /// A `&str`, `%Display` or `?Debug` field.
    Text(String),
}

impl fmt::Display for TickFieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TickFieldValue::Bool(v) => write!(f, "{v}"),
            TickFieldValue::U64(v) => write!(f, "{v}"),
            TickFieldValue::I64(v) => write!(f, "{v}"),
            TickFieldValue::F64(v) => write!(f, "{v}"),
            TickFieldValue::Text(v) => f.write_str(v),
        }
    }
}

impl fmt::Display for TickField {
    /// `seq=904211`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.name, self.value)
    }
}

/// `fields` as a JSON object that keeps the declaration order both ways.
pub(crate) mod as_object {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(fields: &[TickField], s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(fields.len()))?;
        for field in fields {
            map.serialize_entry(&field.name, &field.value)?;
        }
        map.end()
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<TickField>, D::Error> {
        struct InOrder;
        impl<'de> Visitor<'de> for InOrder {
            type Value = Vec<TickField>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of tick fields (name: number, bool or string)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut fields = Vec::new();
                while let Some((name, value)) = map.next_entry::<String, TickFieldValue>()? {
                    fields.push(TickField { name, value });
                }
                Ok(fields)
            }
        }
        d.deserialize_map(InOrder)
    }
}

/// `seq=904211 ts=2025-03-14T14:30:07.102Z` (empty when there are none).
pub(crate) fn joined(fields: &[TickField]) -> String {
    fields
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Holder {
        #[serde(with = "as_object")]
        fields: Vec<TickField>,
    }

    #[test]
    fn an_object_in_declaration_order_that_reads_back_equal() {
        let holder = Holder {
            fields: vec![
                TickField {
                    name: "seq".into(),
                    value: TickFieldValue::U64(904_211),
                },
                TickField {
                    name: "ts".into(),
                    value: TickFieldValue::Text("2025-03-14T14:30:07.102Z".into()),
                },
                TickField {
                    name: "delta".into(),
                    value: TickFieldValue::I64(-3),
                },
                TickField {
                    name: "px".into(),
                    value: TickFieldValue::F64(2.0),
                },
                TickField {
                    name: "late".into(),
                    value: TickFieldValue::Bool(false),
                },
            ],
        };
        let json = serde_json::to_string(&holder).expect("serializes");
        assert_eq!(
            json,
            r#"{"fields":{"seq":904211,"ts":"2025-03-14T14:30:07.102Z","delta":-3,"px":2.0,"late":false}}"#
        );
        let back: Holder = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back, holder);
        assert_eq!(
            joined(&holder.fields[..2]),
            "seq=904211 ts=2025-03-14T14:30:07.102Z"
        );
    }

    #[test]
    fn a_value_that_is_no_scalar_is_refused_with_the_expected_shape() {
        let err = serde_json::from_str::<Holder>(r#"{"fields":{"seq":[1]}}"#)
            .expect_err("an array is no tick field");
        assert!(
            err.to_string().contains("did not match any variant"),
            "{err}"
        );
        let err = serde_json::from_str::<Holder>(r#"{"fields":[1]}"#).expect_err("not an object");
        assert!(
            err.to_string().contains("an object of tick fields"),
            "{err}"
        );
    }
}
