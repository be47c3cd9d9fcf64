//! One account's limiter for one group: the turnstile callers wait at in FIFO order, and when
//! a request may leave (its turn in the schedule, the hold after throttles, the character
//! window, the connection cap).

use super::cap::ConnectionCap;
use super::fleet::FleetView;
use super::rate::RateControl;
use super::window::CharWindow;
use super::{AccountId, GroupLimits, GroupSnapshot, PaceTooLong, Permit, lock};
use crate::clock::Clock;
use crate::shared::SharedState;
use minimax_errors::LimitGroup;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;
use tokio::time::{Duration, Instant};

/// One account's limiter for one group.
#[derive(Debug)]
pub(super) struct Group {
    pub(super) account: AccountId,
    pub(super) name: LimitGroup,
    pub(super) state: Mutex<State>,
    /// FIFO: tokio's mutex hands the lock to waiters in the order they asked.
    pub(super) turnstile: tokio::sync::Mutex<()>,
    /// Wakes the caller at the head of the queue when its wait may have changed.
    pub(super) changed: Notify,
    pub(super) waiting: AtomicUsize,
}

#[derive(Debug)]
pub(super) struct State {
    pub(super) rate: RateControl,
    pub(super) next_free: Instant,
    pub(super) window: Option<CharWindow>,
    pub(super) in_flight: u32,
    pub(super) cap: ConnectionCap,
    /// How long a successful call usually takes (a moving average).
    pub(super) typical: Option<Duration>,
    pub(super) used: Instant,
    /// The fleet's pace as last seen, kept while the group paces alone (its rate control
    /// says whether it follows the fleet now): where the fleet starts again if its state was
    /// lost.
    pub(super) fleet: Option<FleetView>,
}

impl State {
    /// The fleet's pace as last seen, while the group follows it.
    pub(super) fn following(&self) -> Option<FleetView> {
        self.fleet.filter(|_| self.rate.in_fleet())
    }

    /// When a request of `cost` characters may leave, if no connection is needed. `alone`:
    /// this process's own schedule spaces the turns (in a fleet, the fleet's does).
    pub(super) fn ready_at(&mut self, cost: u64, now: Instant, alone: bool) -> Instant {
        let mut at = if alone { self.next_free.max(now) } else { now };
        if let Some(hold) = self.rate.hold_until() {
            at = at.max(hold);
        }
        if let Some(settles) = self.rate.probe_settles_at() {
            at = at.max(settles);
        }
        if let Some(window) = &mut self.window {
            at = at.max(window.ready_at(cost, now));
        }
        at
    }

    /// Whether nothing may leave until a request in flight answers: the connections are all
    /// in use. (A probe of a throttled account out holds the rest until it answers or settles:
    /// see `ready_at`.)
    fn waits_for_an_answer(&self) -> bool {
        self.cap.full(self.in_flight)
    }
}

/// tokio's timer resolution: a sleep ends on a millisecond tick.
const TIMER_TICK: Duration = Duration::from_millis(1);

impl Group {
    pub(super) fn new(
        account: AccountId,
        name: LimitGroup,
        limits: GroupLimits,
        now: Instant,
    ) -> Group {
        let documented = name.documented();
        let rate = limits.rpm.unwrap_or(documented.rpm) / 60.0;
        let ceiling = limits.rpm.map_or(f64::INFINITY, |rpm| rpm / 60.0);
        let window = match (limits.tpm, documented.tpm) {
            (Some(tpm), _) => Some(CharWindow::new(tpm as f64, tpm as f64)),
            (None, Some(tpm)) => Some(CharWindow::new(tpm as f64, f64::INFINITY)),
            (None, None) => None,
        };
        Group {
            account,
            name,
            state: Mutex::new(State {
                rate: RateControl::new(rate, ceiling, now),
                next_free: now,
                window,
                in_flight: 0,
                cap: ConnectionCap::new(limits.max_in_flight),
                typical: None,
                used: now,
                fleet: None,
            }),
            turnstile: tokio::sync::Mutex::new(()),
            changed: Notify::new(),
            waiting: AtomicUsize::new(0),
        }
    }

    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    pub(super) fn too_long(&self, wait: Duration) -> PaceTooLong {
        PaceTooLong {
            group: self.name,
            wait,
            rate: self.state().rate.rate(),
        }
    }

