//! Retry decisions and delay strategies (the seed's `should_retry` / `get_retry_delay`).
//!
//! The decision comes from the catalog (endpoint-aware); the schedule from a [`DelayStrategy`].
//! The default is full jitter with a cap, which makes the fewest calls under contention; the
//! seed's formula is kept, selectable, for compatibility. Randomness is injected through
//! [`RandomSource`], so schedules are testable.
//!
//! ```
//! use minimax_errors::policy::{should_retry, DelayStrategy};
//! use minimax_errors::{Endpoint, ErrorCode};
//! use std::time::Duration;
//!
//! assert!(should_retry(ErrorCode::RATE_LIMIT, Endpoint::Chat));
//! assert!(!should_retry(ErrorCode::TOKEN_LIMIT, Endpoint::Chat));
//! assert!(should_retry(ErrorCode::TOKEN_LIMIT, Endpoint::T2a));
//!
//! // A fixed "random" value of 0.5 makes the delay predictable: 0.5 * 1 s * 2^2.
//! let mut half = || 0.5;
//! let info = ErrorCode::RATE_LIMIT.info();
//! let delay = DelayStrategy::default().delay(&info, 2, None, &mut half);
//! assert_eq!(delay, Some(Duration::from_secs(2)));
//! ```

use crate::catalog::{CodeInfo, RetryPolicy};
use crate::code::ErrorCode;
use crate::endpoint::Endpoint;
use std::time::Duration;

/// A source of uniform random numbers in `[0, 1)`.
pub trait RandomSource {
    /// The next number, uniformly drawn from `[0, 1)`.
    fn unit(&mut self) -> f64;
}

impl RandomSource for fastrand::Rng {
    fn unit(&mut self) -> f64 {
        self.f64()
    }
}

/// Any closure returning numbers in `[0, 1)` is a random source (handy in tests).
impl<F: FnMut() -> f64> RandomSource for F {
    fn unit(&mut self) -> f64 {
        self()
    }
}

/// How long to wait before each retry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DelayStrategy {
    /// `U(0, 1) * min(cap, base * backoff^attempt)`: full jitter (the AWS SDKs' standard mode).
    FullJitter {
        /// Delay scale before the first retry.
        base: Duration,
        /// Longest delay.
        cap: Duration,
    },
    /// `backoff^attempt + U(0.1, 0.5)` seconds, capped: the formula of the Python sketch this
    /// project started from, kept for compatibility.
    Exponential {
        /// Longest delay (the sketch has none, which can sleep for minutes; this does not).
        cap: Duration,
    },
    /// Decorrelated jitter: `min(cap, U(base, 3 * previous))`, starting from `base`.
    Decorrelated {
        /// Shortest delay, and the first "previous" delay.
        base: Duration,
        /// Longest delay.
        cap: Duration,
    },
}

impl Default for DelayStrategy {
    /// Full jitter from 1 s, capped at 20 s (the AWS SDKs' cap).
    fn default() -> DelayStrategy {
        DelayStrategy::FullJitter {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(20),
        }
    }
}

impl DelayStrategy {
    /// The delay before retry number `attempt + 1` (so `attempt` is 0 before the first retry) of a
    /// call that failed with `info`, or `None` when the code is not retried or its retries are
    /// used up. `previous` is the last delay waited, for [`DelayStrategy::Decorrelated`].
    pub fn delay(
        &self,
        info: &CodeInfo,
        attempt: u32,
        previous: Option<Duration>,
        rng: &mut impl RandomSource,
    ) -> Option<Duration> {
        let config = info.retry?;
        (attempt < config.max_retries).then(|| self.delay_for(&config, attempt, previous, rng))
    }

    /// The delay for a retry under `config`, without checking whether retries are left.
    pub fn delay_for(
        &self,
        config: &RetryPolicy,
        attempt: u32,
        previous: Option<Duration>,
        rng: &mut impl RandomSource,
    ) -> Duration {
        let unit = rng.unit().clamp(0.0, 1.0);
        let growth = config.backoff.max(1.0).powi(attempt.min(64) as i32);
        let secs = match *self {
            DelayStrategy::FullJitter { base, cap } => {
                unit * (base.as_secs_f64() * growth).min(cap.as_secs_f64())
            }
            DelayStrategy::Exponential { cap } => {
                (growth + 0.1 + 0.4 * unit).min(cap.as_secs_f64())
            }
            DelayStrategy::Decorrelated { base, cap } => {
                let low = base.as_secs_f64();
                let high = (previous.map_or(low, |p| p.as_secs_f64()) * 3.0).max(low);
                (low + unit * (high - low)).min(cap.as_secs_f64())
            }
        };
        Duration::try_from_secs_f64(secs).unwrap_or(Duration::ZERO)
    }
}

