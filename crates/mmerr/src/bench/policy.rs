//! The clients compared, each as its own documentation or source describes its retries: none,
//! the seed's Python wrapper, the OpenAI SDK, the AWS SDKs' standard and adaptive modes, and
//! the guard's default. None is told the account's limit.

use super::upstream::{Request, Upstream};
use minimax_errors::classify::{Outcome, classify};
use minimax_errors::{Category, Dialect, Endpoint, ErrorCode};
use minimax_guard::{Call, Executor, RawResponse, RetryConfig};
use serde::Serialize;
use std::sync::Mutex;
use tokio::time::{Duration, Instant, sleep};

/// A client policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    /// One call, no retry.
    NoRetry,
    /// The original Python sketch's `safe_api_call`: 3 retries of the codes its table marks retryable,
    /// `backoff^attempt + U(0.1, 0.5)` seconds apart.
    Sketch,
    /// The OpenAI Python SDK's defaults on the compatible endpoint: 2 retries of 408, 409, 429
    /// and 5xx, 0.5 s doubling to 8 s with up to 25 % jitter, `retry-after` honoured.
    Openai,
    /// The AWS SDKs' standard mode: 3 attempts, full jitter (1 s base, 20 s cap), a 500-token
    /// retry quota (a throttling retry costs 5, another 14, a first-try success gives 1 back).
    AwsStandard,
    /// Standard mode plus the CUBIC client rate limiter of the AWS SDKs' adaptive mode.
    AwsAdaptive,
    /// `minimax-guard` with `RetryConfig::default()`: paced, limit unknown.
    Guard,
}

impl Policy {
    /// Every policy, in the table's order.
    pub const ALL: [Policy; 6] = [
        Policy::NoRetry,
        Policy::Sketch,
        Policy::Openai,
        Policy::AwsStandard,
        Policy::AwsAdaptive,
        Policy::Guard,
    ];

    /// Its name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Policy::NoRetry => "no retries",
            Policy::Sketch => "python sketch",
            Policy::Openai => "openai sdk",
            Policy::AwsStandard => "aws standard",
            Policy::AwsAdaptive => "aws adaptive",
            Policy::Guard => "minimax-guard",
        }
    }

    /// The dialect it talks: the OpenAI SDK lives on the compatible endpoint, where limits
    /// come as HTTP 429; the others read MiniMax's native answers.
    pub fn dialect(self) -> Dialect {
        match self {
            Policy::Openai => Dialect::Compatible,
            _ => Dialect::Native,
        }
    }
}

/// How one attempt went, as the anchors see it.
enum Seen {
    Ok,
    Code(ErrorCode, u16),
    Unreadable(u16),
}

fn seen(answer: &RawResponse, endpoint: Endpoint) -> Seen {
    match classify(&answer.body, answer.status, &answer.headers, endpoint) {
        Outcome::Success(_) => Seen::Ok,
        Outcome::ApiError(e) => Seen::Code(e.code, e.http_status),
        Outcome::Malformed(m) => Seen::Unreadable(m.http_status),
    }
}

/// The state a policy shares between its calls.
pub struct Client {
    policy: Policy,
    endpoint: Endpoint,
    rng: Mutex<fastrand::Rng>,
    quota: Mutex<u32>,
    limiter: Mutex<Cubic>,
    /// botocore's bucket lets one caller at a time wait for a token.
    turnstile: tokio::sync::Mutex<()>,
    executor: Executor,
}

/// What one request came to.
pub struct Done {
    /// Whether it succeeded.
    pub ok: bool,
}

impl Client {
    /// A client of `policy` for `endpoint`, seeded.
    pub fn new(policy: Policy, endpoint: Endpoint, seed: u64) -> Client {
        Client {
            policy,
            endpoint,
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
            quota: Mutex::new(500),
            limiter: Mutex::new(Cubic::new(Instant::now())),
            turnstile: tokio::sync::Mutex::new(()),
            executor: Executor::new(RetryConfig::default()).with_seed(seed),
        }
    }

