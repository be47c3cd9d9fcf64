//! Per-key account limits: requests per minute (1002) as a token bucket or fixed windows, T2A
//! characters per minute (1039) as a sliding window, rate growth (2045), connections (1041), a
//! usage quota per window (2056) and the balance (1008). Public, so simulations can run the same
//! limits in-process, in virtual time.

use crate::config::{KeyConfig, RpmMode};
use minimax_errors::ErrorCode;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The running state of one key's account.
#[derive(Debug)]
pub struct Account {
    config: KeyConfig,
    in_flight: Arc<AtomicU32>,
    /// RPM token bucket: tokens left and when they were last topped up.
    tokens: f64,
    refilled: Instant,
    /// RPM fixed window: when the current one started and what it has admitted.
    window_start: Instant,
    window_used: u64,
    /// T2A characters sent in the last minute.
    characters: VecDeque<(Instant, u64)>,
    /// Rate growth: requests in the current and the previous window.
    growth_window_start: Instant,
    growth_current: u64,
    growth_previous: Option<u64>,
    /// The plan's 5-hour and weekly windows.
    windows: [PlanWindow; 2],
    balance: Option<u64>,
}

/// Which of a plan's windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanWindowKind {
    /// The rolling window of a few hours (5 on MiniMax's plans).
    Hours,
    /// The weekly window.
    Weekly,
}

impl PlanWindowKind {
    /// Calls allowed and length, from the key's configuration.
    fn limits(self, config: &KeyConfig) -> (Option<u64>, Duration) {
        match self {
            PlanWindowKind::Hours => (
                config.quota,
                Duration::from_secs(config.quota_window_secs.max(1)),
            ),
            PlanWindowKind::Weekly => (
                config.weekly_quota,
                Duration::from_secs(config.weekly_window_secs.max(1)),
            ),
        }
    }

    /// `5-hour` or `weekly`, as MiniMax's messages name them (whatever length a test gives
    /// the window).
    fn label(self) -> &'static str {
        match self {
            PlanWindowKind::Hours => "5-hour",
            PlanWindowKind::Weekly => "weekly",
        }
    }
}

/// One window's running count.
#[derive(Debug, Clone, Copy)]
struct PlanWindow {
    kind: PlanWindowKind,
    start: Instant,
    used: u64,
}

impl PlanWindow {
    fn new(kind: PlanWindowKind, now: Instant) -> PlanWindow {
        PlanWindow {
            kind,
            start: now,
            used: 0,
        }
    }

    /// Starts a new window when this one has ended.
    fn roll(&mut self, length: Duration, now: Instant) {
        if now.saturating_duration_since(self.start) >= length {
            self.start = now;
            self.used = 0;
        }
    }
}

/// A plan window as the remains endpoint reports it.
#[derive(Debug, Clone, Copy)]
pub struct PlanUse {
    /// Which window.
    pub kind: PlanWindowKind,
    /// Calls allowed in it.
    pub limit: u64,
    /// Calls used.
    pub used: u64,
    /// When it started.
    pub started: Instant,
    /// When it ends (and resets).
    pub ends: Instant,
}

/// An instant as Unix seconds, by its distance from `now`.
pub fn unix_at(at: Instant, now: Instant) -> i64 {
    let now_unix = minimax_errors::quota::unix_now();
    if at >= now {
        now_unix + at.duration_since(now).as_secs() as i64
    } else {
        now_unix - now.duration_since(at).as_secs() as i64
    }
}

