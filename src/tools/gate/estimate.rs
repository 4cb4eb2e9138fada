//! One run's estimate of one metric: the value, its sampling noise within the run, and what
//! the run can resolve.

use std::cell::RefCell;
use std::collections::BTreeMap;

use crate::metric::{Metric, Stat, Unit};
use crate::report::Report;

use super::histogram::Cdf;
use super::rng::SplitMix64;

/// One metric as one run measured it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Estimate {
    /// The statistic, in the metric's unit.
    pub(crate) value: f64,
    /// Its standard error from the run's own sampling (bootstrap for percentiles, the
    /// winsorized formula for the trimmed mean, σ/√n for the mean); 0 for single values.
    pub(crate) se: f64,
    /// Values the statistic was taken from; `None` for single values.
    pub(crate) samples: Option<u64>,
    /// The step the run's values come in (its clock's resolution), in the metric's unit; 0
    /// for single values.
    pub(crate) quantum: f64,
    /// What the run subtracted from every span's busy time for the instrumentation (an empty
    /// span's reading), in the metric's unit; 0 for single values. Two runs that subtracted
    /// different amounts are shifted against each other by the difference.
    pub(crate) subtracted: f64,
    /// The report's latency resolution ([`Report::latency_resolution_ns`], the one its summary
    /// marks figures against), in the metric's unit; 0 for single values.
    pub(crate) resolution: f64,
}

/// A report with its histograms decoded once, however many metrics are read from it, and each
/// metric estimated once, however many questions ask about it (`compare` asks two per row).
pub(crate) struct Run<'r> {
    pub(crate) report: &'r Report,
    cdfs: BTreeMap<String, std::result::Result<Cdf, String>>,
    estimates: RefCell<BTreeMap<EstimateKey, std::result::Result<Estimate, String>>>,
}

/// An estimate is fixed by the metric, the bootstrap's replicates and its seed.
type EstimateKey = (String, usize, u64);

impl<'r> Run<'r> {
    pub(crate) fn new(report: &'r Report) -> Self {
        let mut fields = vec![
            ("ticks.latency".to_owned(), &report.ticks.latency),
            ("unattributed".to_owned(), &report.unattributed),
        ];
        for (name, c) in &report.components {
            fields.push((format!("components.{name}.latency"), &c.latency));
        }
        let cdfs = fields
            .into_iter()
            .map(|(field, stats)| {
                let cdf = stats
                    .decode_histogram(&field)
                    .map(|h| Cdf::new(&h))
                    .map_err(|e| e.to_string());
                (field, cdf)
            })
            .collect();
        Run {
            report,
            cdfs,
            estimates: RefCell::new(BTreeMap::new()),
        }
    }

    /// `metric` as this run measured it, or why the run has no value for it.
    pub(crate) fn estimate(
        &self,
        metric: &Metric,
        resamples: usize,
        seed: u64,
    ) -> std::result::Result<Estimate, String> {
        let key = (metric.to_string(), resamples, seed);
        if let Some(known) = self.estimates.borrow().get(&key) {
            return known.clone();
        }
        let estimate = self.compute(metric, resamples, seed);
        self.estimates.borrow_mut().insert(key, estimate.clone());
        estimate
    }

    fn compute(
        &self,
        metric: &Metric,
        resamples: usize,
        seed: u64,
    ) -> std::result::Result<Estimate, String> {
        let Some((stat, distribution)) = metric.distribution(self.report) else {
            let value = metric.value(self.report)?;
            return Ok(Estimate {
                value,
                se: 0.0,
                samples: None,
                quantum: 0.0,
                subtracted: 0.0,
                resolution: 0.0,
            });
        };
        let (field, stats) = distribution?;
        let cdf = match self.cdfs.get(&field) {
            Some(Ok(cdf)) => cdf,
            Some(Err(why)) => return Err(why.clone()),
            None => return Err(format!("internal error: `{field}` was not decoded")),
        };
        // Schema 1 reports have no sample count; the histogram has.
        let n = if stats.samples > 0 {
            stats.samples
        } else {
            cdf.total
        };
        let (value_ns, se_ns) = match stat {
            Stat::Mean => (stats.mean_ns, stats.stddev_ns / (n.max(1) as f64).sqrt()),
            Stat::TrimmedMean => cdf.trimmed_mean().unwrap_or((0.0, 0.0)),
            _ => {
                let q = stat.quantile().unwrap_or(0.5);
                let mut rng = SplitMix64::for_name(seed, &metric.to_string());
                let value = stat.of(stats, &field)? * 1_000.0;
                (value, cdf.quantile_se(q, resamples, &mut rng))
            }
        };
        debug_assert_eq!(metric.unit(), Unit::Micros);
        Ok(Estimate {
            value: value_ns / 1_000.0,
            se: se_ns / 1_000.0,
            samples: Some(n),
            quantum: cdf.quantum_ns() / 1_000.0,
            subtracted: self.report.overhead.empty_span_busy_ns / 1_000.0,
            resolution: self.report.latency_resolution_ns() / 1_000.0,
        })
    }
}

/// A report prepared to be judged many times (in many pairs, or by `check` and `compare`
/// both): its histograms decoded once and each metric's estimate, bootstrap included, computed
/// once. [`Thresholds::evaluate_prepared`](crate::thresholds::Thresholds::evaluate_prepared)
/// and [`compare_prepared`](crate::compare::compare_prepared) take it; the `…_runs` functions
/// prepare their reports themselves.
pub struct Prepared<'r>(pub(crate) Run<'r>);

impl<'r> Prepared<'r> {
    /// Prepares `report` (decodes its histograms).
    pub fn new(report: &'r Report) -> Self {
        Prepared(Run::new(report))
    }

    /// The report.
    pub fn report(&self) -> &'r Report {
        self.0.report
    }
}
