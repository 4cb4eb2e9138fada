//! A report written by each schema's own build still loads, reads as it was written, summarizes
//! and saves back unchanged.
//!
//! `tests/fixtures/schema_N.json` is the report of `examples/basic.rs` (200,000 ticks, components
//! `parse` and `strategy`) as the build that introduced schema N wrote it (schema 1: the commit
//! before schema 2; schema 5: the build that made the report types `#[non_exhaustive]`), not a
//! hand-edited imitation: what those builds really wrote, including the strings that are enums
//! now (`sampling.mode`, `overhead.measured_on`).

use std::path::PathBuf;

use tickprof::{CalibrationSite, Report, SCHEMA_VERSION, SamplingKind};

fn fixture(schema: u32) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("schema_{schema}.json"))
}

#[test]
fn a_report_of_every_schema_loads_as_written() {
    for schema in 1..=SCHEMA_VERSION {
        let path = fixture(schema);
        let report = Report::load(&path).unwrap_or_else(|e| panic!("schema {schema}: {e}"));
        assert_eq!(report.schema_version, schema);
        assert_eq!(report.name, "basic", "schema {schema}");
        assert_eq!(report.ticks.count, 200_000, "schema {schema}");
        assert_eq!(
            report.components.keys().collect::<Vec<_>>(),
            ["parse", "strategy"],
            "schema {schema}"
        );
        assert!(
            report.ticks.latency.samples > 0 || schema == 1,
            "schema {schema}"
        );
        report
            .ticks
            .latency
            .decode_histogram("ticks.latency")
            .unwrap();
        match schema {
            1 => {
                assert_eq!(report.sampling, None);
                assert_eq!(report.overhead.measured_on, None);
            }
            _ => {
                let sampling = report.sampling.as_ref().unwrap();
                assert_eq!(sampling.mode, SamplingKind::Budget, "schema {schema}");
                // The default budget was 3 % up to schema 5, 2 % since.
                let budget = if schema <= 5 { 0.03 } else { 0.02 };
                assert_eq!(sampling.budget_fraction, Some(budget), "schema {schema}");
                assert_eq!(
                    report.overhead.measured_on,
                    Some(CalibrationSite::InstalledDispatcher),
                    "schema {schema}"
                );
            }
        }
        assert_eq!(
            report.slowest_ticks.is_some(),
            schema >= 4,
            "schema {schema}"
        );
        assert_eq!(
            report.ticks.recorded.is_some(),
            schema >= 5,
            "schema {schema}"
        );
        // Since schema 7 the example counts its allocations: a line formatted per tick (its
        // buffer and the buffer's growth), in the tick but in no component.
        if schema >= 7 {
            let ticks = report.ticks.allocations.as_ref().unwrap();
            assert!(ticks.p50 >= 1 && ticks.share_allocating == 1.0, "{ticks:?}");
            let parse = report.components["parse"].allocations.as_ref().unwrap();
            assert_eq!((parse.max, parse.share_allocating), (0, 0.0));
        } else {
            assert_eq!(report.ticks.allocations, None, "schema {schema}");
        }
        let summary = report.summary();
        assert!(
            summary.contains("Total Ticks: 200,000"),
            "schema {schema}: {summary}"
        );
    }
}

#[test]
fn a_report_of_every_schema_saves_back_to_the_same_report() {
    let dir = tempfile::tempdir().unwrap();
    for schema in 1..=SCHEMA_VERSION {
        let report = Report::load(fixture(schema)).unwrap();
        let path = dir.path().join(format!("{schema}.json"));
        report.save_json(&path).unwrap();
        let again = Report::load(&path).unwrap();
        assert_eq!(again, report, "schema {schema}");
        let text = std::fs::read_to_string(&path).unwrap();
        if schema >= 2 {
            assert!(text.contains("\"mode\": \"budget\""), "schema {schema}");
            assert!(
                text.contains(
                    "\"measured_on\": \"the dispatcher tickprof is installed in (as the loop runs)\""
                ),
                "schema {schema}"
            );
        }
    }
}
