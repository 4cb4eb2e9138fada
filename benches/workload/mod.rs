//! The benchmarks' tick: one `tick` span with 8 component spans around deterministic work
//! (an LCG), in two sizes: `small` (~380 ns bare) and `large` (~2 µs).
#![allow(clippy::panic, clippy::unwrap_used, dead_code)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::process::Command;

/// The component span names, in order.
pub(crate) const COMPONENTS: [&str; 8] = [
    "parse",
    "book_update",
    "match_orders",
    "indicators",
    "strategy",
    "risk_check",
    "submit_order",
    "portfolio",
];
/// LCG steps per component: the tick's size.
pub(crate) fn steps(size: &str) -> [u32; 8] {
    match size {
        "small" => [70, 28, 14, 42, 28, 14, 14, 28],
        "large" => [320, 125, 62, 190, 125, 62, 62, 125],
        other => panic!("size {other}: small or large"),
    }
}

#[inline(never)]
pub(crate) fn work(seed: u64, steps: u32) -> u64 {
    let mut x = seed;
    for _ in 0..steps {
        x = black_box(
            x.wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407),
        );
    }
    x
}

/// One tick: a `tick` span around 8 component spans.
#[inline(never)]
pub(crate) fn tick(i: u64, steps: &[u32; 8]) -> u64 {
    let _tick = tracing::info_span!("tick").entered();
    components(i, steps)
}

/// The same tick with its position as a field (`info_span!("tick", seq = i)`), as users name
/// their ticks.
#[inline(never)]
pub(crate) fn tick_with_seq(i: u64, steps: &[u32; 8]) -> u64 {
    let _tick = tracing::info_span!("tick", seq = i).entered();
    components(i, steps)
}

/// A tick's 8 component spans around deterministic work.
#[inline(always)]
fn components(i: u64, steps: &[u32; 8]) -> u64 {
    let mut acc = i;
    macro_rules! component {
        ($n:literal, $name:literal) => {{
            let _span = tracing::info_span!($name).entered();
            acc ^= work(acc, steps[$n]);
        }};
    }
    component!(0, "parse");
    component!(1, "book_update");
    component!(2, "match_orders");
    component!(3, "indicators");
    component!(4, "strategy");
    component!(5, "risk_check");
    component!(6, "submit_order");
    component!(7, "portfolio");
    acc
}

/// Runs this benchmark again as `--child ARGS…` (one configuration per process) and returns
/// the `key=value` lines it printed.
pub(crate) fn run_child(args: &[&str]) -> BTreeMap<String, f64> {
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .arg("--child")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter_map(|(k, v)| Some((k.to_owned(), v.parse().ok()?)))
        .collect()
}

/// The median (upper one of an even count); NaN when empty.
pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}
