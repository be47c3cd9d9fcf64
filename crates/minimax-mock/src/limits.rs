//! Per-key account limits: requests per minute (1002), T2A characters per minute (1039), rate
//! growth (2045), connections (1041), a usage quota per window (2056) and the balance (1008).

use crate::config::KeyConfig;
use minimax_errors::ErrorCode;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The running state of one key's account.
#[derive(Debug)]
pub(crate) struct Account {
    config: KeyConfig,
    in_flight: Arc<AtomicU32>,
    /// RPM token bucket: tokens left and when they were last topped up.
    tokens: f64,
    refilled: Instant,
    /// T2A characters sent in the last minute.
    characters: VecDeque<(Instant, u64)>,
    /// Rate growth: requests in the current and the previous window.
    growth_window_start: Instant,
    growth_current: u64,
    growth_previous: Option<u64>,
    /// Usage quota: calls in the current window.
    quota_window_start: Instant,
    quota_used: u64,
    balance: Option<u64>,
}

/// Holds one of the key's connection slots until dropped.
pub(crate) struct Slot(Arc<AtomicU32>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Account {
    pub(crate) fn new(config: KeyConfig) -> Account {
        let now = Instant::now();
        Account {
            tokens: config.rpm.map_or(0.0, f64::from),
            balance: config.balance,
            config,
            in_flight: Arc::new(AtomicU32::new(0)),
            refilled: now,
            characters: VecDeque::new(),
            growth_window_start: now,
            growth_current: 0,
            growth_previous: None,
            quota_window_start: now,
            quota_used: 0,
        }
    }

    /// The key's configuration.
    pub(crate) fn config(&self) -> &KeyConfig {
        &self.config
    }

    /// Takes a connection slot, or 1041 when the key has too many requests in flight.
    pub(crate) fn connect(&self) -> Result<Slot, ErrorCode> {
        let now = self.in_flight.fetch_add(1, Ordering::AcqRel) + 1;
        let slot = Slot(Arc::clone(&self.in_flight));
        match self.config.max_concurrent {
            Some(max) if now > max => Err(ErrorCode::CONNECTION_LIMIT),
            _ => Ok(slot),
        }
    }

    /// Admits one request, or says which limit it hits. A rejected request uses nothing up.
    pub(crate) fn admit(&mut self, now: Instant) -> Result<(), ErrorCode> {
        if let Some(rpm) = self.config.rpm {
            let per_sec = f64::from(rpm) / 60.0;
            let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
            self.tokens = (self.tokens + elapsed * per_sec).min(f64::from(rpm));
            self.refilled = now;
            if self.tokens < 1.0 {
                return Err(ErrorCode::RATE_LIMIT);
            }
        }
        if let Some(factor) = self.config.growth_factor {
            self.roll_growth_window(now);
            let allowed = self.growth_previous.map_or(u64::MAX, |previous| {
                ((previous as f64 * factor).floor() as u64).max(self.config.growth_floor)
            });
            if self.growth_current + 1 > allowed {
                return Err(ErrorCode::RATE_GROWTH_LIMIT);
            }
        }
        if let Some(quota) = self.config.quota {
            let window = Duration::from_secs(self.config.quota_window_secs.max(1));
            if now.saturating_duration_since(self.quota_window_start) >= window {
                self.quota_window_start = now;
                self.quota_used = 0;
            }
            if self.quota_used >= quota {
                return Err(ErrorCode::USAGE_LIMIT_EXCEEDED);
            }
        }
        if self.balance == Some(0) {
            return Err(ErrorCode::INSUFFICIENT_BALANCE);
        }
        // Every check passed: use one of each.
        if self.config.rpm.is_some() {
            self.tokens -= 1.0;
        }
        self.growth_current += 1;
        self.quota_used += 1;
        if let Some(balance) = &mut self.balance {
            *balance -= 1;
        }
        Ok(())
    }

    /// Spends `count` T2A characters, or 1039 when the last minute's total would pass the TPM.
    pub(crate) fn spend_characters(&mut self, count: u64, now: Instant) -> Result<(), ErrorCode> {
        let Some(tpm) = self.config.tpm else {
            return Ok(());
        };
        while self
            .characters
            .front()
            .is_some_and(|(at, _)| now.saturating_duration_since(*at) >= Duration::from_secs(60))
        {
            self.characters.pop_front();
        }
        let used: u64 = self.characters.iter().map(|(_, n)| n).sum();
        if used + count > tpm {
            return Err(ErrorCode::TOKEN_LIMIT);
        }
        self.characters.push_back((now, count));
        Ok(())
    }

    fn roll_growth_window(&mut self, now: Instant) {
        let window = Duration::from_secs(self.config.growth_window_secs.max(1));
        let elapsed = now.saturating_duration_since(self.growth_window_start);
        if elapsed >= window {
            // A gap of more than one window means the previous window was empty.
            self.growth_previous = Some(if elapsed >= window * 2 {
                0
            } else {
                self.growth_current
            });
            self.growth_current = 0;
            self.growth_window_start = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(edit: impl FnOnce(&mut KeyConfig)) -> Account {
        let mut config = KeyConfig {
            rpm: None,
            tpm: None,
            max_concurrent: None,
            ..KeyConfig::default()
        };
        edit(&mut config);
        Account::new(config)
    }

    #[test]
    fn rpm_bucket_refills() {
        let mut a = account(|c| c.rpm = Some(60));
        let t0 = Instant::now();
        for _ in 0..60 {
            assert_eq!(a.admit(t0), Ok(()));
        }
        assert_eq!(a.admit(t0), Err(ErrorCode::RATE_LIMIT));
        assert_eq!(a.admit(t0 + Duration::from_millis(1000)), Ok(()));
        assert_eq!(
            a.admit(t0 + Duration::from_millis(1000)),
            Err(ErrorCode::RATE_LIMIT)
        );
    }

    #[test]
    fn tpm_window() {
        let mut a = account(|c| c.tpm = Some(100));
        let t0 = Instant::now();
        assert_eq!(a.spend_characters(60, t0), Ok(()));
        assert_eq!(a.spend_characters(41, t0), Err(ErrorCode::TOKEN_LIMIT));
        assert_eq!(a.spend_characters(40, t0), Ok(()));
        assert_eq!(a.spend_characters(60, t0 + Duration::from_secs(60)), Ok(()));
    }

    #[test]
    fn growth_rule_compares_consecutive_windows() {
        let mut a = account(|c| {
            c.growth_factor = Some(2.0);
            c.growth_floor = 3;
            c.growth_window_secs = 10;
        });
        let t0 = Instant::now();
        for _ in 0..5 {
            assert_eq!(
                a.admit(t0),
                Ok(()),
                "first window has no previous one to compare with"
            );
        }
        let t1 = t0 + Duration::from_secs(10);
        for _ in 0..10 {
            assert_eq!(a.admit(t1), Ok(()));
        }
        assert_eq!(a.admit(t1), Err(ErrorCode::RATE_GROWTH_LIMIT));
        // After a quiet window the floor applies.
        let t3 = t0 + Duration::from_secs(40);
        for _ in 0..3 {
            assert_eq!(a.admit(t3), Ok(()));
        }
        assert_eq!(a.admit(t3), Err(ErrorCode::RATE_GROWTH_LIMIT));
    }

    #[test]
    fn quota_balance_and_connections() {
        let mut a = account(|c| {
            c.quota = Some(2);
            c.quota_window_secs = 100;
        });
        let t0 = Instant::now();
        assert_eq!(a.admit(t0), Ok(()));
        assert_eq!(a.admit(t0), Ok(()));
        assert_eq!(a.admit(t0), Err(ErrorCode::USAGE_LIMIT_EXCEEDED));
        assert_eq!(a.admit(t0 + Duration::from_secs(100)), Ok(()));

        let mut b = account(|c| c.balance = Some(1));
        assert_eq!(b.admit(t0), Ok(()));
        assert_eq!(b.admit(t0), Err(ErrorCode::INSUFFICIENT_BALANCE));

        let c = account(|c| c.max_concurrent = Some(1));
        let first = c.connect().map_err(|_| ()).unwrap();
        assert!(c.connect().is_err());
        drop(first);
        assert!(c.connect().is_ok());
    }
}
