//! Characters per minute (T2A's TPM limit, answered with 1039): a sliding window of what this
//! group sent, mirrored from the limit's own shape, so a request waits until the window has room
//! instead of being sent into a 1039. Pure: every method takes the time.
//!
//! The budget starts at the documented (or configured) figure. A 1039 after the group has seen
//! a success says the window held more than the account allows: the budget becomes what the
//! window holds without the refused request. While requests wait for room, the budget grows to
//! find an account that allows more: it doubles until the first 1039 (a slow start), then grows
//! by a tenth once a window has passed without one.

use std::collections::VecDeque;
use tokio::time::{Duration, Instant};

/// The limit's window.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Growth of the budget while requests wait for room and nothing was refused for a window.
const GROWTH: f64 = 1.1;

/// The characters sent in the last minute, and how many the account allows.
#[derive(Debug, Clone)]
pub struct CharWindow {
    budget: f64,
    ceiling: f64,
    sent: VecDeque<(Instant, u64)>,
    total: u64,
    refused_at: Option<Instant>,
    grown_at: Option<Instant>,
}

impl CharWindow {
    /// A window allowing `budget` characters per minute, never more than `ceiling`.
    pub fn new(budget: f64, ceiling: f64) -> CharWindow {
        CharWindow {
            budget: budget.min(ceiling).max(1.0),
            ceiling,
            sent: VecDeque::new(),
            total: 0,
            refused_at: None,
            grown_at: None,
        }
    }

    /// The characters allowed per minute now.
    pub fn budget(&self) -> f64 {
        self.budget
    }

    fn expire(&mut self, now: Instant) {
        while let Some(&(at, n)) = self.sent.front() {
            if now.saturating_duration_since(at) < WINDOW {
                break;
            }
            self.total -= n;
            self.sent.pop_front();
        }
    }

    /// When `cost` characters fit in the window. A request larger than the whole budget goes
    /// when the window is empty (it cannot do better).
    pub fn ready_at(&mut self, cost: u64, now: Instant) -> Instant {
        self.expire(now);
        let mut total = self.total as f64;
        if total + cost as f64 <= self.budget {
            return now;
        }
        self.grow(now);
        if total + cost as f64 <= self.budget {
            return now;
        }
        for &(at, n) in &self.sent {
            total -= n as f64;
            if total + cost as f64 <= self.budget || total <= 0.0 {
                return at + WINDOW;
            }
        }
        now
    }

    /// Requests wait for room: allow more, twice as much until the first refusal, then a
    /// tenth more once a window has passed without one.
    fn grow(&mut self, now: Instant) {
        if self.budget >= self.ceiling {
            return;
        }
        let quiet =
            |at: Option<Instant>| at.is_none_or(|at| now.saturating_duration_since(at) >= WINDOW);
        let factor = match self.refused_at {
            None => 2.0,
            Some(_) if quiet(self.refused_at) && quiet(self.grown_at) => GROWTH,
            Some(_) => return,
        };
        self.budget = (self.budget * factor).min(self.ceiling);
        self.grown_at = Some(now);
    }

    /// `cost` characters were sent at `now`.
    pub fn spend(&mut self, cost: u64, now: Instant) {
        self.sent.push_back((now, cost));
        self.total += cost;
    }

    /// A request of `cost` characters sent at `sent_at` was refused with 1039: they do not
    /// count, and unless `exhausted` (nothing has succeeded yet, so the window's content is not
    /// ours to measure) the budget becomes what the window holds.
    pub fn refused(&mut self, cost: u64, sent_at: Instant, now: Instant, exhausted: bool) {
        if let Some(i) = self
            .sent
            .iter()
            .position(|&(at, n)| at == sent_at && n == cost)
        {
            self.sent.remove(i);
            self.total -= cost;
        }
        self.expire(now);
        self.refused_at = Some(now);
        if !exhausted {
            self.budget = (self.total as f64).max(cost as f64).max(1.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_waits_for_the_oldest_characters_to_leave() {
        let t0 = Instant::now();
        // A known budget (its own ceiling): it never grows.
        let mut w = CharWindow::new(100.0, 100.0);
        assert_eq!(w.ready_at(60, t0), t0);
        w.spend(60, t0);
        let t1 = t0 + Duration::from_secs(10);
        w.spend(30, t1);
        assert_eq!(w.ready_at(10, t1), t1);
        assert_eq!(w.ready_at(50, t1), t0 + WINDOW, "60 must leave first");
        assert_eq!(
            w.ready_at(1000, t1),
            t1 + WINDOW,
            "too big: when the window is empty"
        );
    }

    #[test]
    fn a_refusal_sets_the_budget_to_what_the_window_held() {
        let t0 = Instant::now();
        let mut w = CharWindow::new(100.0, 100.0);
        w.spend(40, t0);
        w.spend(40, t0 + Duration::from_secs(1));
        let refused_at = t0 + Duration::from_secs(2);
        w.spend(20, refused_at);
        w.refused(20, refused_at, refused_at, false);
        assert_eq!(w.budget(), 80.0);
        assert_eq!(w.ready_at(20, refused_at), t0 + WINDOW);
    }

    #[test]
    fn the_budget_doubles_until_a_refusal_then_grows_slowly() {
        let t0 = Instant::now();
        let mut w = CharWindow::new(100.0, f64::INFINITY);
        w.spend(100, t0);
        assert_eq!(w.ready_at(10, t0), t0, "no refusal yet: twice the budget");
        assert_eq!(w.budget(), 200.0);
        w.spend(100, t0);
        w.refused(50, t0, t0, false);
        assert_eq!(w.budget(), 200.0);
        w.spend(200, t0);
        w.ready_at(10, t0 + Duration::from_secs(1));
        assert_eq!(w.budget(), 200.0, "no growth within a window of a refusal");
    }

    #[test]
    fn the_budget_grows_only_while_nothing_is_refused() {
        let t0 = Instant::now();
        let mut w = CharWindow::new(100.0, 150.0);
        w.refused_at = Some(t0 - WINDOW);
        w.spend(100, t0);
        w.ready_at(10, t0);
        assert!((w.budget() - 110.0).abs() < 1e-9);
        w.ready_at(50, t0 + Duration::from_secs(1));
        assert!((w.budget() - 110.0).abs() < 1e-9, "once per window");
        let later = t0 + Duration::from_secs(59);
        w.spend(40, later);
        w.ready_at(80, t0 + Duration::from_secs(61));
        assert!((w.budget() - 121.0).abs() < 1e-9);
        for _ in 0..10 {
            w.grown_at = None;
            w.ready_at(200, t0 + Duration::from_secs(61));
        }
        assert_eq!(w.budget(), 150.0, "never past the ceiling");
    }
}
