//! Fail fast after an account-level failure: once MiniMax says the key is wrong (1004, 2049), the
//! balance is gone (1008) or the plan's quota is spent (2056), every call would fail the same
//! way, so for a while calls of that account fail locally, with the reason, instead of
//! hammering the API. Other accounts of the same client (a proxy's many keys) are not touched.

use crate::pacer::AccountId;
use crate::shared::SharedTrip;
use minimax_errors::ErrorCode;
use minimax_errors::quota::Exhausted;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
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
    /// When the plan window resets (Unix seconds), when the answer said so (2056).
    pub resets_at: Option<i64>,
}

/// A final answer with an account-level code, as the breaker reads it.
#[derive(Debug, Clone, Copy)]
pub struct Answered<'a> {
    /// The code.
    pub code: ErrorCode,
    /// The server's message (a 2056's tells when its window resets).
    pub message: &'a str,
    /// The answer's trace id.
    pub trace_id: Option<&'a str>,
}

/// The longest a spent window holds calls: a week and a day, in seconds.
const MAX_RESET_WAIT: i64 = 8 * 86_400;

/// The account breakers of one client, one per account.
#[derive(Debug, Default)]
pub struct AccountBreaker {
    tripped: Mutex<HashMap<AccountId, Tripped>>,
}

impl AccountBreaker {
    fn lock(&self) -> MutexGuard<'_, HashMap<AccountId, Tripped>> {
        self.tripped.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a final answer for `account` at `now`; account codes open its breaker for
    /// `hold`, or, for a spent plan window whose message tells when it resets, until then.
    /// Returns the breaker it opened, to be shared with the fleet.
    pub fn record(
        &self,
        account: AccountId,
        answer: Answered<'_>,
        hold: Duration,
        now: Instant,
    ) -> Option<SharedTrip> {
        let code = answer.code;
        if hold.is_zero() || !ACCOUNT_CODES.contains(&code) {
            return None;
        }
        let resets_at = (code == ErrorCode::USAGE_LIMIT_EXCEEDED)
            .then(|| Exhausted::read(answer.message)?.resets_at)
            .flatten();
        let hold = match resets_at {
            // Until the reset, however far (a weekly window may be days away), but not past
            // a week and a day: a wrong date must not shut the account out for ever.
            Some(at) => {
                let left = at
                    .saturating_sub(minimax_errors::quota::unix_now())
                    .clamp(0, MAX_RESET_WAIT);
                Duration::from_secs(left.unsigned_abs())
            }
            None => hold,
        };
        let tripped = Tripped {
            code,
            trace_id: answer.trace_id.map(str::to_string),
            until: now + hold,
            resets_at,
        };
        let shared = SharedTrip {
            code,
            trace_id: tripped.trace_id.clone(),
            remaining: hold,
            resets_at,
        };
        let mut all = self.lock();
        // Breakers that closed are forgotten, so keys that come and go do not pile up.
        all.retain(|_, t| now < t.until);
        all.insert(account, tripped);
        Some(shared)
    }

    /// Opens `account`'s breaker as another process of the fleet opened it.
    pub fn adopt(&self, account: AccountId, trip: SharedTrip, now: Instant) {
        let tripped = Tripped {
            code: trip.code,
            trace_id: trip.trace_id,
            until: now + trip.remaining,
            resets_at: trip.resets_at,
        };
        self.lock().insert(account, tripped);
    }

    /// Whether calls of `account` must fail fast at `now`, and why.
    pub fn check(&self, account: AccountId, now: Instant) -> Option<Tripped> {
        let mut all = self.lock();
        match all.get(&account) {
            Some(t) if now < t.until => Some(t.clone()),
            Some(_) => {
                all.remove(&account);
                None
            }
            None => None,
        }
    }

    /// Closes every breaker (e.g. after the key was replaced or the balance topped up).
    pub fn clear(&self) {
        self.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_only_for_account_codes_and_closes_in_time() {
        let breaker = AccountBreaker::default();
        let (a, b) = (AccountId::of_key("sk-api-a"), AccountId::of_key("sk-api-b"));
        let t0 = Instant::now();
        let minute = Duration::from_secs(60);
        let answer = |code| Answered {
            code,
            message: "",
            trace_id: None,
        };
        breaker.record(a, answer(ErrorCode::RATE_LIMIT), minute, t0);
        assert!(breaker.check(a, t0).is_none());
        let hold = Duration::from_millis(30);
        let balance = Answered {
            trace_id: Some("t1"),
            ..answer(ErrorCode::INSUFFICIENT_BALANCE)
        };
        breaker.record(a, balance, hold, t0);
        assert_eq!(
            breaker
                .check(a, t0 + hold - Duration::from_millis(1))
                .map(|t| t.code),
            Some(ErrorCode::INSUFFICIENT_BALANCE)
        );
        assert!(
            breaker.check(b, t0).is_none(),
            "another account is not touched"
        );
        assert!(breaker.check(a, t0 + hold).is_none());
        breaker.record(a, answer(ErrorCode::INVALID_API_KEY), minute, t0);
        breaker.clear();
        assert!(breaker.check(a, t0).is_none());
    }

    #[test]
    fn a_spent_window_holds_until_its_reset() {
        let breaker = AccountBreaker::default();
        let a = AccountId::of_key("sk-cp-a");
        let t0 = Instant::now();
        let resets = minimax_errors::quota::unix_now() + 3 * 3600;
        let when = minimax_errors::quota::rfc3339(resets);
        let message = format!(
            "usage limit exceeded, 5-hour usage limit reached for Token Plan Plus (10/10 used), resets at {when}"
        );
        let answer = Answered {
            code: ErrorCode::USAGE_LIMIT_EXCEEDED,
            message: &message,
            trace_id: None,
        };
        breaker.record(a, answer, Duration::from_secs(60), t0);
        let tripped = breaker
            .check(a, t0 + Duration::from_secs(3 * 3600 - 5))
            .unwrap();
        assert_eq!(tripped.resets_at, Some(resets));
        assert!(
            breaker
                .check(a, t0 + Duration::from_secs(3 * 3600 + 1))
                .is_none()
        );
    }
}
