//! The sample series and its accumulators: pure code, no I/O, no clock. Counters and sums
//! saturate instead of overflowing: this runs on the sampler thread, where a panic would lose the
//! run's samples.
//!
//! Two things are kept apart on purpose:
//! - **accumulators** (total CPU time, total wall time, RSS × time, max CPU, peak RSS, counts)
//!   see every sample, so `mean`, `max` and `peak` are exact however long the run;
//! - the **stored series** is bounded: at most `max_points` samples. When it would overflow,
//!   neighbouring buckets are merged pairwise and every later bucket covers twice as many raw
//!   samples. A bucket keeps two *real* samples: the one with the highest CPU and the one with
//!   the highest RSS (one point when they coincide), so CPU spikes and memory peaks survive in
//!   the graph (the series becomes the upper envelope), and every stored point is something the
//!   sampler actually measured (its `elapsed_ms` and `ticks` stay truthful and ordered).

use crate::report::{MeanMax, MemoryStats, ResourceSample};

/// One sample with the deltas it was computed from, so merges and means can be time-weighted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Raw {
    /// The sample as reported.
    pub(crate) sample: ResourceSample,
    /// CPU time used since the previous reading, ns.
    pub(crate) cpu_ns: u64,
    /// Wall time since the previous reading, s.
    pub(crate) wall_s: f64,
}

impl Raw {
    /// Builds a sample from the deltas since the previous reading.
    pub(crate) fn new(
        elapsed_ms: f64,
        cpu_ns: u64,
        wall_s: f64,
        rss_bytes: u64,
        ticks: u64,
    ) -> Self {
        Raw {
            sample: ResourceSample {
                elapsed_ms,
                cpu_percent: cpu_percent(cpu_ns, wall_s),
                rss_bytes,
                ticks,
            },
            cpu_ns,
            wall_s,
        }
    }
}

/// The shortest window whose CPU % is reported: the kernel brings other threads' CPU time up to
/// date at scheduler ticks (every 1–10 ms), so over a shorter window the process CPU clock can
/// miss most of what a second busy thread used. Shorter runs say `null` ("n/a").
pub(crate) const MIN_CPU_WINDOW_S: f64 = 0.010;

/// CPU time over wall time in % of one core; 0 for an empty window (never NaN or infinite).
fn cpu_percent(cpu_ns: u64, wall_s: f64) -> f64 {
    if wall_s > 0.0 {
        cpu_ns as f64 / 1e9 / wall_s * 100.0
    } else {
        0.0
    }
}

/// Raw samples merged into one stored slot.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bucket {
    /// The raw sample with the highest CPU in the bucket.
    cpu_peak: ResourceSample,
    /// The raw sample with the highest RSS in the bucket.
    rss_peak: ResourceSample,
    /// Raw samples merged in.
    count: u64,
}

impl Bucket {
    fn one(sample: ResourceSample) -> Self {
        Bucket {
            cpu_peak: sample,
            rss_peak: sample,
            count: 1,
        }
    }

    /// Merges a later bucket in; on ties the earlier sample stays (stable, deterministic).
    fn absorb(&mut self, later: &Bucket) {
        if later.cpu_peak.cpu_percent > self.cpu_peak.cpu_percent {
            self.cpu_peak = later.cpu_peak;
        }
        if later.rss_peak.rss_bytes > self.rss_peak.rss_bytes {
            self.rss_peak = later.rss_peak;
        }
        self.count = self.count.saturating_add(later.count);
    }

    /// The bucket's stored points in time order (one when both peaks are the same sample).
    fn points(&self) -> impl Iterator<Item = ResourceSample> {
        let (a, b) = (self.cpu_peak, self.rss_peak);
        let (first, second) = if a.elapsed_ms <= b.elapsed_ms {
            (a, b)
        } else {
            (b, a)
        };
        let second = (second.elapsed_ms != first.elapsed_ms).then_some(second);
        std::iter::once(first).chain(second)
    }
}