    pub(super) async fn acquire(
        self: Arc<Group>,
        cost: u64,
        deadline: Option<Instant>,
        clock: Arc<dyn Clock>,
        shared: Option<Arc<dyn SharedState>>,
    ) -> Result<Permit, PaceTooLong> {
        let asked = clock.now();
        let ahead = self.waiting.fetch_add(1, Ordering::AcqRel);
        let _queued = Queued(Arc::clone(&self));
        if let Some(deadline) = deadline {
            // Once the rate is known, the callers ahead leave at it: if this one's turn would
            // come after its deadline, say so now. While the rate is still being found, the
            // wait cannot be told in advance; the deadline is then checked while waiting.
            let mut state = self.state();
            if state.rate.is_settled() {
                let own = state.ready_at(cost, asked, true);
                let expected = own + Duration::from_secs_f64(ahead as f64 / state.rate.rate());
                drop(state);
                if expected > deadline {
                    return Err(self.too_long(expected - asked));
                }
            }
        }
        let turn = match deadline {
            None => self.turnstile.lock().await,
            Some(deadline) => tokio::select! {
                turn = self.turnstile.lock() => turn,
                () = clock.sleep_until(deadline) => {
                    return Err(self.too_long(clock.now().saturating_duration_since(asked)));
                }
            },
        };
        let mut alone = shared.is_none();
        let mut fleet_turn = None;
        loop {
            self.wait_locally(cost, deadline, asked, alone, &clock)
                .await?;
            let Some(shared) = shared.as_ref().filter(|_| !alone) else {
                break;
            };
            match self
                .fleet_turn(shared.as_ref(), deadline, asked, &clock)
                .await?
            {
                Some(turn) => {
                    fleet_turn = Some(turn);
                    break;
                }
                // The fleet's state cannot be reached: this process paces alone.
                None => alone = true,
            }
        }
        let (epoch, tripped) = fleet_turn.unzip();
        let now = clock.now();
        let release = {
            let mut state = self.state();
            let behind = self.waiting.load(Ordering::Acquire).saturating_sub(1);
            let waited = now > asked;
            let release = state.rate.release(now, waited || behind > 0);
            let gap = Duration::from_secs_f64(1.0 / state.rate.rate());
            // When a tick is a sizeable part of a turn (above 100 turns a second), a turn taken
            // up to a tick late keeps the schedule: the sleep before it ended on the tick, and
            // losing that time each turn would pace well below the rate. Slower, each turn
            // sets the next.
            let late = now.saturating_duration_since(state.next_free);
            state.next_free = if gap < 10 * TIMER_TICK && late <= TIMER_TICK {
                state.next_free + gap
            } else {
                state.next_free.max(now) + gap
            };
            if let Some(window) = &mut state.window {
                window.spend(cost, now);
            }
            state.in_flight += 1;
            state.used = now;
            release
        };
        drop(turn);
        Ok(Permit {
            group: self,
            clock,
            release,
            cost,
            sent_at: now,
            waited: now.saturating_duration_since(asked),
            finished: false,
            fleet: shared.zip(epoch),
            tripped: tripped.flatten(),
        })
    }

    /// Waits until this process lets the call go: the group's hold, its character window and
    /// its connections, and (when `alone`) its own schedule of turns.
    async fn wait_locally(
        &self,
        cost: u64,
        deadline: Option<Instant>,
        asked: Instant,
        alone: bool,
        clock: &Arc<dyn Clock>,
    ) -> Result<(), PaceTooLong> {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let now = clock.now();
            let (ready, full, early) = {
                let mut state = self.state();
                // Faster than one turn per timer tick, turns cannot be paced one by one: those
                // due within the coming tick go now, and the schedule moves on from theirs.
                let gap = Duration::from_secs_f64(1.0 / state.rate.rate());
                let early = if gap < TIMER_TICK {
                    TIMER_TICK
                } else {
                    Duration::ZERO
                };
                (
                    state.ready_at(cost, now, alone),
                    state.waits_for_an_answer(),
                    early,
                )
            };
            if ready <= now + early && !full {
                // A call that cannot finish before its deadline is not worth a call.
                let typical = self.state().typical.unwrap_or_default();
                if deadline.is_some_and(|d| now + typical >= d) {
                    return Err(self.too_long((now + typical).saturating_duration_since(asked)));
                }
                return Ok(());
            }
            let wake = if full { deadline } else { Some(ready) };
            if let Some(deadline) = deadline
                && (ready > deadline || clock.now() >= deadline)
            {
                return Err(self.too_long(ready.saturating_duration_since(asked)));
            }
            match wake {
                Some(at) => {
                    tokio::select! {
                        () = clock.sleep_until(at) => {}
                        () = &mut notified => {}
                    }
                }
                None => notified.await,
            }
        }
    }

    pub(super) fn snapshot(&self) -> GroupSnapshot {
        let state = self.state();
        GroupSnapshot {
            account: self.account.to_string(),
            group: self.name,
            rpm: state.rate.rate() * 60.0,
            tpm: state.window.as_ref().map(CharWindow::budget),
            in_flight: state.in_flight,
            waiting: self.waiting.load(Ordering::Relaxed),
        }
    }
}

/// Counts a caller in the queue until it leaves, however it leaves.
pub(super) struct Queued(pub(super) Arc<Group>);

impl Drop for Queued {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::AcqRel);
    }
}
