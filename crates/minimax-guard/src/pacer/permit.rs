//! A call's turn, and what it tells the group of how the call went.

use super::group::Group;
use super::rate;
use crate::clock::Clock;
use crate::shared::{SharedState, SharedTrip, ThrottleNews};
use std::sync::Arc;
use tokio::time::{Duration, Instant};

/// What a throttled answer says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    /// Too many requests (1002, HTTP 429, 2045 rate growth).
    Rate,
    /// Too many characters in the minute (1039 on T2A).
    Characters,
    /// Too many connections (1041).
    Connections,
}

/// A call's turn: it holds one of the group's connections until it is finished or dropped,
/// and tells the group how the call went.
#[derive(Debug)]
pub struct Permit {
    pub(super) group: Arc<Group>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) release: u64,
    pub(super) cost: u64,
    pub(super) sent_at: Instant,
    pub(super) waited: Duration,
    pub(super) finished: bool,
    /// In a fleet: its state, and the epoch of the turn.
    pub(super) fleet: Option<(Arc<dyn SharedState>, u64)>,
    pub(super) tripped: Option<SharedTrip>,
}

impl Permit {
    /// How long the call waited for its turn.
    pub fn waited(&self) -> Duration {
        self.waited
    }

    /// The account's breaker as another process of the fleet opened it, if it did.
    pub fn fleet_trip(&mut self) -> Option<SharedTrip> {
        self.tripped.take()
    }

    /// The call succeeded.
    pub fn succeeded(mut self) {
        let now = self.clock.now();
        let took = now.saturating_duration_since(self.sent_at);
        let mut state = self.group.state();
        state.rate.succeeded(self.release, now);
        state.typical = Some(state.typical.map_or(took, |t| (t * 4 + took) / 5));
        state.cap.succeeded();
        drop(state);
        self.finish();
    }

    /// The call was throttled; `retry_after` is the server's own wait, which holds the group.
    pub fn throttled(mut self, throttle: Throttle, retry_after: Option<Duration>) {
        let now = self.clock.now();
        let mut state = self.group.state();
        let cut = match throttle {
            Throttle::Characters if self.cost > 0 && state.window.is_some() => {
                state.rate.held(self.release, now, retry_after);
                let exhausted = !state.rate.has_succeeded();
                if let Some(window) = &mut state.window {
                    window.refused(self.cost, self.sent_at, now, exhausted);
                }
                false
            }
            Throttle::Connections => {
                state.rate.held(self.release, now, retry_after);
                let in_flight = state.in_flight;
                state.cap.refused(in_flight);
                false
            }
            Throttle::Rate | Throttle::Characters => {
                state.rate.throttled(self.release, now, retry_after)
            }
        };
        if cut {
            let rpm = state.rate.rate() * 60.0;
            tracing::debug!(group = %self.group.name, rpm, "MiniMax pace lowered after a throttle");
        }
        let news = self.fleet.as_ref().map(|(_, epoch)| ThrottleNews {
            account: self.group.account,
            group: self.group.name,
            epoch: *epoch,
            cut: cut.then(|| {
                let w_max = match state.rate.phase() {
                    rate::Phase::Cubic { w_max, .. } => w_max,
                    rate::Phase::SlowStart => state.rate.rate(),
                };
                (state.rate.rate(), w_max)
            }),
            hold: state
                .rate
                .hold_until()
                .map(|h| h.saturating_duration_since(now))
                .filter(|h| !h.is_zero()),
        });
        drop(state);
        let news = news.filter(|n| n.cut.is_some() || n.hold.is_some());
        // The fleet hears of it without holding the call: the next turn reads the result.
        if let (Some((shared, _)), Some(news)) = (self.fleet.clone(), news)
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move { shared.throttled(news).await });
        }
        self.finish();
    }

    /// The call ended otherwise (an error that says nothing about the limits).
    pub fn failed(mut self) {
        self.finish();
    }

    fn finish(&mut self) {
        if !self.finished {
            self.finished = true;
            let mut state = self.group.state();
            state.in_flight -= 1;
            state.rate.answered(self.release);
            drop(state);
            self.group.changed.notify_waiters();
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.finish();
    }
}
