//! The mock's account limits in-process, without HTTP: for simulations in tokio's paused time
//! (thousands of callers in a fraction of a real second) by tests and benchmarks of clients.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
//! use minimax_mock::sim::{Simulated, Ask};
//! use minimax_mock::KeyConfig;
//! use minimax_errors::Dialect;
//! use std::time::Duration;
//!
//! let account = Simulated::new(KeyConfig { rpm: Some(60), burst: Some(1), ..KeyConfig::unlimited() }, Duration::from_millis(50));
//! let ask = Ask { dialect: Dialect::Native, characters: 0 };
//! assert_eq!(account.call(ask).await.status, 200);
//! let refused = account.call(ask).await;
//! assert!(String::from_utf8_lossy(&refused.body).contains("1002"));
//! assert_eq!(account.calls(), 2);
//! # });
//! ```

use crate::config::KeyConfig;
use crate::limits::Account;
use crate::scenario::Latency;
use bytes::Bytes;
use minimax_errors::{Dialect, ErrorCode};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::time::{Duration, Instant};

/// What a call asks of the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ask {
    /// Native (HTTP 200 + `base_resp`) or compatible (real status) answers.
    pub dialect: Dialect,
    /// T2A characters it spends, or 0 for a chat call.
    pub characters: u64,
}

/// An answer as MiniMax would give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Bytes,
}

/// One account, answering on tokio's clock. A call is admitted or refused as it arrives (its
/// connection slot, then the rate); the answer comes after its latency, drawn per call, with
/// the slot held until then (a refusal comes after 20 ms: MiniMax answers throttles at once).
#[derive(Debug)]
pub struct Simulated {
    account: Mutex<Account>,
    latency: Latency,
    latency_rng: Mutex<fastrand::Rng>,
    /// The longest latency drawn so far.
    longest: Mutex<Duration>,
    refusal_latency: Duration,
    /// The share of calls answered 2064 (the cluster overloaded, not a limit of the account),
    /// and the generator that picks them.
    overload: Option<(f64, Mutex<fastrand::Rng>)>,
    outage: Option<(Instant, Instant)>,
    /// The share of calls refused with 1002 whatever the limits say, and the generator that
    /// picks them.
    stray: Option<(f64, Mutex<fastrand::Rng>)>,
    calls: AtomicU64,
    /// Whether a refusal has been answered yet, and the calls that came after the first.
    refused: std::sync::atomic::AtomicBool,
    after_refusal: AtomicU64,
}

impl Simulated {
    /// An account with `limits`, starting now.
    pub fn new(limits: KeyConfig, latency: Duration) -> Simulated {
        Simulated {
            account: Mutex::new(Account::new_at(limits, Instant::now().into_std())),
            latency: Latency::fixed(latency),
            latency_rng: Mutex::new(fastrand::Rng::with_seed(11)),
            longest: Mutex::new(Duration::ZERO),
            refusal_latency: Duration::from_millis(20),
            overload: None,
            outage: None,
            stray: None,
            calls: AtomicU64::new(0),
            refused: std::sync::atomic::AtomicBool::new(false),
            after_refusal: AtomicU64::new(0),
        }
    }

    /// Answers after latencies drawn from `latency` (seeded with `seed`) instead.
    pub fn with_latency(mut self, latency: Latency, seed: u64) -> Simulated {
        self.latency = latency;
        self.latency_rng = Mutex::new(fastrand::Rng::with_seed(seed));
        self
    }

    /// A `share` of calls is answered 2064 (the cluster is overloaded) after its latency,
    /// picked by a generator seeded with `seed`: a transient fault that says nothing about the
    /// caller's rate. Such calls spend the account's rate as any admitted call does.
    pub fn with_overload(mut self, share: f64, seed: u64) -> Simulated {
        self.overload = Some((share, Mutex::new(fastrand::Rng::with_seed(seed))));
        self
    }

    /// Every answer is 1002 from `from` to `to` after now.
    pub fn with_outage(mut self, from: Duration, to: Duration) -> Simulated {
        let now = Instant::now();
        self.outage = Some((now + from, now + to));
        self
    }

    /// A `share` of calls is refused with 1002 whatever the limits say, picked by a generator
    /// seeded with `seed`: refusals that say nothing about the caller's rate, as a gateway or a
    /// fault injector may give. They do not spend the account's limits.
    pub fn with_stray_refusals(mut self, share: f64, seed: u64) -> Simulated {
        self.stray = Some((share, Mutex::new(fastrand::Rng::with_seed(seed))));
        self
    }

    /// The longest latency an answer took so far: no run of calls ends sooner.
    pub fn longest_latency(&self) -> Duration {
        *lock(&self.longest)
    }

