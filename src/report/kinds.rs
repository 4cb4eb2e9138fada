//! The closed sets a report names by string in its JSON: how ticks were sampled
//! ([`SamplingKind`]) and where the profiler's own cost was calibrated ([`CalibrationSite`]).
//!
//! Each is an enum in Rust and the string it always was in the JSON, so reports of every
//! schema load. A string this build does not know (a report from a newer build, or a merge of
//! an older build that joined several) loads as `Other` with the text, never as an error:
//! reports are read leniently.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How a run chose the ticks it timed and recorded (`sampling.mode` in the JSON).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SamplingKind {
    /// `"full"`: every span of every tick recorded ([`Sampling::full`](crate::Sampling::full)).
    Full,
    /// `"budget"`: as many ticks as fit in a fraction of the loop's time
    /// ([`Sampling::budget`](crate::Sampling::budget)).
    Budget,
    /// `"one_in"`: one tick in `n` timed and one in `n` recorded
    /// ([`Sampling::one_in`](crate::Sampling::one_in)).
    OneIn,
    /// `"mixed"`: a merge of reports sampled in different ways.
    Mixed,
    /// A mode this build does not know, as the report spelled it.
    Other(String),
}

impl SamplingKind {
    /// The JSON spelling.
    pub fn as_str(&self) -> &str {
        match self {
            SamplingKind::Full => "full",
            SamplingKind::Budget => "budget",
            SamplingKind::OneIn => "one_in",
            SamplingKind::Mixed => "mixed",
            SamplingKind::Other(text) => text,
        }
    }

    fn from_text(text: String) -> Self {
        match text.as_str() {
            "full" => SamplingKind::Full,
            "budget" => SamplingKind::Budget,
            "one_in" => SamplingKind::OneIn,
            "mixed" => SamplingKind::Mixed,
            _ => SamplingKind::Other(text),
        }
    }
}

/// Where `start_profiling` measured the profiler's own cost (`overhead.measured_on` in the JSON,
/// a sentence saying so).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CalibrationSite {
    /// On the dispatcher tickprof is installed in, as the loop runs: the calibration saw the
    /// user's own stack of layers.
    InstalledDispatcher,
    /// On the dispatcher tickprof is installed in, scoped from another thread's default.
    InstalledDispatcherElsewhere,
    /// On a private `registry()` + tickprof dispatcher: another layer wanted tickprof's
    /// calibration spans (measuring there would have reached it), or the layer is not
    /// installed.
    PrivateDispatcher,
    /// Not measured (`measure_overhead(false)`): nothing is subtracted.
    NotMeasured,
    /// A merge of reports calibrated in different places.
    Mixed,
    /// A sentence this build does not know, as the report spelled it.
    Other(String),
}

impl CalibrationSite {
    /// The JSON spelling.
    pub fn as_str(&self) -> &str {
        match self {
            CalibrationSite::InstalledDispatcher => {
                "the dispatcher tickprof is installed in (as the loop runs)"
            }
            CalibrationSite::InstalledDispatcherElsewhere => {
                "the dispatcher tickprof is installed in, scoped from another thread's default"
            }
            CalibrationSite::PrivateDispatcher => {
                "a private registry() + tickprof dispatcher (another layer wanted tickprof's calibration spans, or the layer is not installed)"
            }
            CalibrationSite::NotMeasured => {
                "not measured (measure_overhead(false)): nothing subtracted"
            }
            CalibrationSite::Mixed => {
                "several: the merged reports were calibrated in different places"
            }
            CalibrationSite::Other(text) => text,
        }
    }

    fn from_text(text: String) -> Self {
        [
            CalibrationSite::InstalledDispatcher,
            CalibrationSite::InstalledDispatcherElsewhere,
            CalibrationSite::PrivateDispatcher,
            CalibrationSite::NotMeasured,
            CalibrationSite::Mixed,
        ]
        .into_iter()
        .find(|site| site.as_str() == text)
        .unwrap_or(CalibrationSite::Other(text))
    }
}

macro_rules! as_json_string {
    ($kind:ty) => {
        impl fmt::Display for $kind {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $kind {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $kind {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self::from_text)
            }
        }
    };
}

as_json_string!(SamplingKind);
as_json_string!(CalibrationSite);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_spelling_reads_back_as_itself() {
        for kind in [
            SamplingKind::Full,
            SamplingKind::Budget,
            SamplingKind::OneIn,
            SamplingKind::Mixed,
        ] {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(serde_json::from_str::<SamplingKind>(&json).unwrap(), kind);
        }
        assert_eq!(
            serde_json::to_string(&SamplingKind::OneIn).unwrap(),
            "\"one_in\""
        );
        for site in [
            CalibrationSite::InstalledDispatcher,
            CalibrationSite::InstalledDispatcherElsewhere,
            CalibrationSite::PrivateDispatcher,
            CalibrationSite::NotMeasured,
            CalibrationSite::Mixed,
        ] {
            let json = serde_json::to_string(&site).unwrap();
            assert_eq!(
                serde_json::from_str::<CalibrationSite>(&json).unwrap(),
                site
            );
        }
    }

    #[test]
    fn an_unknown_spelling_is_kept_not_refused() {
        let kind: SamplingKind = serde_json::from_str("\"adaptive\"").unwrap();
        assert_eq!(kind, SamplingKind::Other("adaptive".to_owned()));
        assert_eq!(serde_json::to_string(&kind).unwrap(), "\"adaptive\"");
        let site: CalibrationSite = serde_json::from_str("\"a, b\"").unwrap();
        assert_eq!(site.as_str(), "a, b");
    }
}
