//! # minimax-fleet
//!
//! Many processes, one MiniMax account: the guard's pace (one schedule of turns and one
//! learned rate per account and limit group), its account breaker and the monitor's alert
//! incidents, shared through Redis. A process that joins starts at the fleet's rate; a throttle
//! seen by one process slows them all; 1004/2049/1008/2056 in one process makes every process
//! fail fast; each alert is sent once per fleet, on counts summed over it.
//!
//! When Redis is down, slow, restarted or flushed, calls go on: each process paces alone at its
//! share of the fleet's last rate (said once in the log and in `minimax_shared_state_up`), no
//! Redis operation holds a call longer than [`RedisOptions::timeout`], and the fleet's state is
//! taken up again soon after Redis returns (it is tried every 200 ms). Redis holds fingerprints of keys, never
//! keys, and every entry expires.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use minimax_fleet::{RedisOptions, RedisState};
//! use minimax_guard::MiniMaxClient;
//!
//! let shared = RedisState::connect("redis://127.0.0.1:6379/0", RedisOptions::default()).await?;
//! let client = MiniMaxClient::builder().shared_state(shared.as_shared_state()).build()?;
//! # let _ = client; Ok(()) }
//! ```

#![warn(missing_docs)]

mod backend;
mod health;

pub use backend::StateBackend;

use async_trait::async_trait;
use health::Health;
use minimax_errors::ErrorCode;
use minimax_guard::pacer::AccountId;
use minimax_guard::shared::{
    FleetPace, SharedState, SharedTrip, ThrottleNews, Turn, TurnAsk, Unshared,
};
use minimax_monitor::AlertStatus;
use minimax_monitor::fleet::{RuleCount, SharedIncidents};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the Redis state is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisOptions {
    /// The prefix of every key (fleets that must not share state use different ones).
    pub namespace: String,
    /// The longest a Redis operation may hold a call; past it the call goes on alone.
    pub timeout: Duration,
}

impl Default for RedisOptions {
    fn default() -> RedisOptions {
        RedisOptions {
            namespace: "mmerr".to_string(),
            timeout: Duration::from_millis(50),
        }
    }
}

/// The URL could not be used.
#[derive(Debug, thiserror::Error)]
#[error("shared state {url}: {reason}")]
pub struct StateError {
    url: String,
    reason: String,
}

/// State shared through Redis. Cheap to clone.
#[derive(Clone)]
pub struct RedisState {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    /// Where Redis is, without credentials, for the log.
    place: String,
    options: RedisOptions,
    conn: Mutex<Option<ConnectionManager>>,
    health: Health,
    /// This process, among the fleet's members.
    member: String,
    /// Operations sent to Redis.
    operations: std::sync::atomic::AtomicU64,
    scripts: Scripts,
}

struct Scripts {
    turn: redis::Script,
    throttled: redis::Script,
    exchange: redis::Script,
    tripped: redis::Script,
}

impl std::fmt::Debug for RedisState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisState")
            .field("place", &self.inner.place)
            .field("namespace", &self.inner.options.namespace)
            .finish_non_exhaustive()
    }
}

/// Entries about the pace of a group idle this long expire.
const PACE_TTL: Duration = Duration::from_secs(600);
/// A process's alert counts stand this long after it last sent them.
const COUNTS_STAND: Duration = Duration::from_secs(10);
/// Alert counts of a fleet that stopped expire after this.
const COUNTS_TTL: Duration = Duration::from_secs(120);

/// An open breaker as Redis keeps it (the trace id was scrubbed when it was read).
#[derive(Serialize, Deserialize)]
struct StoredTrip {
    code: i64,
    trace_id: Option<String>,
    resets_at: Option<i64>,
}

impl RedisState {
    /// Connects to Redis at `url` (`redis://[:password@]host:port/db`). A Redis that cannot
    /// be reached now is not an error: calls go on alone until it can.
    pub async fn connect(url: &str, options: RedisOptions) -> Result<RedisState, StateError> {
        let client = redis::Client::open(url).map_err(|e| StateError {
            url: redacted(url),
            reason: e.to_string(),
        })?;
        let place = client.get_connection_info().addr().to_string();
        let state = RedisState {
            inner: Arc::new(Inner {
                client,
                place,
                options,
                conn: Mutex::new(None),
                health: Health::default(),
                member: format!("{:016x}", fastrand::u64(..)),
                operations: std::sync::atomic::AtomicU64::new(0),
                scripts: Scripts {
                    turn: redis::Script::new(include_str!("turn.lua")),
                    throttled: redis::Script::new(include_str!("throttled.lua")),
                    exchange: redis::Script::new(include_str!("exchange.lua")),
                    tripped: redis::Script::new(include_str!("tripped.lua")),
                },
            }),
        };
        if state.open().await.is_none() {
            tracing::warn!(redis = %state.inner.place, "the shared state is not reachable; each process paces alone until it is");
        }
        Ok(state)
    }