/// Holds one of the key's connection slots until dropped.
#[derive(Debug)]
pub struct Slot(Arc<AtomicU32>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Account {
    /// A fresh account (its bucket full, unless the key starts spent), as of now.
    pub fn new(config: KeyConfig) -> Account {
        Account::new_at(config, Instant::now())
    }

    /// A fresh account as of `now`.
    pub fn new_at(config: KeyConfig, now: Instant) -> Account {
        let capacity = config.burst.or(config.rpm).map_or(0.0, f64::from);
        Account {
            tokens: if config.start_spent { 0.0 } else { capacity },
            window_start: now,
            window_used: if config.start_spent { u64::MAX / 2 } else { 0 },
            balance: config.balance,
            config,
            in_flight: Arc::new(AtomicU32::new(0)),
            refilled: now,
            characters: VecDeque::new(),
            growth_window_start: now,
            growth_current: 0,
            growth_previous: None,
            windows: [
                PlanWindow::new(PlanWindowKind::Hours, now),
                PlanWindow::new(PlanWindowKind::Weekly, now),
            ],
        }
    }

    /// The key's configuration.
    pub fn config(&self) -> &KeyConfig {
        &self.config
    }

    /// Takes a connection slot, or 1041 when the key has too many requests in flight.
    pub fn connect(&self) -> Result<Slot, ErrorCode> {
        let now = self.in_flight.fetch_add(1, Ordering::AcqRel) + 1;
        let slot = Slot(Arc::clone(&self.in_flight));
        match self.config.max_concurrent {
            Some(max) if now > max => Err(ErrorCode::CONNECTION_LIMIT),
            _ => Ok(slot),
        }
    }

    /// Whether the RPM limit admits a request at `now` (nothing is used up).
    fn rpm_allows(&mut self, now: Instant) -> bool {
        let Some(rpm) = self.config.rpm else {
            return true;
        };
        match self.config.rpm_mode {
            RpmMode::Bucket => {
                let per_sec = f64::from(rpm) / 60.0;
                let capacity = f64::from(self.config.burst.unwrap_or(rpm).max(1));
                let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
                self.tokens = (self.tokens + elapsed * per_sec).min(capacity);
                self.refilled = now;
                self.tokens >= 1.0
            }
            RpmMode::FixedWindow => {
                let length = Duration::from_secs(self.config.window_secs.max(1));
                let elapsed = now.saturating_duration_since(self.window_start);
                if elapsed >= length {
                    let windows = (elapsed.as_secs_f64() / length.as_secs_f64()).floor();
                    self.window_start += length.mul_f64(windows);
                    self.window_used = 0;
                }
                let allowed = u64::from(rpm) * length.as_secs() / 60;
                self.window_used < allowed.max(1)
            }
        }
    }

    /// Admits one request, or says which limit it hits. A rejected request uses nothing up.
    pub fn admit(&mut self, now: Instant) -> Result<(), ErrorCode> {
        if !self.rpm_allows(now) {
            return Err(ErrorCode::RATE_LIMIT);
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
        for window in &mut self.windows {
            let (limit, length) = window.kind.limits(&self.config);
            window.roll(length, now);
            if limit.is_some_and(|limit| window.used >= limit) {
                return Err(ErrorCode::USAGE_LIMIT_EXCEEDED);
            }
        }
        if self.balance == Some(0) {
            return Err(ErrorCode::INSUFFICIENT_BALANCE);
        }
        // Every check passed: use one of each.
        if self.config.rpm.is_some() {
            self.tokens -= 1.0;
            self.window_used = self.window_used.saturating_add(1);
        }
        self.growth_current += 1;
        for window in &mut self.windows {
            window.used += 1;
        }
        if let Some(balance) = &mut self.balance {
            *balance -= 1;
        }
        Ok(())
    }

    /// The plan's windows as of `now`: which, calls allowed and used, and when each ends.
    pub fn plan(&mut self, now: Instant) -> Vec<PlanUse> {
        let config = &self.config;
        self.windows
            .iter_mut()
            .filter_map(|window| {
                let (limit, length) = window.kind.limits(config);
                window.roll(length, now);
                Some(PlanUse {
                    kind: window.kind,
                    limit: limit?,
                    used: window.used,
                    started: window.start,
                    ends: window.start + length,
                })
            })
            .collect()
    }

    /// What MiniMax says when a window is spent: `usage limit exceeded, 5-hour usage limit
    /// reached for Token Plan Starter (10/10 used), resets at 2026-05-15T15:00:00Z`.
    pub fn exhausted_message(&mut self, now: Instant) -> String {
        let plan = self.config.plan.clone();
        let spent = self.plan(now).into_iter().find(|w| w.used >= w.limit);
        match spent {
            Some(w) => format!(
                "usage limit exceeded, {} usage limit reached for {plan} ({}/{} used), resets at {}",
                w.kind.label(),
                w.used,
                w.limit,
                minimax_errors::quota::rfc3339(unix_at(w.ends, now)),
            ),
            None => "usage limit exceeded".to_string(),
        }
    }

    /// Spends `count` T2A characters, or 1039 when the last minute's total would pass the TPM.
    pub fn spend_characters(&mut self, count: u64, now: Instant) -> Result<(), ErrorCode> {
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
    fn burst_caps_the_bucket_and_a_spent_key_starts_empty() {
        let t0 = Instant::now();
        let mut a = Account::new_at(
            KeyConfig {
                rpm: Some(600),
                burst: Some(3),
                ..KeyConfig::unlimited()
            },
            t0,
        );
        for _ in 0..3 {
            assert_eq!(a.admit(t0), Ok(()));
        }
        assert_eq!(a.admit(t0), Err(ErrorCode::RATE_LIMIT));
        let later = t0 + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(a.admit(later), Ok(()));
        }
        assert_eq!(
            a.admit(later),
            Err(ErrorCode::RATE_LIMIT),
            "a minute refills only the burst"
        );
        let mut spent = Account::new_at(
            KeyConfig {
                rpm: Some(600),
                start_spent: true,
                ..KeyConfig::unlimited()
            },
            t0,
        );
        assert_eq!(spent.admit(t0), Err(ErrorCode::RATE_LIMIT));
        assert_eq!(
            spent.admit(t0 + Duration::from_millis(100)),
            Ok(()),
            "10 per second"
        );
    }

    #[test]
    fn fixed_windows_reset_at_their_boundary() {
        let t0 = Instant::now();
        let config = KeyConfig {
            rpm: Some(60),
            rpm_mode: RpmMode::FixedWindow,
            window_secs: 10,
            ..KeyConfig::unlimited()
        };
        let mut a = Account::new_at(config.clone(), t0);
        for _ in 0..10 {
            assert_eq!(a.admit(t0), Ok(()));
        }
        assert_eq!(
            a.admit(t0 + Duration::from_secs(9)),
            Err(ErrorCode::RATE_LIMIT)
        );
        assert_eq!(a.admit(t0 + Duration::from_secs(10)), Ok(()));
        let mut spent = Account::new_at(
            KeyConfig {
                start_spent: true,
                ..config
            },
            t0,
        );
        assert_eq!(
            spent.admit(t0 + Duration::from_secs(9)),
            Err(ErrorCode::RATE_LIMIT)
        );
        assert_eq!(spent.admit(t0 + Duration::from_secs(25)), Ok(()));
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