    fn unit(&self) -> f64 {
        self.rng.lock().unwrap_or_else(|e| e.into_inner()).f64()
    }

    /// Sends one request the policy's way.
    pub async fn request(&self, upstream: &Upstream, characters: u64) -> Done {
        let request = Request {
            dialect: self.policy.dialect(),
            characters,
        };
        match self.policy {
            Policy::NoRetry => Done {
                ok: matches!(self.attempt(upstream, request).await, Some(Seen::Ok)),
            },
            Policy::Sketch => self.sketch(upstream, request).await,
            Policy::Openai => self.openai(upstream, request).await,
            Policy::AwsStandard | Policy::AwsAdaptive => self.aws(upstream, request).await,
            Policy::Guard => {
                let call = Call::new(self.endpoint).characters(characters);
                let result = self.executor.execute(call, || upstream.call(request)).await;
                Done { ok: result.is_ok() }
            }
        }
    }

    async fn attempt(&self, upstream: &Upstream, request: Request) -> Option<Seen> {
        let answer = upstream.call(request).await.ok()?;
        Some(seen(&answer, self.endpoint))
    }

    async fn sketch(&self, upstream: &Upstream, request: Request) -> Done {
        const MAX_RETRIES: u32 = 3;
        for attempt in 0..=MAX_RETRIES {
            let backoff = match self.attempt(upstream, request).await {
                Some(Seen::Ok) => return Done { ok: true },
                // The seed's table marks only these retryable (1039 has a retry config but no
                // flag, so it is never retried).
                Some(Seen::Code(code, _)) => match code.as_i64() {
                    1000 => 1.5,
                    1001 | 1002 => 2.0,
                    _ => return Done { ok: false },
                },
                // An exception: 2^attempt seconds.
                Some(Seen::Unreadable(_)) | None => 2.0,
            };
            if attempt == MAX_RETRIES {
                break;
            }
            let delay = f64::powi(backoff, attempt as i32) + 0.1 + 0.4 * self.unit();
            sleep(Duration::from_secs_f64(delay)).await;
        }
        Done { ok: false }
    }

    async fn openai(&self, upstream: &Upstream, request: Request) -> Done {
        const MAX_RETRIES: u32 = 2;
        for retry in 0..=MAX_RETRIES {
            let status = match self.attempt(upstream, request).await {
                Some(Seen::Ok) => return Done { ok: true },
                Some(Seen::Code(_, status) | Seen::Unreadable(status)) => Some(status),
                None => None,
            };
            let retryable = status.is_none_or(|s| matches!(s, 408 | 409 | 429) || s >= 500);
            if !retryable || retry == MAX_RETRIES {
                break;
            }
            let base = (0.5 * 2f64.powi(retry as i32)).min(8.0);
            let delay = base * (1.0 - 0.25 * self.unit());
            sleep(Duration::from_secs_f64(delay)).await;
        }
        Done { ok: false }
    }