    /// Calls answered so far (the API's view: every attempt counts).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Calls that arrived after the first refusal had been answered: what a client sent
    /// knowing the account refuses.
    pub fn calls_after_refusal(&self) -> u64 {
        self.after_refusal.load(Ordering::Relaxed)
    }

    /// Uses up one request of the account, as another process sharing it would.
    pub fn consume(&self) {
        let _ = lock(&self.account).admit(Instant::now().into_std());
    }

    /// Answers one call.
    pub async fn call(&self, ask: Ask) -> Answer {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if self.refused.load(Ordering::Relaxed) {
            self.after_refusal.fetch_add(1, Ordering::Relaxed);
        }
        let now = Instant::now();
        let stray = self
            .stray
            .as_ref()
            .is_some_and(|(share, rng)| lock(rng).f64() < *share);
        let mut slot = None;
        let verdict = if stray
            || self
                .outage
                .is_some_and(|(from, to)| from <= now && now < to)
        {
            Err((ErrorCode::RATE_LIMIT, None))
        } else {
            let mut account = lock(&self.account);
            let std_now = now.into_std();
            account
                .connect()
                .map(|taken| slot = Some(taken))
                .and_then(|()| account.admit(std_now))
                .and_then(|()| {
                    if ask.characters > 0 {
                        account.spend_characters(ask.characters, std_now)
                    } else {
                        Ok(())
                    }
                })
                .map_err(|code| {
                    // A spent plan window is told in MiniMax's words, reset time included.
                    let message = (code == ErrorCode::USAGE_LIMIT_EXCEEDED)
                        .then(|| account.exhausted_message(std_now));
                    (code, message)
                })
        };
        let verdict = match verdict {
            Ok(())
                if self
                    .overload
                    .as_ref()
                    .is_some_and(|(share, rng)| lock(rng).f64() < *share) =>
            {
                Err((ErrorCode::SERVER_OVERLOADED, None))
            }
            other => other,
        };
        let refused = matches!(verdict, Err((code, _)) if code != ErrorCode::SERVER_OVERLOADED);
        let wait = if refused {
            self.refusal_latency
        } else {
            let drawn = self.latency.sample(&mut lock(&self.latency_rng));
            let mut longest = lock(&self.longest);
            *longest = (*longest).max(drawn);
            drawn
        };
        tokio::time::sleep(wait).await;
        drop(slot);
        if refused {
            self.refused.store(true, Ordering::Relaxed);
        }
        answer(ask.dialect, verdict.err())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

fn answer(dialect: Dialect, error: Option<(ErrorCode, Option<String>)>) -> Answer {
    match error {
        Some((code, message)) => {
            let message = message.as_deref().unwrap_or(code.info().message.en);
            let answer = minimax_errors::wire::error(dialect, code, message, "sim");
            Answer {
                status: answer.status,
                body: Bytes::from(answer.body),
            }
        }
        None => {
            let body = match dialect {
                Dialect::Native => {
                    r#"{"choices":[{"message":{"content":"ok"}}],"data":{"audio":"00","status":2},"base_resp":{"status_code":0,"status_msg":""}}"#
                }
                Dialect::Compatible => {
                    r#"{"id":"x","choices":[{"message":{"content":"ok"},"finish_reason":"stop"}]}"#
                }
            };
            Answer {
                status: 200,
                body: Bytes::from_static(body.as_bytes()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(body: &Bytes) -> bool {
        String::from_utf8_lossy(body).contains("1002")
    }

    #[tokio::test(start_paused = true)]
    async fn stray_refusals_come_at_their_share_and_spend_nothing() {
        let unlimited = KeyConfig::unlimited();
        let ask = Ask {
            dialect: Dialect::Native,
            characters: 0,
        };
        let account = Simulated::new(unlimited.clone(), Duration::from_millis(1))
            .with_stray_refusals(0.05, 7);
        let mut count = 0;
        for _ in 0..4000 {
            count += usize::from(refused(&account.call(ask).await.body));
        }
        assert!((150..250).contains(&count), "{count} of 4000 refused");

        // One request a minute: the refusals do not use it up.
        let one_a_minute = KeyConfig {
            rpm: Some(1),
            burst: Some(1),
            ..unlimited
        };
        let account =
            Simulated::new(one_a_minute, Duration::from_millis(1)).with_stray_refusals(1.0, 7);
        for _ in 0..3 {
            assert!(refused(&account.call(ask).await.body));
        }
        let account = Simulated {
            stray: None,
            ..account
        };
        assert_eq!(
            account.call(ask).await.status,
            200,
            "the minute's request is still there"
        );
    }
}
