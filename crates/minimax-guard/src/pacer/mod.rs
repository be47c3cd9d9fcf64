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

mod cap;
mod config;
mod fleet;
mod group;
mod permit;
pub mod rate;
mod sent;
pub mod window;

use crate::clock::{Clock, TokioClock};
use crate::shared::SharedState;
pub use config::{GroupLimits, PacingConfig, Plan};
use group::Group;
use minimax_errors::LimitGroup;
pub use permit::{Permit, Throttle};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::time::{Duration, Instant};

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
