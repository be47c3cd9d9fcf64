//! State shared by the processes of a fleet that call MiniMax with one account: the pace (one
//! schedule of turns and one learned rate per account and limit group) and the account
//! breaker. The guard defines what it needs; `minimax-fleet` keeps it in Redis. Without a
//! shared state everything stays in the process.
//!
//! Every method may fail with [`Unshared`] (the store is down, slow or unreachable): the caller
//! then goes on with its own state, and the store says so once in its log.

use crate::pacer::AccountId;
use async_trait::async_trait;
use minimax_errors::{ErrorCode, LimitGroup};
use std::fmt;
use tokio::time::Duration;

/// The shared store could not be used for this operation; the caller goes on alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the shared state is not reachable")]
pub struct Unshared;

/// The fleet's pace of one account's limit group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FleetPace {
    /// Requests per second the fleet's turns are spaced at.
    pub rate: f64,
    /// Changes with every cut of the rate (a random start, so a flushed store is noticed).
    pub epoch: u64,
    /// The rate the account accepted when the last cut came (0 before any cut).
    pub w_max: f64,
    /// How long ago the last cut came.
    pub since_cut: Duration,
}

/// A turn asked of the fleet's schedule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TurnAsk {
    /// Whose limits.
    pub account: AccountId,
    /// Which group.
    pub group: LimitGroup,
    /// Where to start the fleet's pace when it has none yet (a new fleet, or Redis restarted
    /// or flushed): the fleet's pace as this process last saw it, else its own rate. Its
    /// epoch is not used.
    pub start: FleetPace,
    /// This process's rate: the fleet's grows to it when it is higher within the same epoch.
    pub proposed_rate: f64,
    /// The epoch this process's rate belongs to.
    pub epoch: u64,
    /// The longest the caller can wait for its turn (its deadline).
    pub max_wait: Option<Duration>,
}

/// A turn in the fleet's schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    /// How long to wait before sending; `None` when the turn would come after `max_wait` (no
    /// turn was taken).
    pub wait: Option<Duration>,
    /// The fleet's pace after this turn.
    pub pace: FleetPace,
    /// Processes that asked for turns of this group lately (this one included).
    pub members: u32,
    /// The account's breaker, when another process opened it.
    pub tripped: Option<SharedTrip>,
}

/// A throttle seen by this process, for the fleet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThrottleNews {
    /// Whose limits.
    pub account: AccountId,
    /// Which group.
    pub group: LimitGroup,
    /// The epoch the throttled request was sent in: a cut counts only once per epoch.
    pub epoch: u64,
    /// The cut this process made: its new rate and the rate the account accepted.
    pub cut: Option<(f64, f64)>,
    /// How long every process holds its requests (a probe delay or the server's wait).
    pub hold: Option<Duration>,
}

/// An open account breaker as the fleet keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedTrip {
    /// The account-level code.
    pub code: ErrorCode,
    /// The trace id of the answer that opened it (already scrubbed).
    pub trace_id: Option<String>,
    /// How long calls keep failing fast.
    pub remaining: Duration,
    /// When the plan window resets (Unix seconds), for a spent window.
    pub resets_at: Option<i64>,
}

/// Where the fleet's state lives.
#[async_trait]
pub trait SharedState: Send + Sync + fmt::Debug {
    /// Takes the next turn of the fleet's schedule for `ask`'s group.
    async fn turn(&self, ask: TurnAsk) -> Result<Turn, Unshared>;
    /// Tells the fleet of a throttle: a cut of the rate (once per epoch) and a hold.
    async fn throttled(&self, news: ThrottleNews) -> Result<(), Unshared>;
    /// Opens `account`'s breaker for the fleet.
    async fn trip(&self, account: AccountId, trip: SharedTrip) -> Result<(), Unshared>;
    /// The account's breaker, when another process opened it (for calls that are not paced).
    async fn tripped(&self, account: AccountId) -> Result<Option<SharedTrip>, Unshared>;
}
