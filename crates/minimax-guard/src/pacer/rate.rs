//! The request rate of one limit group, learned from what the API answers. Pure: every method
//! takes the time, so the rules can be tested without a clock.
//!
//! Its state, in three parts: the [`Phase`] (slow start, or the cubic after a cut), a
//! `Streak` while the account refuses request after request (holds, one probe at a time, a
//! window found when it ends), and a `Fleet` while it follows a fleet's shared pace; its
//! evidence is the record of what was sent and how it was answered, by send time (`sent`).
//!
//! The rules, and why (the AWS SDKs' adaptive mode, the best-known design, fails requests from
//! 32 concurrent callers up because it breaks each of them):
//! - **Start near the documented rate**, not at a crawl, and grow ×2 per second while callers
//!   wait and nothing is throttled: the first throttle tells where the limit is.
//! - **Cut once per episode**: a throttle cuts the rate only if its request was released after
//!   the last cut. The answers to requests already on the wire say nothing about the new rate.
//! - **Cut to what the account accepted**: [`BETA`] × the rate of the requests it let through,
//!   judged by when they were *sent*, over the two seconds before the refused one was (a bucket
//!   that filled while the rate was low lets a higher rate through for a while; what got
//!   through is the limit). Answers are not waited for: MiniMax refuses at once, so a request
//!   out for longer than refusals take was let through. Counting successes by when they come
//!   back would lag the sending rate by a whole call, seconds at MiniMax's latencies, and cut
//!   a rate that was doubling to a fraction of the limit.
//! - **Grow back along a cubic** that flattens as it nears the rate of the last cut (as CUBIC
//!   does), then probe above it linearly, a few percent per second; each episode that finds the
//!   limit where the last one did halves that slope, so a stable limit is tested less and less
//!   often. (CUBIC's convex probing would double the rate within seconds: too fast for limits
//!   counted per window.)
//! - **An exhausted account is not a rate**: throttles before the group has seen a success, or
//!   in a row without one, do not cut; they hold the group for a probe delay that doubles with
//!   each throttle of the streak, and let one probe out at a time, so an account whose window is
//!   spent costs a few calls, not one per waiting caller. When such a streak ends in a success, the limit is a window: the rate
//!   becomes what got through since the last such streak, spread over that time (the window
//!   opened between the last refused probe and that success: the middle is taken).

use super::sent::SentLog;
use tokio::time::{Duration, Instant};

/// After a throttle the rate is cut to this share of the rate the account accepted.
pub const BETA: f64 = 0.95;
/// The cubic's scale: the rate is `w_max × (1 + SCALE × t³)` for `t` from `-K` to 0 seconds
/// around the plateau (`K` = ∛((1 − BETA) / SCALE), about 1.7 s).
pub const SCALE: f64 = 0.01;
/// Past the plateau the rate grows by this share of `w_max` per second...
const PROBE: f64 = 0.02;
/// ... halved by each episode that finds the limit where the last one did, down to this.
const MIN_PROBE: f64 = 0.001;
/// Two limits found within this share of each other are the same limit.
const SAME_LIMIT: f64 = 0.05;
/// Slow start: the rate doubles this often while callers wait.
const DOUBLING: Duration = Duration::from_secs(1);
/// The longest hold after a streak of throttles (a probe at least this often, so an account
/// back from an outage is noticed within this).
pub const MAX_HOLD: Duration = Duration::from_secs(2);
/// The slowest rate the group may be cut to, in requests per second.
pub const MIN_RATE: f64 = 0.02;
/// Releases the sending rate is measured over.
const HISTORY: usize = 32;
/// How far back before a refused request's release the accepted rate is measured.
const ACCEPTED_OVER: Duration = Duration::from_secs(2);

/// A streak of this many throttles in a row marks a windowed limit (or a spent account).
const LONG_STREAK: u32 = 3;
/// Successes a window must have let through before its rate is believed.
const WINDOW_EVIDENCE: u32 = 10;

/// What the controller is doing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    /// No throttle seen yet: growing ×2 per second while callers wait.
    SlowStart,
    /// After a cut from `w_max` at `at`: the cubic back to `w_max` and above.
    Cubic {
        /// The rate the account accepted when the last cut came.
        w_max: f64,
        /// When the cut came.
        at: Instant,
    },
}

