//! The pacer: keeps calls under the account's limits so they are not throttled in the first
//! place. One limiter per account (a fingerprint of the key) and limit group (chat, T2A, voice
//! cloning, …: MiniMax limits each model family of an account on its own), shared by every call
//! of a client. Callers wait in FIFO order; requests leave at the group's rate, T2A requests
//! also when their characters fit in the minute's budget, and no more than the group's
//! connections at once. The rate is learned from the answers (see [`rate`]); limits known in
//! advance can be given. A call whose wait would pass its deadline fails at once, unsent.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use minimax_guard::pacer::{AccountId, Pacer, PacingConfig, Throttle};
//! use minimax_errors::LimitGroup;
//!
//! let pacer = Pacer::new(PacingConfig::default());
//! let account = AccountId::of_key("sk-api-example");
//! let permit = pacer.acquire(account, LimitGroup::Text, 0, None).await.unwrap();
//! permit.succeeded();
//! let permit = pacer.acquire(account, LimitGroup::Text, 0, None).await.unwrap();
//! permit.throttled(Throttle::Rate, None); // 1002: the group slows down
//! # });
//! ```

pub mod rate;
pub mod window;

use crate::clock::{Clock, TokioClock};
use crate::shared::{FleetPace, SharedState, SharedTrip, ThrottleNews, TurnAsk};
use minimax_errors::LimitGroup;
use rate::RateControl;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;
use tokio::time::{Duration, Instant};
use window::CharWindow;

/// Whose limits: a fingerprint of the API key (the key itself is never kept).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId([u8; 8]);

impl AccountId {
    /// The account behind `key`: the first 8 bytes of SHA-256 over the key.
    pub fn of_key(key: &str) -> AccountId {
        let digest = Sha256::digest(format!("mmerr-account:{}", key.trim()).as_bytes());
        let mut id = [0; 8];
        id.copy_from_slice(&digest[..8]);
        AccountId(id)
    }

    /// Calls whose key is not known to the executor (built by the caller).
    pub const UNKNOWN: AccountId = AccountId([0; 8]);
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({self})")
    }
}

/// Limits of a group known in advance. Each one given is both where pacing starts and a
/// ceiling it never passes; throttles can still lower the pace (another process may share the
/// account). Each one left out starts at the documented figure and is learned.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GroupLimits {
    /// Requests per minute.
    pub rpm: Option<f64>,
    /// T2A characters per minute.
    pub tpm: Option<u64>,
    /// Requests in flight at once.
    pub max_in_flight: Option<u32>,
}

/// Documented limits of MiniMax's plans, to start from when they are known to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Plan {
    /// A paying international account: text 500 RPM, T2A 60 RPM and 20,000 characters per
    /// minute, voice cloning 60, video 5, image 10, music 120 (started from, then learned).
    Documented,
    /// The China site's free tier: text 20 RPM, T2A 10 RPM (ceilings).
    ChinaFree,
    /// The China site's paid T2A: 20 RPM (a ceiling); the rest as documented.
    ChinaPaid,
}

/// How calls are paced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PacingConfig {
    /// Pace calls (on by default). Off, throttled calls are retried with backoff and the
    /// catalog's attempt limits, as a plain retry layer would.
    pub enabled: bool,
    /// Limits known in advance, per group.
    pub limits: BTreeMap<LimitGroup, GroupLimits>,
}

impl Default for PacingConfig {
    fn default() -> PacingConfig {
        PacingConfig {
            enabled: true,
            limits: BTreeMap::new(),
        }
    }
}

impl PacingConfig {
    /// The documented limits of `plan`.
    pub fn plan(plan: Plan) -> PacingConfig {
        let rpm = |rpm: f64| GroupLimits {
            rpm: Some(rpm),
            ..GroupLimits::default()
        };
        let limits = match plan {
            Plan::Documented => BTreeMap::new(),
            Plan::ChinaFree => [
                (LimitGroup::Text, rpm(20.0)),
                (LimitGroup::Speech, rpm(10.0)),
            ]
            .into_iter()
            .collect(),
            Plan::ChinaPaid => [(LimitGroup::Speech, rpm(20.0))].into_iter().collect(),
        };
        PacingConfig {
            enabled: true,
            limits,
        }
    }

