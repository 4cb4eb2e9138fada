//! The bounds of the resource sampler's period.
//!
//! Checked where the period is configured ([`MetricsCollectorBuilder::build`]) and again where it
//! is used (`ResourceProfiler::start`, public too), so no caller can hand the sampler's timer a
//! period its clock cannot add: `Instant + Duration::MAX` panics inside tokio's interval, on the
//! sampler thread, and the run loses every sample.
//!
//! Always compiled (not only with feature `sampler`): the builder validates the setting whether
//! or not this build samples.
//!
//! [`MetricsCollectorBuilder::build`]: crate::MetricsCollectorBuilder::build

use std::time::{Duration, Instant};

/// The longest sample interval accepted: one hour. Longer periods sample nothing useful in a
/// run (the closing reading is its only sample) and, near `Duration::MAX`, overflow the clock.
pub const MAX_SAMPLE_INTERVAL: Duration = Duration::from_secs(3_600);

/// `Ok` for a period in `(0, MAX_SAMPLE_INTERVAL]` that the clock can add to now; otherwise a
/// lowercase reason naming the value.
pub(crate) fn check(interval: Duration) -> Result<(), String> {
    if interval.is_zero() {
        return Err("sample interval must be above 0".to_owned());
    }
    if interval > MAX_SAMPLE_INTERVAL || Instant::now().checked_add(interval).is_none() {
        return Err(format!(
            "sample interval must be at most {}, got {interval:?}",
            humantime::format_duration(MAX_SAMPLE_INTERVAL)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert!(check(Duration::from_nanos(1)).is_ok());
        assert!(check(MAX_SAMPLE_INTERVAL).is_ok());
        assert_eq!(
            check(Duration::ZERO).unwrap_err(),
            "sample interval must be above 0"
        );
        assert_eq!(
            check(Duration::MAX).unwrap_err(),
            "sample interval must be at most 1h, got 18446744073709551615.999999999s"
        );
    }
}