/// The rate controller of one limit group.
#[derive(Debug, Clone)]
pub struct RateControl {
    rate: f64,
    ceiling: f64,
    phase: Phase,
    slope: f64,
    grown_at: Instant,
    /// Release numbers: every release gets the next one.
    released: u64,
    /// Throttles of releases before this number do not cut again.
    cut_from: u64,
    /// Throttles of releases before this number do not lengthen the streak again.
    streak_from: u64,
    /// Refusals in a row, when the account is refusing: holds, probes, and the window's end.
    streak: Option<Streak>,
    hold_until: Option<Instant>,
    last_refused: Option<Instant>,
    /// The latest release refused.
    last_refused_release: Option<u64>,
    succeeded: bool,
    /// What was sent and how it was answered, by send time.
    sent: SentLog,
    /// When the last long streak ended (a windowed limit's cycle began).
    cycle_start: Instant,
    /// In a fleet: the fleet's pace, which replaces what this process measures (it sends
    /// only its share).
    fleet: Option<Fleet>,
}

impl RateControl {
    /// A controller starting at `rate` requests per second, never above `ceiling`.
    pub fn new(rate: f64, ceiling: f64, now: Instant) -> RateControl {
        let ceiling = ceiling.max(MIN_RATE);
        RateControl {
            rate: rate.clamp(MIN_RATE, ceiling),
            ceiling,
            phase: Phase::SlowStart,
            slope: PROBE,
            grown_at: now,
            released: 0,
            cut_from: 0,
            streak_from: 0,
            streak: None,
            hold_until: None,
            last_refused: None,
            last_refused_release: None,
            succeeded: false,
            sent: SentLog::default(),
            cycle_start: now,
            fleet: None,
        }
    }

    /// Follows the fleet's pace: after a cut made elsewhere (`new_epoch`), its cubic from
    /// `w_max`, cut `since_cut` ago, and its rate; otherwise the fleet's rate when another
    /// process grew it higher. From now on growth and cuts are judged by the fleet's rate, and
    /// slow start doubles the fleet's rate per second together with its other `members`.
    pub fn follow(
        &mut self,
        rate: f64,
        new_epoch: bool,
        (w_max, since_cut): (f64, Duration),
        members: u32,
        now: Instant,
    ) {
        let joining = self.fleet.is_none();
        self.fleet = Some(Fleet {
            rate,
            members: members.max(1),
        });
        if new_epoch {
            if w_max > 0.0 {
                // A process joining (or rejoining) a fleet that found its limit long ago
                // probes gently: at the steepest slope its first turn could lift the fleet
                // well past it.
                self.slope = if joining {
                    MIN_PROBE
                } else {
                    self.next_slope(w_max)
                };
                self.phase = Phase::Cubic {
                    w_max,
                    at: now.checked_sub(since_cut).unwrap_or(now),
                };
            }
            self.rate = rate.clamp(MIN_RATE, self.ceiling);
            // Answers to requests sent before the fleet's cut do not cut again.
            self.cut_from = self.released;
        } else {
            self.rate = self.rate.max(rate).clamp(MIN_RATE, self.ceiling);
        }
    }

    /// Leaves the fleet (its state cannot be reached): paces alone, at no more than `share`,
    /// and probes above it slowly, as after a cut that found the limit there (the fleet's
    /// cubic, scaled to the whole account, would take every process back to the account's
    /// rate).
    pub fn go_alone(&mut self, share: f64, now: Instant) {
        if self.fleet.take().is_some() {
            self.rate = self.rate.min(share).clamp(MIN_RATE, self.ceiling);
            let past_plateau = Duration::from_secs_f64(plateau());
            self.phase = Phase::Cubic {
                w_max: self.rate,
                at: now.checked_sub(past_plateau).unwrap_or(now),
            };
            self.slope = MIN_PROBE;
            self.grown_at = now;
        }
    }

    /// Whether the rate follows a fleet's.
    pub fn in_fleet(&self) -> bool {
        self.fleet.is_some()
    }