/// Everything the sampler learned in one run.
#[derive(Debug, Clone)]
pub(crate) struct Series {
    /// The sampling period, for `finish`'s short-tail rule.
    interval_s: f64,
    /// Upper bound on stored points (even, ≥ 4).
    max_points: usize,
    /// Raw samples per full bucket (1, 2, 4, …).
    stride: u64,
    buckets: Vec<Bucket>,
    /// The latest sample, held back one step so a short closing sample can be folded into it.
    pending: Option<Raw>,
    /// Σ CPU ns over every reading (including a folded tail).
    cpu_ns: u64,
    /// Σ wall s over every reading.
    wall_s: f64,
    /// Σ RSS × wall, for the time-weighted mean RSS.
    rss_byte_s: f64,
    /// The busiest sample of at least [`MIN_CPU_WINDOW_S`] (shorter ones can read more
    /// than every core: the kernel accounts other threads' CPU at scheduler ticks).
    cpu_max: Option<f64>,
    rss_peak: u64,
    taken: u64,
    failed: u64,
}

/// The accumulated figures, ready for `Resources`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Summary {
    pub(crate) samples_taken: u64,
    pub(crate) samples_failed: u64,
    pub(crate) cpu_percent: MeanMax,
    pub(crate) cpu_time_s: f64,
    pub(crate) memory_bytes: MemoryStats,
    pub(crate) samples: Vec<ResourceSample>,
}

impl Series {
    /// An empty series storing at most `max_points` samples (rounded up to an even number ≥ 4,
    /// so pairwise merging always has pairs).
    pub(crate) fn new(interval_s: f64, max_points: usize) -> Self {
        let max_points = max_points
            .max(4)
            .checked_next_multiple_of(2)
            .unwrap_or(usize::MAX - 1);
        Series {
            interval_s,
            max_points,
            stride: 1,
            // Preallocate what the sampler uses; a larger bound grows on demand.
            buckets: Vec::with_capacity(max_points.min(super::MAX_SAMPLES)),
            pending: None,
            cpu_ns: 0,
            wall_s: 0.0,
            rss_byte_s: 0.0,
            cpu_max: None,
            rss_peak: 0,
            taken: 0,
            failed: 0,
        }
    }

    /// Counts a refresh that produced no reading.
    pub(crate) fn record_failure(&mut self) {
        self.failed = self.failed.saturating_add(1);
    }

    /// Adds a periodic sample.
    pub(crate) fn push(&mut self, raw: Raw) {
        self.add_totals(&raw);
        if let Some(previous) = self.pending.replace(raw) {
            self.commit(previous);
        }
    }

    /// Adds the closing reading taken at stop (if it succeeded) and flushes.
    ///
    /// The closing reading makes the totals cover the whole run, start to stop. If it covers less
    /// than half a period, its CPU % would be dominated by how the kernel accounts other threads'
    /// CPU time (at scheduler ticks, up to 10 ms late; with sysinfo's fallback clock, in 10 ms
    /// steps: a 5 ms window reads 0 % or 200 %), so it is folded into the previous sample instead
    /// of standing alone: that sample then spans both windows, with their combined CPU time.
    pub(crate) fn finish(&mut self, tail: Option<Raw>) {
        if let Some(tail) = tail {
            self.add_totals(&tail);
            match self.pending.take() {
                Some(previous) if tail.wall_s < self.interval_s / 2.0 => {
                    let cpu_ns = previous.cpu_ns.saturating_add(tail.cpu_ns);
                    let wall_s = previous.wall_s + tail.wall_s;
                    let merged = Raw::new(
                        tail.sample.elapsed_ms,
                        cpu_ns,
                        wall_s,
                        tail.sample.rss_bytes.max(previous.sample.rss_bytes),
                        tail.sample.ticks,
                    );
                    self.commit(merged);
                }
                previous => {
                    if let Some(previous) = previous {
                        self.commit(previous);
                    }
                    self.commit(tail);
                }
            }
        } else if let Some(previous) = self.pending.take() {
            self.commit(previous);
        }
    }

    fn add_totals(&mut self, raw: &Raw) {
        self.cpu_ns = self.cpu_ns.saturating_add(raw.cpu_ns);
        self.wall_s += raw.wall_s;
        self.rss_byte_s += raw.sample.rss_bytes as f64 * raw.wall_s;
        // The RSS peak takes every reading, even one later folded: a peak is a peak.
        self.rss_peak = self.rss_peak.max(raw.sample.rss_bytes);
    }