/// Whether a call that failed with `code` on `endpoint` is worth retrying.
pub fn should_retry(code: ErrorCode, endpoint: Endpoint) -> bool {
    code.info_on(endpoint).is_retryable()
}

/// The delay before retry `attempt + 1` of `code` on `endpoint`, with the default strategy and
/// the thread's random generator; `None` when the code is not retried or retries are used up.
pub fn retry_delay(code: ErrorCode, endpoint: Endpoint, attempt: u32) -> Option<Duration> {
    let mut rng = fastrand::Rng::new();
    DelayStrategy::default().delay(&code.info_on(endpoint), attempt, None, &mut rng)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(d: Option<Duration>) -> Option<f64> {
        d.map(|d| (d.as_secs_f64() * 1000.0).round() / 1000.0)
    }

    #[test]
    fn full_jitter_scales_and_caps() {
        let s = DelayStrategy::default();
        let info = ErrorCode::RATE_LIMIT.info(); // backoff 2.0, 5 retries
        let mut top = || 0.999_999;
        assert_eq!(secs(s.delay(&info, 0, None, &mut top)), Some(1.0));
        assert_eq!(secs(s.delay(&info, 3, None, &mut top)), Some(8.0));
        assert_eq!(secs(s.delay(&info, 4, None, &mut top)), Some(16.0));
        let mut zero = || 0.0;
        assert_eq!(secs(s.delay(&info, 4, None, &mut zero)), Some(0.0));
        let capped = DelayStrategy::FullJitter {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(3),
        };
        assert_eq!(secs(capped.delay(&info, 4, None, &mut top)), Some(3.0));
    }

    #[test]
    fn retries_stop_at_max_and_for_permanent_codes() {
        let s = DelayStrategy::default();
        let mut r = || 0.5;
        assert!(
            s.delay(&ErrorCode::RATE_LIMIT.info(), 4, None, &mut r)
                .is_some()
        );
        assert!(
            s.delay(&ErrorCode::RATE_LIMIT.info(), 5, None, &mut r)
                .is_none()
        );
        assert!(
            s.delay(&ErrorCode::INVALID_API_KEY.info(), 0, None, &mut r)
                .is_none()
        );
        assert!(
            s.delay(&ErrorCode::new(777).info(), 0, None, &mut r)
                .is_none()
        );
    }

    #[test]
    fn seed_formula_is_reproduced() {
        let s = DelayStrategy::Exponential {
            cap: Duration::from_secs(60),
        };
        let info = ErrorCode::UNKNOWN_ERROR.info(); // backoff 1.5
        let mut low = || 0.0;
        let mut high = || 1.0;
        assert_eq!(secs(s.delay(&info, 0, None, &mut low)), Some(1.1));
        assert_eq!(secs(s.delay(&info, 2, None, &mut high)), Some(2.75));
    }

    #[test]
    fn decorrelated_grows_from_previous_delay() {
        let s = DelayStrategy::Decorrelated {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(10),
        };
        let info = ErrorCode::SERVER_OVERLOADED.info();
        let mut high = || 1.0;
        let first = s.delay(&info, 0, None, &mut high);
        assert_eq!(secs(first), Some(1.5));
        assert_eq!(secs(s.delay(&info, 1, first, &mut high)), Some(4.5));
        assert_eq!(
            secs(s.delay(&info, 2, Some(Duration::from_secs(9)), &mut high)),
            Some(10.0)
        );
        let mut low = || 0.0;
        assert_eq!(secs(s.delay(&info, 1, first, &mut low)), Some(0.5));
    }

    #[test]
    fn endpoint_decides_1039() {
        assert!(!should_retry(ErrorCode::TOKEN_LIMIT, Endpoint::Chat));
        assert!(should_retry(ErrorCode::TOKEN_LIMIT, Endpoint::FileRetrieve));
        assert!(retry_delay(ErrorCode::TOKEN_LIMIT, Endpoint::T2a, 0).is_some());
        assert!(retry_delay(ErrorCode::TOKEN_LIMIT, Endpoint::T2a, 2).is_none());
        assert!(retry_delay(ErrorCode::TOKEN_LIMIT, Endpoint::Chat, 0).is_none());
    }
}