    /// The rate now, in requests per second.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// What it is doing.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether the rate is known: found by a throttle, or the ceiling given in advance. While
    /// it is still being found, a wait worked out from it says little about the wait to come.
    pub fn is_settled(&self) -> bool {
        matches!(self.phase, Phase::Cubic { .. }) || self.rate >= self.ceiling
    }

    /// Until when a streak of throttles holds every request back.
    pub fn hold_until(&self) -> Option<Instant> {
        self.hold_until
    }

    /// Whether a probe of a throttled account is out and not yet known to be let through:
    /// nothing else leaves until it answers or has been out longer than refusals take.
    pub fn probing(&self, now: Instant) -> bool {
        self.probe_settles_at().is_some_and(|at| at > now)
    }

    /// When the probe out counts as let through, if one is out.
    pub fn probe_settles_at(&self) -> Option<Instant> {
        self.sent.settles_at(self.streak?.probe?)
    }

    /// The probe, once out longer than refusals take, ends the streak as a success would.
    fn settle(&mut self, now: Instant) {
        if let Some(probe) = self.streak.and_then(|s| s.probe)
            && self.sent.any_let_through(probe, probe + 1, now)
        {
            self.streak_ended(now);
        }
    }

    /// A streak of throttles (if any) ended at `now` with a request let through.
    fn streak_ended(&mut self, now: Instant) {
        if let Some(streak) = self.streak.take()
            && streak.refusals >= LONG_STREAK
        {
            self.end_long_streak(streak.began, now);
        }
        self.succeeded = true;
    }

    /// Holds every request until `until` (a server's `retry-after`).
    pub fn hold(&mut self, until: Instant) {
        self.hold_until = Some(self.hold_until.map_or(until, |h| h.max(until)));
    }

    /// Lets one request go at `now`; `backlogged` says whether the pace held callers back (this
    /// one waited for its turn, or others wait behind it). Returns the release's number, to be
    /// given back with its outcome.
    pub fn release(&mut self, now: Instant, backlogged: bool) -> u64 {
        self.settle(now);
        self.grow(now, backlogged);
        self.sent.push(now);
        if let Some(streak) = &mut self.streak {
            streak.probe = Some(self.released);
        }
        self.released += 1;
        self.released - 1
    }

    /// Release `release` ended without a word on the limits (an error, or dropped).
    pub fn answered(&mut self, release: u64) {
        if let Some(streak) = &mut self.streak
            && streak.probe == Some(release)
        {
            streak.probe = None;
        }
    }

    /// Raises the rate for the time since the last call, if callers were waiting for it.
    fn grow(&mut self, now: Instant, backlogged: bool) {
        let elapsed = now.saturating_duration_since(self.grown_at).as_secs_f64();
        self.grown_at = now;
        // Grow only while callers wait for the pace, and not during a streak of throttles.
        if !backlogged || self.streak.is_some() {
            return;
        }
        let target = match self.phase {
            // In a fleet every process grows the shared rate: each by its part.
            Phase::SlowStart => {
                let part = f64::from(self.fleet.map_or(1, |f| f.members));
                self.rate * 2f64.powf(elapsed / DOUBLING.as_secs_f64() / part)
            }
            Phase::Cubic { w_max, at } => {
                let t = now.saturating_duration_since(at).as_secs_f64() - plateau();
                if t < 0.0 {
                    w_max * (1.0 + SCALE * t.powi(3))
                } else {
                    w_max * (1.0 + self.slope * t)
                }
            }
        };
        // Never more than twice what is really being sent: a rate nobody used is not known to
        // be safe (the AWS SDKs' rule).
        let measured = self.measured(now).unwrap_or(self.rate);
        self.rate = self
            .rate
            .max(target.min(2.0 * measured))
            .clamp(MIN_RATE, self.ceiling);
    }

    /// The rate requests were released at recently, from the last few dozen releases.
    pub fn measured(&self, now: Instant) -> Option<f64> {
        if let Some(fleet) = self.fleet {
            return Some(fleet.rate);
        }
        self.measured_here(now)
    }

    /// The rate this process released requests at recently.
    fn measured_here(&self, now: Instant) -> Option<f64> {
        self.sent.sending_rate(HISTORY, now)
    }