    /// Counts a sample in the max accumulator and stores it in the bounded series.
    fn commit(&mut self, raw: Raw) {
        self.taken = self.taken.saturating_add(1);
        if raw.wall_s >= MIN_CPU_WINDOW_S {
            let cpu = raw.sample.cpu_percent;
            self.cpu_max = Some(self.cpu_max.map_or(cpu, |max| max.max(cpu)));
        }
        self.rss_peak = self.rss_peak.max(raw.sample.rss_bytes);
        let bucket = Bucket::one(raw.sample);
        match self.buckets.last_mut() {
            Some(last) if last.count < self.stride => last.absorb(&bucket),
            _ => {
                if self.buckets.len() >= self.bucket_capacity() {
                    self.decimate();
                }
                self.buckets.push(bucket);
            }
        }
    }

    /// Buckets that fit in `max_points`: one point each while undecimated, up to two after.
    fn bucket_capacity(&self) -> usize {
        if self.stride == 1 {
            self.max_points
        } else {
            self.max_points / 2
        }
    }

    /// Merges neighbouring buckets pairwise and doubles the stride (the capacity is even and
    /// every bucket is full when this runs, so all merged buckets are full too).
    fn decimate(&mut self) {
        let merged: Vec<Bucket> = self
            .buckets
            .chunks(2)
            .map(|pair| {
                let mut bucket = pair[0];
                if let Some(later) = pair.get(1) {
                    bucket.absorb(later);
                }
                bucket
            })
            .collect();
        self.buckets = merged;
        self.stride = self.stride.saturating_mul(2);
    }

