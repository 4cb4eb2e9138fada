//! The rates: how often `tickprof check --baseline` and `tickprof compare --fail-on-slower`
//! fail (and stay inconclusive) on pairs of runs, through the same library calls the CLI makes.

use std::collections::BTreeMap;

use tickprof::compare::{Call, CompareOptions, compare_prepared};
use tickprof::gate::{Outcome, Prepared};
use tickprof::thresholds::Thresholds;

/// How many pairs ended each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub fail: usize,
    pub inconclusive: usize,
    pub pass: usize,
}

impl Tally {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Fail => self.fail += 1,
            Outcome::Inconclusive => self.inconclusive += 1,
            Outcome::Pass => self.pass += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.fail + self.inconclusive + self.pass
    }

    /// `fail% (inconclusive%)`.
    pub fn cell(&self) -> String {
        let pct = |n: usize| 100.0 * n as f64 / self.total().max(1) as f64;
        format!("{:.1} % ({:.1} %)", pct(self.fail), pct(self.inconclusive))
    }
}

/// The outcomes of both commands over a set of pairs, and which metrics made the failures.
#[derive(Debug, Clone, Default)]
pub struct Rates {
    pub check: Tally,
    pub compare: Tally,
    /// Metric → pairs in which it failed (check and compare together).
    pub failing: BTreeMap<String, usize>,
}

/// One pair: the baseline's runs and the candidate's.
pub type Pair<'a, 'r> = (Vec<&'a Prepared<'r>>, Vec<&'a Prepared<'r>>);

/// The pairs to judge with `m` baseline runs and `n` candidate runs: every ordered pair of
/// distinct runs for 1 + 1, else `draws` random draws (the two sides disjoint when they come
/// from the same pool).
pub fn pairs<'a, 'r>(
    base_pool: &[&'a Prepared<'r>],
    new_pool: &[&'a Prepared<'r>],
    same_pool: bool,
    (m, n): (usize, usize),
    draws: usize,
    rng: &mut SplitMix64,
) -> Vec<Pair<'a, 'r>> {
    if (m, n) == (1, 1) {
        let mut out = Vec::new();
        for (i, b) in base_pool.iter().enumerate() {
            for (j, c) in new_pool.iter().enumerate() {
                if !(same_pool && i == j) {
                    out.push((vec![*b], vec![*c]));
                }
            }
        }
        return out;
    }
    let need = if same_pool { m + n } else { m.max(n) };
    if base_pool.len() < need || new_pool.len() < n {
        return Vec::new();
    }
    (0..draws)
        .map(|_| {
            let base_order = rng.permutation(base_pool.len());
            let base: Vec<&Prepared<'r>> = base_order[..m].iter().map(|&i| base_pool[i]).collect();
            let new: Vec<&Prepared<'r>> = if same_pool {
                base_order[m..m + n].iter().map(|&i| new_pool[i]).collect()
            } else {
                let order = rng.permutation(new_pool.len());
                order[..n].iter().map(|&i| new_pool[i]).collect()
            };
            (base, new)
        })
        .collect()
}

/// Judges every pair with both commands.
pub fn judge(pairs: &[Pair<'_, '_>], thresholds: &Thresholds, options: &CompareOptions) -> Rates {
    let mut rates = Rates::default();
    for (base, new) in pairs {
        // `tickprof check NEW… --thresholds FILE --baseline BASE…`: exit 1 on any failed check.
        let verdict = thresholds.evaluate_prepared(new, base);
        rates.check.add(verdict.outcome());
        for c in verdict.violations() {
            *rates
                .failing
                .entry(format!("check {}", c.name()))
                .or_default() += 1;
        }
        // `tickprof compare BASE… NEW… --fail-on-slower`: exit 1 on a slower gated row.
        let comparison = compare_prepared(base, new, options);
        rates.compare.add(comparison.outcome());
        for r in comparison
            .rows
            .iter()
            .filter(|r| r.gated && r.call == Call::Worse)
        {
            *rates
                .failing
                .entry(format!("compare {}", r.metric))
                .or_default() += 1;
        }
    }
    rates
}

/// SplitMix64, for drawing pooled runs reproducibly.
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniformly random order of `0..n` (Fisher–Yates).
    fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut v: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
        v
    }
}
