//! Fail fast after an account-level failure: once MiniMax says the key is wrong (1004, 2049), the
//! balance is gone (1008) or the plan's quota is spent (2056), every call would fail the same
//! way, so for a while calls fail locally, with the reason, instead of hammering the API.

use minimax_errors::ErrorCode;
use std::sync::Mutex;
use tokio::time::{Duration, Instant};

/// The codes that say something about the whole account rather than one request.
pub const ACCOUNT_CODES: [ErrorCode; 4] = [
    ErrorCode::UNAUTHORIZED,
    ErrorCode::INVALID_API_KEY,
    ErrorCode::INSUFFICIENT_BALANCE,
    ErrorCode::USAGE_LIMIT_EXCEEDED,
];

/// An open breaker: why calls fail fast, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tripped {
    /// The code that tripped it.
    pub code: ErrorCode,
    /// The trace id of the answer that tripped it.
    pub trace_id: Option<String>,
    /// When calls are tried again.
    pub until: Instant,
}

/// The account breaker of one client.
#[derive(Debug, Default)]
pub struct AccountBreaker {
    tripped: Mutex<Option<Tripped>>,
}

impl AccountBreaker {
    /// Records a final answer's code at `now`; account codes open the breaker for `hold`.
    pub fn record(&self, code: ErrorCode, trace_id: Option<&str>, hold: Duration, now: Instant) {
        if hold.is_zero() || !ACCOUNT_CODES.contains(&code) {
            return;
        }
        let tripped = Tripped {
            code,
            trace_id: trace_id.map(str::to_string),
            until: now + hold,
        };
        *self.tripped.lock().unwrap_or_else(|e| e.into_inner()) = Some(tripped);
    }

    /// Whether calls must fail fast at `now`, and why.
    pub fn check(&self, now: Instant) -> Option<Tripped> {
        let mut tripped = self.tripped.lock().unwrap_or_else(|e| e.into_inner());
        match &*tripped {
            Some(t) if now < t.until => Some(t.clone()),
            Some(_) => {
                *tripped = None;
                None
            }
            None => None,
        }
    }

    /// Closes the breaker (e.g. after the key was replaced or the balance topped up).
    pub fn clear(&self) {
        *self.tripped.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_only_for_account_codes_and_closes_in_time() {
        let breaker = AccountBreaker::default();
        let t0 = Instant::now();
        let minute = Duration::from_secs(60);
        breaker.record(ErrorCode::RATE_LIMIT, None, minute, t0);
        assert!(breaker.check(t0).is_none());
        let hold = Duration::from_millis(30);
        breaker.record(ErrorCode::INSUFFICIENT_BALANCE, Some("t1"), hold, t0);
        assert_eq!(
            breaker
                .check(t0 + hold - Duration::from_millis(1))
                .map(|t| t.code),
            Some(ErrorCode::INSUFFICIENT_BALANCE)
        );
        assert!(breaker.check(t0 + hold).is_none());
        breaker.record(ErrorCode::INVALID_API_KEY, None, minute, t0);
        breaker.clear();
        assert!(breaker.check(t0).is_none());
    }
}