    /// The figures for the report. Call after [`Series::finish`].
    pub(crate) fn summary(&self) -> Summary {
        let mean_rss = if self.wall_s > 0.0 {
            self.rss_byte_s / self.wall_s
        } else {
            0.0
        };
        Summary {
            samples_taken: self.taken,
            samples_failed: self.failed,
            cpu_percent: MeanMax {
                mean: (self.wall_s >= MIN_CPU_WINDOW_S)
                    .then(|| cpu_percent(self.cpu_ns, self.wall_s)),
                max: self.cpu_max.filter(|_| self.taken >= 2),
            },
            cpu_time_s: self.cpu_ns as f64 / 1e9,
            memory_bytes: MemoryStats {
                mean: mean_rss,
                peak: self.rss_peak,
            },
            samples: self.buckets.iter().flat_map(Bucket::points).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    /// Sample `i` of a synthetic 100 ms series.
    fn raw(i: u64, cpu_ms: u64, rss: u64) -> Raw {
        Raw::new((i + 1) as f64 * 100.0, cpu_ms * MS, 0.1, rss, i * 10)
    }

    fn run(n: u64, max_points: usize, f: impl Fn(u64) -> (u64, u64)) -> Summary {
        let mut series = Series::new(0.1, max_points);
        for i in 0..n {
            let (cpu, rss) = f(i);
            series.push(raw(i, cpu, rss));
        }
        series.finish(None);
        series.summary()
    }

    #[test]
    fn cpu_percent_is_time_over_wall() {
        let r = Raw::new(100.0, 50 * MS, 0.1, 1, 0);
        assert!((r.sample.cpu_percent - 50.0).abs() < 1e-9);
        assert_eq!(Raw::new(0.0, 10 * MS, 0.0, 1, 0).sample.cpu_percent, 0.0);
    }

    #[test]
    fn undecimated_series_is_every_sample() {
        let s = run(100, 2048, |i| (i % 10, 1000 + i));
        assert_eq!(s.samples_taken, 100);
        assert_eq!(s.samples.len(), 100);
        assert_eq!(s.samples[99].rss_bytes, 1099);
        assert_eq!(s.memory_bytes.peak, 1099);
    }

    #[test]
    fn decimation_bounds_points_and_keeps_peaks() {
        for n in [17, 64, 65, 1000, 10_000, 100_003] {
            // One CPU spike and one RSS spike at awkward positions.
            let cpu_spike = n / 3;
            let rss_spike = n - n / 7 - 1;
            let s = run(n, 64, |i| {
                let cpu = if i == cpu_spike { 100 } else { 20 + i % 7 };
                let rss = if i == rss_spike {
                    9_999_999
                } else {
                    1_000 + i % 13
                };
                (cpu, rss)
            });
            assert_eq!(s.samples_taken, n);
            assert!(s.samples.len() <= 64, "n={n}: {} points", s.samples.len());
            // Accumulators cover every sample.
            assert!((s.cpu_percent.max.unwrap() - 100.0).abs() < 1e-9, "n={n}");
            assert_eq!(s.memory_bytes.peak, 9_999_999);
            // The stored series keeps both spikes as real samples.
            let cpu_point = s.samples.iter().find(|p| p.cpu_percent > 99.0).unwrap();
            assert_eq!(cpu_point.elapsed_ms, (cpu_spike + 1) as f64 * 100.0);
            assert_eq!(cpu_point.ticks, cpu_spike * 10);
            assert!(s.samples.iter().any(|p| p.rss_bytes == 9_999_999));
            // Order: elapsed strictly increasing, ticks non-decreasing.
            for w in s.samples.windows(2) {
                assert!(w[0].elapsed_ms < w[1].elapsed_ms, "n={n}");
                assert!(w[0].ticks <= w[1].ticks, "n={n}");
            }
        }
    }

    #[test]
    fn decimated_series_spans_the_whole_run() {
        let n = 5_000;
        let s = run(n, 64, |i| (i % 5, 1_000 + (i * 7919) % 101));
        assert!(s.samples.len() >= 16, "too few points: {}", s.samples.len());
        let first = s.samples[0].elapsed_ms;
        let last = s.samples[s.samples.len() - 1].elapsed_ms;
        let run_ms = n as f64 * 100.0;
        assert!(first < run_ms / 8.0 && last > run_ms * 7.0 / 8.0);
    }

    #[test]
    fn mean_is_time_weighted_over_every_sample() {
        let mut series = Series::new(0.1, 4);
        // 1,000 samples: 100 ms at 50 % each, decimated heavily.
        for i in 0..1_000 {
            series.push(raw(i, 50, 2_000));
        }
        series.finish(None);
        let s = series.summary();
        assert!((s.cpu_percent.mean.unwrap() - 50.0).abs() < 1e-9);
        assert!((s.cpu_time_s - 50.0).abs() < 1e-9);
        assert!((s.memory_bytes.mean - 2_000.0).abs() < 1e-6);
        assert!(s.samples.len() <= 4);
    }

    #[test]
    fn short_tail_is_folded_into_the_previous_sample() {
        let mut series = Series::new(0.1, 2048);
        series.push(raw(0, 100, 1_000)); // 100 ms, 100 %
        // A 5 ms closing reading with one 10 ms jiffy: alone it would read 200 %.
        series.finish(Some(Raw::new(105.0, 10 * MS, 0.005, 3_000, 7)));
        let s = series.summary();
        assert_eq!(s.samples_taken, 1);
        assert_eq!(s.samples.len(), 1);
        let only = s.samples[0];
        assert_eq!(only.elapsed_ms, 105.0);
        assert_eq!(only.ticks, 7);
        assert_eq!(only.rss_bytes, 3_000);
        assert!((only.cpu_percent - 110.0 / 1.05).abs() < 1e-9);
        assert!((s.cpu_time_s - 0.110).abs() < 1e-12);
        // One sample is the whole run: it has a mean, and no busiest sample to speak of.
        assert!((s.cpu_percent.mean.unwrap() - only.cpu_percent).abs() < 1e-12);
        assert_eq!(s.cpu_percent.max, None);
    }

    #[test]
    fn long_tail_is_its_own_sample_and_lone_tail_is_kept() {
        let mut series = Series::new(0.1, 2048);
        series.push(raw(0, 100, 1_000));
        series.finish(Some(Raw::new(160.0, 30 * MS, 0.06, 1_000, 3)));
        assert_eq!(series.summary().samples_taken, 2);

        // A run shorter than one period: the closing reading is the only sample.
        let mut series = Series::new(0.5, 2048);
        series.finish(Some(Raw::new(30.0, 30 * MS, 0.03, 1_000, 0)));
        let s = series.summary();
        assert_eq!(s.samples_taken, 1);
        assert!((s.cpu_percent.mean.unwrap() - 100.0).abs() < 1e-9);

        // Shorter than the kernel's accounting of other threads: no figure, not a wrong one.
        let mut series = Series::new(0.5, 2048);
        series.finish(Some(Raw::new(3.0, 3 * MS, 0.003, 1_000, 0)));
        let s = series.summary();
        assert_eq!((s.cpu_percent.mean, s.cpu_percent.max), (None, None));
        assert!((s.cpu_time_s - 0.003).abs() < 1e-12);
    }

    /// Samples shorter than 10 ms have no say in the max (at a 1 ms period one read 858 % on
    /// 2 cores).
    #[test]
    fn short_samples_are_not_the_busiest() {
        let mut series = Series::new(0.001, 2048);
        for i in 0..20 {
            series.push(Raw::new(
                i as f64,
                if i == 7 { 8 * MS } else { MS / 2 },
                0.001,
                1,
                i,
            ));
        }
        series.finish(None);
        let s = series.summary();
        assert_eq!(s.samples_taken, 20);
        assert_eq!(s.cpu_percent.max, None);
        assert!(s.cpu_percent.mean.is_some());
    }

    /// The busiest sample is the max, never raised to the mean: samples at 107.66 % and
    /// 108.18 % over a run whose mean is higher still report 108.18 %.
    #[test]
    fn max_is_the_busiest_sample() {
        let mut series = Series::new(0.1, 2048);
        series.push(Raw::new(100.0, 10_766 * MS / 100, 0.1, 1, 0));
        series.finish(Some(Raw::new(200.0, 10_818 * MS / 100, 0.1, 1, 0)));
        let s = series.summary();
        assert_eq!(s.samples_taken, 2);
        assert!((s.cpu_percent.max.unwrap() - 108.18).abs() < 1e-9);
        assert!((s.cpu_percent.mean.unwrap() - 107.92).abs() < 1e-9);
    }

    #[test]
    fn failures_are_counted_not_sampled() {
        let mut series = Series::new(0.1, 2048);
        series.record_failure();
        series.push(raw(0, 10, 1));
        series.finish(None);
        let s = series.summary();
        assert_eq!((s.samples_taken, s.samples_failed), (1, 1));
    }

    /// Readings at the edge of their types (a CPU-time counter jump, a bound of `usize::MAX`)
    /// saturate: a debug build used to panic on the sampler thread here.
    #[test]
    fn extreme_readings_saturate_instead_of_panicking() {
        let mut series = Series::new(0.1, usize::MAX);
        series.push(Raw::new(100.0, u64::MAX, 0.1, u64::MAX, u64::MAX));
        series.push(Raw::new(200.0, u64::MAX, 0.1, u64::MAX, u64::MAX));
        series.finish(Some(Raw::new(201.0, u64::MAX, 0.001, 1, u64::MAX)));
        let s = series.summary();
        assert_eq!(s.samples_taken, 2);
        assert_eq!(s.memory_bytes.peak, u64::MAX);
        assert_eq!(s.cpu_time_s, u64::MAX as f64 / 1e9);
        assert!(s.cpu_percent.mean.unwrap().is_finite() && s.cpu_percent.max.unwrap().is_finite());

        let mut series = Series::new(0.1, 4);
        series.stride = u64::MAX;
        series.buckets = vec![Bucket::one(raw(0, 1, 1).sample); 4];
        series.buckets[3].count = u64::MAX;
        series.commit(raw(1, 1, 1));
        assert_eq!(series.stride, u64::MAX);
        assert!(series.summary().samples.len() <= 4);
    }

    #[test]
    fn empty_run_is_all_zero_not_nan() {
        let mut series = Series::new(0.1, 2048);
        series.finish(None);
        let s = series.summary();
        assert_eq!(s.samples_taken, 0);
        assert_eq!((s.cpu_percent.mean, s.cpu_percent.max), (None, None));
        assert_eq!(s.memory_bytes, MemoryStats::default());
        assert!(s.samples.is_empty());
    }
}