    /// The state as the guard uses it: `ClientBuilder::shared_state`, `Executor::with_shared`.
    pub fn as_shared_state(&self) -> Arc<dyn SharedState> {
        Arc::new(self.clone())
    }

    /// The state as the monitor uses it: `Monitor::share_incidents`.
    pub fn as_shared_incidents(&self) -> Arc<dyn SharedIncidents> {
        Arc::new(self.clone())
    }

    /// Operations sent to Redis so far (each one round trip).
    pub fn operations(&self) -> u64 {
        self.inner
            .operations
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether Redis answered the last operation.
    pub fn is_up(&self) -> bool {
        self.inner.health.is_up()
    }

    fn key(&self, parts: &[&str]) -> String {
        let mut key = self.inner.options.namespace.clone();
        for part in parts {
            key.push(':');
            key.push_str(part);
        }
        key
    }

    /// The connection. When there is none yet, one is opened in the background (at most once
    /// every 200 ms while Redis is away) and the caller goes on without: no call waits for a
    /// connection to be made.
    async fn connection(&self) -> Option<ConnectionManager> {
        if let Some(conn) = lock(&self.inner.conn).clone() {
            return Some(conn);
        }
        if self.inner.health.may_try()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let state = self.clone();
            runtime.spawn(async move { state.open().await });
        }
        None
    }

    /// Opens the connection, bounded by the timeout.
    async fn open(&self) -> Option<ConnectionManager> {
        let timeout = self.inner.options.timeout;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let opened = tokio::time::timeout(
            timeout * 2,
            ConnectionManager::new_with_config(self.inner.client.clone(), config),
        )
        .await;
        match opened {
            Ok(Ok(conn)) => {
                *lock(&self.inner.conn) = Some(conn.clone());
                self.inner.health.answered(&self.inner.place);
                Some(conn)
            }
            _ => {
                self.inner.health.failed(&self.inner.place);
                None
            }
        }
    }

