//! What a group sent and how it was answered, by when each request left: the record the rate
//! controller judges the account by. MiniMax refuses at once and answers in seconds, so a
//! request out longer than refusals take (twice the slowest recent refusal) was let through,
//! whether or not its answer has come back.

use std::collections::VecDeque;
use tokio::time::{Duration, Instant};

/// Releases kept, at most, and for at most this long.
const KEPT: usize = 8192;
const KEPT_FOR: Duration = Duration::from_secs(30);
/// Added to twice the slowest refusal before a request out that long counts as let through.
const REFUSAL_MARGIN: Duration = Duration::from_millis(10);
/// The slowest refusal remembered shrinks by this share with each refusal.
const REFUSAL_DECAY: f64 = 0.9;

/// One release: when it left, and how it was answered so far.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sent {
    pub(super) at: Instant,
    pub(super) refused: bool,
    pub(super) ok: bool,
}

/// Recent releases, oldest first, numbered from `first`.
#[derive(Debug, Clone, Default)]
pub(super) struct SentLog {
    entries: VecDeque<Sent>,
    first: u64,
    /// How long refusals take to come back (the slowest recently, decaying).
    refusal_latency: Duration,
}

impl SentLog {
    /// Records the next release, sent at `now`.
    pub(super) fn push(&mut self, now: Instant) {
        while self.entries.len() >= KEPT
            || self
                .entries
                .front()
                .is_some_and(|s| now.saturating_duration_since(s.at) > KEPT_FOR)
        {
            self.entries.pop_front();
            self.first += 1;
        }
        self.entries.push_back(Sent {
            at: now,
            refused: false,
            ok: false,
        });
    }

    /// The number of the oldest release remembered.
    pub(super) fn first(&self) -> u64 {
        self.first
    }

    /// Release `release`, while it is remembered.
    pub(super) fn get(&self, release: u64) -> Option<&Sent> {
        let index = usize::try_from(release.checked_sub(self.first)?).ok()?;
        self.entries.get(index)
    }

    fn get_mut(&mut self, release: u64) -> Option<&mut Sent> {
        let index = usize::try_from(release.checked_sub(self.first)?).ok()?;
        self.entries.get_mut(index)
    }

    /// Release `release` succeeded.
    pub(super) fn succeeded(&mut self, release: u64) {
        if let Some(sent) = self.get_mut(release) {
            sent.ok = true;
        }
    }

    /// Release `release` was refused at `now`; returns when it was sent.
    pub(super) fn refused(&mut self, release: u64, now: Instant) -> Option<Instant> {
        let sent = self.get_mut(release)?;
        sent.refused = true;
        let at = sent.at;
        let took = now.saturating_duration_since(at);
        self.refusal_latency = took.max(self.refusal_latency.mul_f64(REFUSAL_DECAY));
        Some(at)
    }

    /// How long a request must be out without a refusal to count as let through.
    fn refusal_bound(&self) -> Duration {
        self.refusal_latency * 2 + REFUSAL_MARGIN
    }

    /// Whether `sent` is known to have been let through at `now`.
    pub(super) fn let_through(&self, sent: &Sent, now: Instant) -> bool {
        sent.ok || (!sent.refused && sent.at + self.refusal_bound() <= now)
    }

    /// When release `release`, out and unanswered, counts as let through.
    pub(super) fn settles_at(&self, release: u64) -> Option<Instant> {
        let sent = self.get(release)?;
        (!sent.refused && !sent.ok).then(|| sent.at + self.refusal_bound())
    }

    /// Whether any release from `from` up to (not including) `to` was let through.
    pub(super) fn any_let_through(&self, from: u64, to: u64, now: Instant) -> bool {
        (from..to)
            .filter_map(|r| self.get(r))
            .any(|s| self.let_through(s, now))
    }

    /// Releases sent from `from` up to (not including) `to` and let through.
    pub(super) fn let_through_between(&self, from: Instant, to: Instant, now: Instant) -> u32 {
        self.entries
            .iter()
            .filter(|s| s.at >= from && s.at < to && self.let_through(s, now))
            .count() as u32
    }

    /// The rate of the last `recent` releases, up to `now`.
    pub(super) fn sending_rate(&self, recent: usize, now: Instant) -> Option<f64> {
        let recent = self.entries.len().min(recent);
        let oldest = self.entries.get(self.entries.len().checked_sub(recent)?)?;
        let span = now.saturating_duration_since(oldest.at).as_secs_f64();
        (recent >= 4 && span > 0.0).then(|| recent as f64 / span)
    }

    /// The rate requests were let through at, by when they were sent, over the `over` before
    /// `before` (and before they could still be refused).
    pub(super) fn let_through_rate(
        &self,
        before: Instant,
        over: Duration,
        now: Instant,
    ) -> Option<f64> {
        let settled = now.checked_sub(self.refusal_bound())?;
        let end = before.min(settled);
        let start = end.checked_sub(over)?;
        let oldest = self.entries.front()?.at;
        let span = end
            .saturating_duration_since(start.max(oldest))
            .as_secs_f64();
        let through = self
            .entries
            .iter()
            .filter(|s| s.at >= start && s.at < end && !s.refused)
            .count();
        (through >= 4 && span > 0.0).then(|| through as f64 / span)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_out_longer_than_refusals_take_was_let_through() {
        let t0 = Instant::now();
        let mut log = SentLog::default();
        for i in 0..4 {
            log.push(t0 + Duration::from_millis(10 * i));
        }
        // Release 1 refused 20 ms after it left: refusals take 20 ms.
        assert_eq!(
            log.refused(1, t0 + Duration::from_millis(30)),
            Some(t0 + Duration::from_millis(10))
        );
        let early = t0 + Duration::from_millis(40);
        let late = t0 + Duration::from_millis(100);
        let zero = log.get(0).copied().unwrap();
        assert!(
            !log.let_through(&zero, early),
            "out 40 ms: it could still be refused"
        );
        assert!(log.let_through(&zero, late), "out 100 ms: let through");
        assert!(!log.any_let_through(1, 2, late), "refused");
        assert_eq!(log.settles_at(3), Some(t0 + Duration::from_millis(30 + 50)));
        log.succeeded(3);
        assert_eq!(log.settles_at(3), None);
    }
}