    /// The rate the account let requests through at, by when they were sent, over the
    /// [`ACCEPTED_OVER`] before `before` (a refused request's release).
    fn accepted(&self, before: Instant, now: Instant) -> Option<f64> {
        let here = self.sent.let_through_rate(before, ACCEPTED_OVER, now)?;
        match self.fleet.map(|f| f.rate) {
            // A process of a fleet sees its share of what the account accepted: the fleet's
            // turns interleave, so the share accepted is the share sent.
            Some(fleet) => Some(here / self.measured_here(now)? * fleet),
            None => Some(here),
        }
    }

    /// Release `release` succeeded at `now`.
    pub fn succeeded(&mut self, release: u64, now: Instant) {
        self.answered(release);
        self.sent.succeeded(release);
        // A success of a request sent before the streak began says nothing of the account now
        // (at MiniMax's latencies it comes seconds after the refusals that started the streak).
        if self.streak.is_none_or(|s| release > s.first_release) {
            self.streak_ended(now);
        }
        self.succeeded = true;
    }

    /// A long streak of throttles ended in a success at `now`: the limit is a window, which let
    /// the cycle's successes through; it opened between the last refused probe and `now`, so
    /// they came at most as fast as over the time up to that probe. The pace grows back to that
    /// rate along the cubic (from 0.95 × it) and probes above it as slowly as possible: a window
    /// is a stable limit. The next cycle starts now, at a time known exactly.
    fn end_long_streak(&mut self, began: Instant, now: Instant) {
        let refused_at = self.last_refused.unwrap_or(now);
        let active = refused_at
            .saturating_duration_since(self.cycle_start)
            .as_secs_f64();
        // A window refuses for part of each cycle; a refusal much longer than the time requests
        // got through is an outage, which says nothing about the rate.
        let sending = began
            .saturating_duration_since(self.cycle_start)
            .as_secs_f64();
        let refusing = refused_at.saturating_duration_since(began).as_secs_f64();
        // A process of a fleet sees only its share of what the window let through.
        let windowed = refusing <= 4.0 * sending && self.fleet.is_none();
        // What the window let through: the requests sent in the cycle before the refusals and
        // let through, by when they were sent (their answers may still be on their way).
        let through = self.sent.let_through_between(self.cycle_start, began, now);
        if windowed && through >= WINDOW_EVIDENCE && active > 0.0 {
            let at_most = f64::from(through) / active;
            if at_most < self.rate {
                self.phase = Phase::Cubic {
                    w_max: at_most,
                    at: now,
                };
                self.slope = MIN_PROBE;
                self.rate = (at_most * BETA).clamp(MIN_RATE, self.ceiling);
                self.cut_from = self.released;
            }
        }
        self.cycle_start = now;
    }

    /// The probing slope after a cut that found the limit at `limit`: a limit found where the
    /// last episode found it is probed less often.
    fn next_slope(&self, limit: f64) -> f64 {
        match self.phase {
            Phase::Cubic { w_max, .. } if (limit - w_max).abs() <= SAME_LIMIT * w_max => {
                (self.slope / 2.0).max(MIN_PROBE)
            }
            Phase::Cubic { .. } => PROBE,
            Phase::SlowStart => self.slope,
        }
    }

    /// Whether the group has seen a success (before that, throttles say the account is spent,
    /// not what its rate is).
    pub fn has_succeeded(&self) -> bool {
        self.succeeded
    }

    /// Release `release` was throttled at `now` by a limit other than the rate (characters):
    /// the streak's hold only. `server_wait` is the server's `retry-after`, which replaces the
    /// probe delay.
    pub fn held(&mut self, release: u64, now: Instant, server_wait: Option<Duration>) {
        self.throttle(release, now, false, server_wait);
    }

    /// Release `release` was throttled at `now`: the streak's hold (or the server's wait), and
    /// a cut of the rate if this is a new episode. Returns whether the rate was cut.
    pub fn throttled(&mut self, release: u64, now: Instant, server_wait: Option<Duration>) -> bool {
        self.throttle(release, now, true, server_wait)
    }