    /// Runs `op` on the connection, bounded by the timeout; records how Redis answered.
    async fn run<T, F, Fut>(&self, op: F) -> Result<T, Unshared>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let conn = self.connection().await.ok_or(Unshared)?;
        if !self.inner.health.may_try() {
            return Err(Unshared);
        }
        self.inner
            .operations
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match tokio::time::timeout(self.inner.options.timeout, op(conn)).await {
            Ok(Ok(value)) => {
                self.inner.health.answered(&self.inner.place);
                Ok(value)
            }
            Ok(Err(error)) => {
                tracing::debug!(%error, "shared state operation failed");
                self.inner.health.failed(&self.inner.place);
                Err(Unshared)
            }
            Err(_) => {
                self.inner.health.failed(&self.inner.place);
                Err(Unshared)
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// `url` without its password, for messages.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://…@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

fn epoch_of(text: &str) -> u64 {
    text.parse().unwrap_or(0)
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

fn trip_of(stored: &str, ttl_ms: i64) -> Option<SharedTrip> {
    if stored.is_empty() || ttl_ms <= 0 {
        return None;
    }
    let stored: StoredTrip = serde_json::from_str(stored).ok()?;
    Some(SharedTrip {
        code: ErrorCode::new(stored.code),
        trace_id: stored.trace_id,
        remaining: Duration::from_millis(ttl_ms.unsigned_abs()),
        resets_at: stored.resets_at,
    })
}

type TurnReply = (
    i64,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    i64,
);

#[async_trait]
impl SharedState for RedisState {
    async fn turn(&self, ask: TurnAsk) -> Result<Turn, Unshared> {
        let account = ask.account.to_string();
        let keys = [
            self.key(&["pace", &account, ask.group.as_str()]),
            self.key(&["members", &account, ask.group.as_str()]),
            self.key(&["breaker", &account]),
        ];
        let max_wait = ask.max_wait.map_or(-1, micros);
        let scripts = &self.inner.scripts;
        let reply: TurnReply = self
            .run(|mut conn| async move {
                scripts
                    .turn
                    .key(&keys[..])
                    .arg(ask.start.rate)
                    .arg(ask.proposed_rate)
                    .arg(ask.epoch.to_string())
                    .arg(max_wait)
                    .arg(&self.inner.member)
                    .arg(PACE_TTL.as_millis() as u64)
                    .arg(fastrand::u64(1..).to_string())
                    .arg(ask.start.w_max)
                    .arg(micros(ask.start.since_cut))
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        let (took, wait, rate, epoch, w_max, since_cut, members, trip, trip_ttl) = reply;
        let number = |text: &str| text.parse::<f64>().unwrap_or(0.0);
        let wait_us = number(&wait).max(0.0);
        Ok(Turn {
            wait: (took == 1).then(|| Duration::from_micros(wait_us as u64)),
            pace: FleetPace {
                rate: number(&rate).max(minimax_guard::pacer::rate::MIN_RATE),
                epoch: epoch_of(&epoch),
                w_max: number(&w_max),
                since_cut: Duration::from_micros(number(&since_cut).max(0.0) as u64),
            },
            members: u32::try_from(members).unwrap_or(1).max(1),
            tripped: trip_of(&trip, trip_ttl),
        })
    }

    async fn throttled(&self, news: ThrottleNews) -> Result<(), Unshared> {
        let account = news.account.to_string();
        let key = self.key(&["pace", &account, news.group.as_str()]);
        let (cut, rate, w_max) = match news.cut {
            Some((rate, w_max)) => ("1", rate, w_max),
            None => ("0", 0.0, 0.0),
        };
        let hold = news.hold.map_or(0, micros);
        let scripts = &self.inner.scripts;
        let _: i64 = self
            .run(|mut conn| async move {
                scripts
                    .throttled
                    .key(key)
                    .arg(news.epoch.to_string())
                    .arg(cut)
                    .arg(rate)
                    .arg(w_max)
                    .arg(hold)
                    .arg(fastrand::u64(1..).to_string())
                    .arg(PACE_TTL.as_millis() as u64)
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        Ok(())
    }

    async fn trip(&self, account: AccountId, trip: SharedTrip) -> Result<(), Unshared> {
        let key = self.key(&["breaker", &account.to_string()]);
        let stored = StoredTrip {
            code: trip.code.as_i64(),
            trace_id: trip.trace_id,
            resets_at: trip.resets_at,
        };
        let value = serde_json::to_string(&stored).map_err(|_| Unshared)?;
        let ttl = u64::try_from(trip.remaining.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        self.run(|mut conn| async move {
            redis::cmd("SET")
                .arg(key)
                .arg(value)
                .arg("PX")
                .arg(ttl)
                .query_async::<()>(&mut conn)
                .await
        })
        .await
    }

    async fn tripped(&self, account: AccountId) -> Result<Option<SharedTrip>, Unshared> {
        let key = self.key(&["breaker", &account.to_string()]);
        let scripts = &self.inner.scripts;
        let (stored, ttl): (String, i64) = self
            .run(|mut conn| async move { scripts.tripped.key(key).invoke_async(&mut conn).await })
            .await?;
        Ok(trip_of(&stored, ttl))
    }
}

#[async_trait]
impl SharedIncidents for RedisState {
    async fn exchange(&self, counts: Vec<RuleCount>) -> Result<Vec<RuleCount>, Unshared> {
        if counts.is_empty() {
            return Ok(counts);
        }
        let mut script = self.inner.scripts.exchange.prepare_invoke();
        for count in &counts {
            script.key(self.key(&["alerts", &count.key]));
        }
        script
            .arg(&self.inner.member)
            .arg(COUNTS_STAND.as_millis() as u64)
            .arg(COUNTS_TTL.as_millis() as u64);
        for count in &counts {
            script
                .arg(count.count)
                .arg(count.first_ms)
                .arg(count.last_ms);
        }
        let totals: Vec<(String, String, String)> = self
            .run(|mut conn| async move { script.invoke_async(&mut conn).await })
            .await?;
        let number = |text: &str| text.parse::<u64>().unwrap_or(0);
        Ok(counts
            .into_iter()
            .zip(totals)
            .map(|(local, (count, first, last))| RuleCount {
                key: local.key,
                count: number(&count),
                first_ms: number(&first),
                last_ms: number(&last),
            })
            .collect())
    }

    async fn claim(
        &self,
        incident: &str,
        status: AlertStatus,
        open_for: Duration,
    ) -> Result<bool, Unshared> {
        let key = self.key(&["incident", incident]);
        let ttl = u64::try_from(open_for.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        self.run(|mut conn| async move {
            match status {
                AlertStatus::Firing => {
                    let set: Option<String> = redis::cmd("SET")
                        .arg(&key)
                        .arg("open")
                        .arg("NX")
                        .arg("PX")
                        .arg(ttl)
                        .query_async(&mut conn)
                        .await?;
                    Ok(set.is_some())
                }
                AlertStatus::Resolved => {
                    let removed: i64 = redis::cmd("DEL").arg(&key).query_async(&mut conn).await?;
                    Ok(removed == 1)
                }
            }
        })
        .await
    }
}