    /// No pacing.
    pub fn off() -> PacingConfig {
        PacingConfig {
            enabled: false,
            ..PacingConfig::default()
        }
    }

    /// With `limits` known for `group`.
    pub fn with_limits(mut self, group: LimitGroup, limits: GroupLimits) -> PacingConfig {
        self.limits.insert(group, limits);
        self
    }
}

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

/// A call that would wait past its deadline for its turn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PaceTooLong {
    /// The group it waited for.
    pub group: LimitGroup,
    /// How long it would have waited.
    pub wait: Duration,
    /// The group's rate, in requests per second.
    pub rate: f64,
}

/// A group's state, for display and metrics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupSnapshot {
    /// The account's fingerprint.
    pub account: String,
    /// The group.
    pub group: LimitGroup,
    /// Its rate, in requests per minute.
    pub rpm: f64,
    /// Its characters per minute, for groups that have such a limit.
    pub tpm: Option<f64>,
    /// Requests in flight.
    pub in_flight: u32,
    /// Callers waiting for their turn.
    pub waiting: usize,
}

/// The pacer. Cheap to clone; clones share every group.
#[derive(Debug, Clone)]
pub struct Pacer {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: PacingConfig,
    clock: Arc<dyn Clock>,
    groups: Mutex<HashMap<(AccountId, LimitGroup), Arc<Group>>>,
    /// The fleet's state, when the pace is shared with other processes.
    shared: Option<Arc<dyn SharedState>>,
}

/// Groups kept before idle ones are dropped (a proxy sees many keys).
const MAX_GROUPS: usize = 4096;
/// A group idle this long may be dropped.
const IDLE: Duration = Duration::from_secs(600);

impl Default for Pacer {
    fn default() -> Pacer {
        Pacer::new(PacingConfig::default())
    }
}

impl Pacer {
    /// A pacer on tokio's clock.
    pub fn new(config: PacingConfig) -> Pacer {
        Pacer::with_clock(config, Arc::new(TokioClock))
    }

    /// A pacer on `clock`.
    pub fn with_clock(config: PacingConfig, clock: Arc<dyn Clock>) -> Pacer {
        Pacer::build(config, clock, None)
    }

    /// A pacer whose schedules and rates are shared through `shared` with every process of a
    /// fleet using the same account; while `shared` cannot be reached, each group paces alone
    /// at its share of the fleet's last rate.
    pub fn with_shared(
        config: PacingConfig,
        clock: Arc<dyn Clock>,
        shared: Arc<dyn SharedState>,
    ) -> Pacer {
        Pacer::build(config, clock, Some(shared))
    }

    fn build(
        config: PacingConfig,
        clock: Arc<dyn Clock>,
        shared: Option<Arc<dyn SharedState>>,
    ) -> Pacer {
        Pacer {
            inner: Arc::new(Inner {
                config,
                clock,
                groups: Mutex::new(HashMap::new()),
                shared,
            }),
        }
    }

    /// The fleet's state, when the pace is shared.
    pub fn shared(&self) -> Option<&Arc<dyn SharedState>> {
        self.inner.shared.as_ref()
    }

    /// The settings.
    pub fn config(&self) -> &PacingConfig {
        &self.inner.config
    }

    /// Whether calls are paced.
    pub fn is_enabled(&self) -> bool {
        self.inner.config.enabled
    }

    fn group(&self, account: AccountId, group: LimitGroup) -> Arc<Group> {
        let now = self.inner.clock.now();
        let mut groups = lock(&self.inner.groups);
        if groups.len() >= MAX_GROUPS {
            groups.retain(|_, g| {
                Arc::strong_count(g) > 1 || now.saturating_duration_since(g.state().used) < IDLE
            });
        }
        let limits = self.inner.config.limits.get(&group).copied();
        Arc::clone(groups.entry((account, group)).or_insert_with(|| {
            Arc::new(Group::new(account, group, limits.unwrap_or_default(), now))
        }))
    }

