//! Fail fast after an account-level failure: once MiniMax says the key is wrong (1004, 2049), the
//! balance is gone (1008) or the plan's quota is spent (2056), every call would fail the same
//! way, so for a while calls of that account fail locally, with the reason, instead of
//! hammering the API. Other accounts of the same client (a proxy's many keys) are not touched.

use crate::pacer::AccountId;
use minimax_errors::ErrorCode;
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
}

/// The account breakers of one client, one per account.
#[derive(Debug, Default)]
pub struct AccountBreaker {
    tripped: Mutex<HashMap<AccountId, Tripped>>,
}

impl AccountBreaker {
    fn lock(&self) -> MutexGuard<'_, HashMap<AccountId, Tripped>> {
        self.tripped.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a final answer's code for `account` at `now`; account codes open its breaker
    /// for `hold`.
    pub fn record(
        &self,
        account: AccountId,
        code: ErrorCode,
        trace_id: Option<&str>,
        hold: Duration,
        now: Instant,
    ) {
        if hold.is_zero() || !ACCOUNT_CODES.contains(&code) {
            return;
        }
        let tripped = Tripped {
            code,
            trace_id: trace_id.map(str::to_string),
            until: now + hold,
        };
        let mut all = self.lock();
        // Breakers that closed are forgotten, so keys that come and go do not pile up.
        all.retain(|_, t| now < t.until);
        all.insert(account, tripped);
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
        breaker.record(a, ErrorCode::RATE_LIMIT, None, minute, t0);
        assert!(breaker.check(a, t0).is_none());
        let hold = Duration::from_millis(30);
        breaker.record(a, ErrorCode::INSUFFICIENT_BALANCE, Some("t1"), hold, t0);
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
        breaker.record(a, ErrorCode::INVALID_API_KEY, None, minute, t0);
        breaker.clear();
        assert!(breaker.check(a, t0).is_none());
    }
}