    async fn aws(&self, upstream: &Upstream, request: Request) -> Done {
        const MAX_ATTEMPTS: u32 = 3;
        let adaptive = self.policy == Policy::AwsAdaptive;
        let mut withdrawn = 0;
        for attempt in 1..=MAX_ATTEMPTS {
            if adaptive {
                // Waiters see every rate change: the wait is worked out again after each sleep.
                let _turn = self.turnstile.lock().await;
                loop {
                    let wait = lock(&self.limiter).acquire(Instant::now());
                    if wait.is_zero() {
                        break;
                    }
                    sleep(wait).await;
                }
            }
            let result = self.attempt(upstream, request).await;
            let throttled = matches!(result, Some(Seen::Code(code, _)) if code.info_on(self.endpoint).category == Category::Throttling)
                || matches!(result, Some(Seen::Unreadable(429)));
            if adaptive {
                lock(&self.limiter).update(throttled, Instant::now());
            }
            let retryable = match &result {
                Some(Seen::Ok) => {
                    let mut quota = lock(&self.quota);
                    *quota = (*quota + if withdrawn > 0 { withdrawn } else { 1 }).min(500);
                    return Done { ok: true };
                }
                Some(Seen::Code(code, _)) => code.info_on(self.endpoint).is_retryable(),
                Some(Seen::Unreadable(status)) => *status >= 500 || *status == 429,
                None => true,
            };
            if !retryable || attempt == MAX_ATTEMPTS {
                break;
            }
            let cost = if throttled { 5 } else { 14 };
            {
                let mut quota = lock(&self.quota);
                if *quota < cost {
                    break;
                }
                *quota -= cost;
            }
            withdrawn = cost;
            let delay = self.unit() * 2f64.powi(attempt as i32 - 1).min(20.0);
            sleep(Duration::from_secs_f64(delay)).await;
        }
        Done { ok: false }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The AWS SDKs' client rate limiter (botocore `retries/adaptive.py`, `throttling.py`,
/// `bucket.py`): a token bucket switched on at the first throttle, its rate set by CUBIC from
/// the measured sending rate.
struct Cubic {
    enabled: bool,
    fill_rate: f64,
    capacity: f64,
    tokens: f64,
    refilled: Instant,
    measured: f64,
    count: u32,
    last_bucket: f64,
    last_max: f64,
    last_throttle: f64,
    start: Instant,
}

impl Cubic {
    const BETA: f64 = 0.7;
    const SCALE: f64 = 0.4;
    const SMOOTH: f64 = 0.8;
    const MIN_RATE: f64 = 0.5;

    fn new(now: Instant) -> Cubic {
        Cubic {
            enabled: false,
            fill_rate: 1.0,
            capacity: 1.0,
            tokens: 0.0,
            refilled: now,
            measured: 0.0,
            count: 0,
            last_bucket: 0.0,
            last_max: 0.0,
            last_throttle: 0.0,
            start: now,
        }
    }

    fn secs(&self, now: Instant) -> f64 {
        now.saturating_duration_since(self.start).as_secs_f64()
    }

    /// Takes a token if there is one (zero), else says how long until there is one; the
    /// bucket takes nothing while it is off.
    fn acquire(&mut self, now: Instant) -> Duration {
        if !self.enabled {
            return Duration::ZERO;
        }
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.fill_rate).min(self.capacity);
        self.refilled = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Duration::ZERO
        } else {
            Duration::from_secs_f64((1.0 - self.tokens) / self.fill_rate)
        }
    }

    fn update(&mut self, throttled: bool, now: Instant) {
        let t = self.secs(now);
        let bucket = (t * 2.0).floor() / 2.0;
        self.count += 1;
        if bucket > self.last_bucket {
            let rate = f64::from(self.count) / (bucket - self.last_bucket);
            self.measured = rate * Cubic::SMOOTH + self.measured * (1.0 - Cubic::SMOOTH);
            self.count = 0;
            self.last_bucket = bucket;
        }
        let new_rate = if throttled {
            let rate = if self.enabled {
                self.measured.min(self.fill_rate)
            } else {
                self.measured
            };
            self.last_max = rate;
            self.last_throttle = t;
            self.enabled = true;
            rate * Cubic::BETA
        } else {
            let k = (self.last_max * (1.0 - Cubic::BETA) / Cubic::SCALE).cbrt();
            Cubic::SCALE * (t - self.last_throttle - k).powi(3) + self.last_max
        };
        let rate = new_rate.min(2.0 * self.measured);
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.fill_rate).min(self.capacity);
        self.refilled = now;
        self.fill_rate = rate.max(Cubic::MIN_RATE);
        self.capacity = rate.max(1.0);
        self.tokens = self.tokens.min(self.capacity);
    }
}