    fn throttle(
        &mut self,
        release: u64,
        now: Instant,
        may_cut: bool,
        server_wait: Option<Duration>,
    ) -> bool {
        self.answered(release);
        let sent_at = self.sent.refused(release, now);
        // Judged by when requests were sent, not by when answers came: a request sent since the
        // last refused one and let through ends the streak (its success may take seconds to
        // come back), and any request let through shows the account is not spent.
        let since = self
            .last_refused_release
            .map_or(self.sent.first(), |r| r + 1);
        let through_since = self.sent.any_let_through(since, release, now);
        if through_since && self.streak.is_some() {
            self.streak_ended(now);
        }
        if !self.succeeded
            && self
                .sent
                .any_let_through(self.sent.first(), self.released, now)
        {
            self.succeeded = true;
        }
        self.last_refused = Some(now);
        self.last_refused_release = Some(
            self.last_refused_release
                .map_or(release, |r| r.max(release)),
        );
        if release >= self.streak_from {
            let streak = self.streak.get_or_insert(Streak {
                refusals: 0,
                began: now,
                first_release: release,
                probe: None,
            });
            streak.refusals += 1;
            let refusals = streak.refusals;
            self.streak_from = self.released;
            let probe = Duration::from_secs_f64(1.0 / self.rate)
                .saturating_mul(1 << (refusals - 1).min(16))
                .min(MAX_HOLD);
            self.hold(now + server_wait.unwrap_or(probe));
        } else if let Some(wait) = server_wait {
            self.hold(now + wait);
        }
        let in_a_row = self.streak.map_or(0, |s| s.refusals);
        if !may_cut || !self.succeeded || in_a_row > 1 || release < self.cut_from {
            return false;
        }
        let sent = self.measured(now).map_or(self.rate, |m| m.min(self.rate));
        let limit = sent_at
            .and_then(|at| self.accepted(at, now))
            .map_or(sent, |a| a.min(sent));
        self.slope = self.next_slope(limit);
        self.phase = Phase::Cubic {
            w_max: limit,
            at: now,
        };
        self.rate = (limit * BETA).clamp(MIN_RATE, self.ceiling);
        self.cut_from = self.released;
        true
    }
}

/// The fleet's pace as a process of it follows it.
#[derive(Debug, Clone, Copy)]
struct Fleet {
    /// The rate the fleet's shared schedule sends at.
    rate: f64,
    /// The processes sending, each of which grows the fleet's rate in slow start.
    members: u32,
}

/// Refusals in a row: the account refuses whatever comes, and one probe at a time finds when
/// it lets requests through again.
#[derive(Debug, Clone, Copy)]
struct Streak {
    /// Refused releases in it.
    refusals: u32,
    /// When its first refusal came.
    began: Instant,
    /// The refused release that began it: a success of a release sent before says nothing.
    first_release: u64,
    /// The one release out probing the account.
    probe: Option<u64>,
}