    /// Waits for this call's turn in `group` of `account`: `characters` is what a T2A request
    /// spends of the minute's budget (0 elsewhere). Fails at once, without waiting, when the
    /// turn would come after `deadline`.
    pub async fn acquire(
        &self,
        account: AccountId,
        group: LimitGroup,
        characters: u64,
        deadline: Option<Instant>,
    ) -> Result<Permit, PaceTooLong> {
        let group = self.group(account, group);
        group
            .acquire(
                characters,
                deadline,
                Arc::clone(&self.inner.clock),
                self.inner.shared.clone(),
            )
            .await
    }

    /// The pace of one group now: requests per minute and callers waiting.
    pub fn pace(&self, account: AccountId, group: LimitGroup) -> Option<(f64, usize)> {
        let groups = lock(&self.inner.groups);
        let group = groups.get(&(account, group))?;
        let rpm = group.state().rate.rate() * 60.0;
        Some((rpm, group.waiting.load(Ordering::Relaxed)))
    }

    /// Every group's state.
    pub fn snapshot(&self) -> Vec<GroupSnapshot> {
        let groups = lock(&self.inner.groups);
        let mut out: Vec<GroupSnapshot> = groups.values().map(|g| g.snapshot()).collect();
        out.sort_by(|a, b| (&a.account, a.group).cmp(&(&b.account, b.group)));
        out
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// One account's limiter for one group.
#[derive(Debug)]
struct Group {
    account: AccountId,
    name: LimitGroup,
    state: Mutex<State>,
    /// FIFO: tokio's mutex hands the lock to waiters in the order they asked.
    turnstile: tokio::sync::Mutex<()>,
    /// Wakes the caller at the head of the queue when its wait may have changed.
    changed: Notify,
    waiting: AtomicUsize,
}

#[derive(Debug)]
struct State {
    rate: RateControl,
    next_free: Instant,
    window: Option<CharWindow>,
    in_flight: u32,
    max_in_flight: Option<u32>,
    /// Whether `max_in_flight` was given (then it is not learned).
    fixed_in_flight: bool,
    /// Successes since the connection cap last changed, and how many it takes to give one
    /// connection back (doubled each time a 1041 finds the cap where the last one did).
    since_cap: u32,
    cap_regrowth: u32,
    /// How long a successful call usually takes (a moving average).
    typical: Option<Duration>,
    used: Instant,
    /// The fleet's pace as last seen, kept while the group paces alone (its rate control
    /// says whether it follows the fleet now): where the fleet starts again if its state was
    /// lost.
    fleet: Option<FleetView>,
}

/// What a group last heard of its fleet.
#[derive(Debug, Clone, Copy)]
struct FleetView {
    pace: FleetPace,
    members: u32,
    seen: Instant,
}

impl State {
    /// The fleet's pace as last seen, while the group follows it.
    fn following(&self) -> Option<FleetView> {
        self.fleet.filter(|_| self.rate.in_fleet())
    }

    /// When a request of `cost` characters may leave, if no connection is needed. `alone`:
    /// this process's own schedule spaces the turns (in a fleet, the fleet's does).
    fn ready_at(&mut self, cost: u64, now: Instant, alone: bool) -> Instant {
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
        self.max_in_flight.is_some_and(|max| self.in_flight >= max)
    }
}

/// tokio's timer resolution: a sleep ends on a millisecond tick.
const TIMER_TICK: Duration = Duration::from_millis(1);

/// Connections learned after a 1041 are given back one per this many successes, at first...
const CAP_REGROWTH: u32 = 20;
/// ... and at most.
const MAX_CAP_REGROWTH: u32 = 640;

impl Group {
    fn new(account: AccountId, name: LimitGroup, limits: GroupLimits, now: Instant) -> Group {
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
                max_in_flight: limits.max_in_flight,
                fixed_in_flight: limits.max_in_flight.is_some(),
                since_cap: 0,
                cap_regrowth: CAP_REGROWTH,
                typical: None,
                used: now,
                fleet: None,
            }),
            turnstile: tokio::sync::Mutex::new(()),
            changed: Notify::new(),
            waiting: AtomicUsize::new(0),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    fn too_long(&self, wait: Duration) -> PaceTooLong {
        PaceTooLong {
            group: self.name,
            wait,
            rate: self.state().rate.rate(),
        }
    }

    async fn acquire(
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

    /// Takes this call's turn in the fleet's schedule and waits for it, following the
    /// fleet's pace. `Ok(None)`: the fleet's state cannot be reached (the group then paces
    /// alone, at its share of the fleet's last rate).
    async fn fleet_turn(
        &self,
        shared: &dyn SharedState,
        deadline: Option<Instant>,
        asked: Instant,
        clock: &Arc<dyn Clock>,
    ) -> Result<Option<(u64, Option<SharedTrip>)>, PaceTooLong> {
        let now = clock.now();
        let ask = {
            let state = self.state();
            let start = match state.fleet {
                Some(last) => FleetPace {
                    since_cut: last.pace.since_cut + now.saturating_duration_since(last.seen),
                    ..last.pace
                },
                None => FleetPace {
                    rate: state.rate.rate(),
                    epoch: 0,
                    w_max: 0.0,
                    since_cut: Duration::ZERO,
                },
            };
            TurnAsk {
                account: self.account,
                group: self.name,
                start,
                proposed_rate: state.rate.rate(),
                epoch: state.following().map_or(0, |f| f.pace.epoch),
                max_wait: deadline.map(|d| d.saturating_duration_since(now)),
            }
        };
        let turn = match shared.turn(ask).await {
            Ok(turn) => turn,
            Err(_) => {
                let mut state = self.state();
                if let Some(fleet) = state.following() {
                    let share = fleet.pace.rate / f64::from(fleet.members.max(1));
                    state.rate.go_alone(share, clock.now());
                    // The turn the fleet gave last is a turn of this process's share too.
                    let gap = Duration::from_secs_f64(1.0 / state.rate.rate());
                    state.next_free = clock.now() + gap;
                }
                return Ok(None);
            }
        };
        {
            let mut state = self.state();
            let pace = turn.pace;
            let new_epoch = state.following().is_none_or(|f| f.pace.epoch != pace.epoch);
            let now = clock.now();
            let cut = (pace.w_max, pace.since_cut);
            state
                .rate
                .follow(pace.rate, new_epoch, cut, turn.members, now);
            let view = FleetView {
                pace,
                members: turn.members,
                seen: now,
            };
            state.fleet = Some(view);
        }
        let Some(wait) = turn.wait else {
            let wait = Duration::from_secs_f64(1.0 / turn.pace.rate.max(rate::MIN_RATE));
            return Err(self.too_long(clock.now() + wait - asked));
        };
        if !wait.is_zero() {
            clock.sleep_until(clock.now() + wait).await;
        }
        Ok(Some((turn.pace.epoch, turn.tripped)))
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

    fn snapshot(&self) -> GroupSnapshot {
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
struct Queued(Arc<Group>);

impl Drop for Queued {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A call's turn: it holds one of the group's connections until it is finished or dropped,
/// and tells the group how the call went.
#[derive(Debug)]
pub struct Permit {
    group: Arc<Group>,
    clock: Arc<dyn Clock>,
    release: u64,
    cost: u64,
    sent_at: Instant,
    waited: Duration,
    finished: bool,
    /// In a fleet: its state, and the epoch of the turn.
    fleet: Option<(Arc<dyn SharedState>, u64)>,
    tripped: Option<SharedTrip>,
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
        if !state.fixed_in_flight
            && let Some(max) = state.max_in_flight
        {
            state.since_cap += 1;
            if state.since_cap >= state.cap_regrowth {
                state.since_cap = 0;
                state.max_in_flight = Some(max + 1);
            }
        }
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
                if !state.fixed_in_flight {
                    let cap = state.in_flight.saturating_sub(1).max(1);
                    // A cap found where the last 1041 found it is tested less and less often.
                    let same = state
                        .max_in_flight
                        .is_some_and(|old| old.abs_diff(cap) <= 1);
                    state.cap_regrowth = match same {
                        true => (state.cap_regrowth * 2).min(MAX_CAP_REGROWTH),
                        false => CAP_REGROWTH,
                    };
                    state.max_in_flight = Some(cap);
                    state.since_cap = 0;
                }
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