/// Seconds from a cut to the cubic's plateau.
fn plateau() -> f64 {
    ((1.0 - BETA) / SCALE).cbrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_while_callers_wait_and_only_then() {
        let t0 = Instant::now();
        let mut rate = RateControl::new(10.0, f64::INFINITY, t0);
        let mut now = t0;
        for _ in 0..10 {
            now += Duration::from_millis(100);
            rate.release(now, false);
        }
        assert_eq!(rate.rate(), 10.0, "nobody waited: no reason to grow");
        for _ in 0..10 {
            now += Duration::from_millis(100);
            rate.release(now, true);
        }
        // Twice what was really sent (10/s) at most.
        assert!(rate.rate() > 15.0 && rate.rate() <= 20.0, "{}", rate.rate());
    }

    #[test]
    fn one_cut_per_episode_and_none_for_requests_sent_before_it() {
        let t0 = Instant::now();
        let mut rate = RateControl::new(30.0, f64::INFINITY, t0);
        let mut now = t0;
        let mut releases = Vec::new();
        for _ in 0..40 {
            now += Duration::from_millis(30);
            releases.push(rate.release(now, true));
        }
        rate.succeeded(releases[0], now);
        let before = rate.rate();
        assert!(rate.throttled(releases[30], now, None));
        let after = rate.rate();
        // Cut from the rate requests were really sent at (one per 30 ms), not the allowed one.
        let sent = 1000.0 / 30.0;
        assert!(
            after < before && (after - sent * BETA).abs() < 1.5,
            "{before} → {after}"
        );
        for &r in &releases[31..] {
            rate.succeeded(releases[1], now);
            assert!(!rate.throttled(r, now, None), "sent before the cut");
        }
        assert_eq!(rate.rate(), after);
        // A request sent after the cut is let through; the next refusal is a new episode. (A
        // success of a request sent before the refusals would not end their streak.)
        now += Duration::from_millis(40);
        let fresh = rate.release(now, true);
        rate.succeeded(fresh, now);
        now += Duration::from_millis(40);
        let next = rate.release(now, true);
        assert!(rate.throttled(next, now, None), "a new episode");
    }

    #[test]
    fn an_exhausted_account_holds_instead_of_cutting() {
        let t0 = Instant::now();
        let mut rate = RateControl::new(8.0, f64::INFINITY, t0);
        let mut now = t0;
        let mut holds = Vec::new();
        for _ in 0..6 {
            let release = rate.release(now, true);
            assert!(
                !rate.throttled(release, now, None),
                "no success yet: not a rate"
            );
            let hold = rate.hold_until().unwrap();
            holds.push(hold - now);
            now = hold;
        }
        assert_eq!(rate.rate(), 8.0);
        rate.release(now, true);
        assert!(rate.probing(now), "one probe out at a time");
        for pair in holds.windows(2) {
            assert_eq!(pair[1], (pair[0] * 2).min(MAX_HOLD), "{holds:?}");
        }
    }

    #[test]
    fn after_a_cut_the_rate_returns_to_the_old_one_slowly_then_probes() {
        let t0 = Instant::now();
        let mut rate = RateControl::new(30.0, f64::INFINITY, t0);
        let first = rate.release(t0, true);
        rate.succeeded(first, t0);
        let throttled = rate.release(t0, true);
        assert!(rate.throttled(throttled, t0, None));
        let cut = rate.rate();
        // Callers keep waiting; each release goes at the pace and succeeds.
        let mut now = t0;
        let mut at = |until: f64| {
            while now < t0 + Duration::from_secs_f64(until) {
                now += Duration::from_secs_f64(1.0 / rate.rate());
                let release = rate.release(now, true);
                rate.succeeded(release, now);
            }
            rate.rate()
        };
        let k = plateau();
        let one = at(1.0);
        let flat = at(k);
        let later = at(k + 5.0);
        assert!(
            cut < one && one < flat && flat <= 30.0 * 1.001,
            "{cut} {one} {flat}"
        );
        assert!(
            later > 30.0 && later < 30.0 * 1.15,
            "probes above the old rate, gently: {later}"
        );
    }

    /// A caller always waiting, answered at once by an account that admits `limit` requests a
    /// second (a bucket of 10). Returns the rate requests succeeded at over the last half of
    /// `secs`, and the share refused.
    fn simulate(limit: f64, secs: f64) -> (f64, f64) {
        let t0 = Instant::now();
        let mut rate = RateControl::new(8.3, f64::INFINITY, t0);
        let (mut now, mut tokens) = (t0, 10.0f64);
        let (mut late_ok, mut refused, mut answered) = (0u32, 0u32, 0u32);
        while now < t0 + Duration::from_secs_f64(secs) {
            let step = Duration::from_secs_f64(1.0 / rate.rate());
            let next = (now + step).max(rate.hold_until().unwrap_or(now));
            tokens = (tokens + limit * (next - now).as_secs_f64()).min(10.0);
            now = next;
            let release = rate.release(now, true);
            answered += 1;
            let ok = tokens >= 1.0;
            if ok {
                tokens -= 1.0;
            }
            if ok {
                rate.succeeded(release, now);
                if now >= t0 + Duration::from_secs_f64(secs / 2.0) {
                    late_ok += 1;
                }
            } else {
                refused += 1;
                rate.throttled(release, now, None);
            }
        }
        (
            f64::from(late_ok) / (secs / 2.0),
            f64::from(refused) / f64::from(answered),
        )
    }

    #[test]
    fn a_limit_is_found_and_kept() {
        let (ok_rate, refused) = simulate(30.0, 240.0);
        assert!(ok_rate > 0.9 * 30.0, "succeeded at {ok_rate:.1}/s");
        assert!(refused < 0.015, "{:.2} % refused", refused * 100.0);
    }
}
