//! The retry executor: runs any operation that returns a MiniMax answer, classifies every answer
//! by its body (not just the HTTP status), and retries what the catalog says is worth retrying,
//! paced, within the attempts, the deadline and the shared budget.

use crate::breaker::AccountBreaker;
use crate::budget::{BudgetConfig, RetryBudget};
use crate::error::{CallFailure, Cause, GuardError, StopReason};
use crate::hints::ServerHints;
use crate::monitor::{Event, Monitor, Seen, metrics};
use crate::transport::{TransportFailure, TransportKind};
use bytes::Bytes;
use http::HeaderMap;
use minimax_errors::classify::{Outcome, classify};
use minimax_errors::policy::DelayStrategy;
use minimax_errors::{Category, Endpoint, ErrorCode, LogLevel, RetryConfig as CodeRetry};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// How calls are retried.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryConfig {
    /// At most this many retries per call, whatever the catalog allows for a code.
    pub max_retries: u32,
    /// How long to wait before each retry.
    pub strategy: DelayStrategy,
    /// The whole call, attempts and waits, must end within this.
    pub deadline: Option<Duration>,
    /// Longest wait a server's `retry-after` may ask for.
    pub retry_after_cap: Duration,
    /// Follow `retry-after-ms`, `retry-after` and `x-should-retry`.
    pub honour_server_hints: bool,
    /// After 1004, 2049, 1008 or 2056, fail fast for this long (zero: never).
    pub fail_fast_for: Duration,
    /// The retry budget shared by all calls of a client.
    pub budget: BudgetConfig,
}

impl Default for RetryConfig {
    fn default() -> RetryConfig {
        RetryConfig {
            max_retries: 5,
            strategy: DelayStrategy::default(),
            deadline: Some(Duration::from_secs(120)),
            retry_after_cap: Duration::from_secs(60),
            honour_server_hints: true,
            fail_fast_for: Duration::from_secs(60),
            budget: BudgetConfig::default(),
        }
    }
}

/// How transport failures and unreadable answers are retried (as a timeout, 1001, is).
const TRANSIENT: CodeRetry = CodeRetry {
    max_retries: 3,
    backoff: 2.0,
};

/// One answer: status, headers, the whole body.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// The HTTP status.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

/// What one attempt produced: a whole answer to classify, or a started stream (a streaming
/// answer that began successfully; nothing after it is retried).
pub enum Attempt<T> {
    /// A complete answer.
    Answer(RawResponse),
    /// A stream that started.
    Started(T),
}

/// A call that succeeded.
#[derive(Debug, Clone)]
pub struct Completed {
    /// The successful answer.
    pub response: RawResponse,
    /// Attempts made (1 = first try).
    pub attempts: u32,
    /// Time spent waiting between attempts.
    pub waited: Duration,
    /// The trace id of the answer.
    pub trace_id: Option<String>,
}

/// How a call that did not fail ended.
pub enum Done<T> {
    /// A successful complete answer.
    Answer(Completed),
    /// A stream that started, after this many attempts and this much waiting.
    Started(T, u32, Duration),
}

/// The executor: its settings, the shared budget and the account breaker.
#[derive(Debug, Clone)]
pub struct Guard {
    config: RetryConfig,
    budget: Arc<RetryBudget>,
    breaker: Arc<AccountBreaker>,
    rng: Arc<Mutex<fastrand::Rng>>,
    monitor: Option<Monitor>,
}

impl Default for Guard {
    fn default() -> Guard {
        Guard::new(RetryConfig::default())
    }
}

/// One attempt's failure, as retrying sees it.
struct AttemptFailure {
    cause: Cause,
    trace_id: Option<String>,
    hints: ServerHints,
    retry: Option<CodeRetry>,
    throttling: bool,
    ambiguous: bool,
    level: LogLevel,
}

impl Guard {
    /// An executor with its own budget and breaker.
    pub fn new(config: RetryConfig) -> Guard {
        let budget = Arc::new(RetryBudget::new(config.budget));
        Guard {
            config,
            budget,
            breaker: Arc::default(),
            rng: Arc::new(Mutex::new(fastrand::Rng::new())),
            monitor: None,
        }
    }

    /// Records every attempt (outcome, latency, trace id) in `monitor`.
    pub fn with_monitor(self, monitor: Monitor) -> Guard {
        Guard {
            monitor: Some(monitor),
            ..self
        }
    }

    /// The monitor attempts are recorded in, if any.
    pub fn monitor(&self) -> Option<&Monitor> {
        self.monitor.as_ref()
    }

    fn record(
        &self,
        endpoint: Endpoint,
        seen: Seen,
        attempt: u32,
        last: bool,
        latency: Duration,
        trace_id: Option<&str>,
    ) {
        if let Some(monitor) = &self.monitor {
            monitor.record(&Event {
                endpoint,
                seen,
                attempt: attempt + 1,
                last,
                latency,
                trace_id,
                context: None,
            });
        }
    }

    /// Uses a seeded random source for the delays, so schedules are reproducible.
    pub fn with_seed(self, seed: u64) -> Guard {
        Guard {
            rng: Arc::new(Mutex::new(fastrand::Rng::with_seed(seed))),
            ..self
        }
    }

    /// The settings.
    pub fn config(&self) -> &RetryConfig {
        &self.config
    }

    /// The shared retry budget.
    pub fn budget(&self) -> &RetryBudget {
        &self.budget
    }

    /// The account breaker.
    pub fn breaker(&self) -> &AccountBreaker {
        &self.breaker
    }

    /// Fails fast when an account-level failure is recent.
    pub fn check_breaker(&self) -> Result<(), GuardError> {
        match self.breaker.check() {
            Some(t) => Err(GuardError::FailingFast {
                code: t.code,
                trace_id: t.trace_id,
                remaining: t.until.saturating_duration_since(Instant::now()),
            }),
            None => Ok(()),
        }
    }

    /// Runs `send` until it succeeds or retrying stops making sense. `send` is called once per
    /// attempt and must build its request anew each time (a body is never sent empty).
    pub async fn execute<F, Fut>(
        &self,
        endpoint: Endpoint,
        mut send: F,
    ) -> Result<Completed, GuardError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<RawResponse, TransportFailure>>,
    {
        let run = self.run(endpoint, || {
            let attempt = send();
            async move {
                attempt
                    .await
                    .map(Attempt::<std::convert::Infallible>::Answer)
            }
        });
        match run.await {
            Ok(Done::Answer(completed)) => Ok(completed),
            Ok(Done::Started(never, ..)) => match never {},
            Err((error, _)) => Err(error),
        }
    }

    /// The attempt loop behind [`Guard::execute`], for answers and streams alike. A failure also
    /// gives back the last answer, for callers (like the middleware) that pass it on.
    pub async fn run<T, F, Fut>(
        &self,
        endpoint: Endpoint,
        mut send: F,
    ) -> Result<Done<T>, (GuardError, Option<RawResponse>)>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Attempt<T>, TransportFailure>>,
    {
        self.check_breaker().map_err(|e| (e, None))?;
        let started = Instant::now();
        let mut waited = Duration::ZERO;
        let mut previous_delay = None;
        let mut ambiguous_before = false;
        for attempt in 0u32.. {
            let sent_at = Instant::now();
            let result = match self.remaining(started) {
                Some(left) => tokio::time::timeout(left, send())
                    .await
                    .unwrap_or_else(|_| {
                        Err(TransportFailure {
                            kind: TransportKind::Timeout,
                            detail: "the call's deadline passed during the attempt".to_string(),
                        })
                    }),
                None => send().await,
            };
            let (failure, last) = match result {
                Ok(Attempt::Started(stream)) => {
                    self.succeeded(endpoint, attempt, sent_at.elapsed(), None);
                    return Ok(Done::Started(stream, attempt + 1, waited));
                }
                Ok(Attempt::Answer(response)) => {
                    match classify(&response.body, response.status, &response.headers, endpoint) {
                        Outcome::Success(success) => {
                            self.succeeded(
                                endpoint,
                                attempt,
                                sent_at.elapsed(),
                                success.trace_id.as_deref(),
                            );
                            return Ok(Done::Answer(Completed {
                                trace_id: success.trace_id,
                                response,
                                attempts: attempt + 1,
                                waited,
                            }));
                        }
                        outcome => (attempt_failure(outcome, &response.headers), Some(response)),
                    }
                }
                Err(transport) => (
                    AttemptFailure {
                        retry: transport.kind.is_retryable().then_some(TRANSIENT),
                        ambiguous: transport.kind.is_ambiguous(),
                        cause: Cause::Transport(transport),
                        trace_id: None,
                        hints: ServerHints::default(),
                        throttling: false,
                        level: LogLevel::Warn,
                    },
                    None,
                ),
            };
            let decision = self.decide(&failure, attempt, started, previous_delay);
            log_attempt(endpoint, attempt, &failure, &decision);
            let seen = match &failure.cause {
                Cause::Api { code, .. } => Seen::Code(*code),
                Cause::Malformed { .. } => Seen::Malformed,
                Cause::Transport(_) => Seen::Transport,
            };
            self.record(
                endpoint,
                seen,
                attempt,
                decision.is_err(),
                sent_at.elapsed(),
                failure.trace_id.as_deref(),
            );
            match decision {
                Ok(delay) => {
                    ambiguous_before |= failure.ambiguous;
                    tokio::time::sleep(delay).await;
                    waited += delay;
                    previous_delay = Some(delay);
                }
                Err(stopped) => {
                    let code = match &failure.cause {
                        Cause::Api { code, .. } => Some(*code),
                        _ => None,
                    };
                    if let Some(code) = code {
                        self.breaker.record(
                            code,
                            failure.trace_id.as_deref(),
                            self.config.fail_fast_for,
                        );
                    }
                    let call = Box::new(CallFailure {
                        cause: failure.cause,
                        endpoint,
                        trace_id: failure.trace_id,
                        attempts: attempt + 1,
                        waited,
                        stopped,
                    });
                    let error = if endpoint == Endpoint::VoiceClone
                        && code == Some(ErrorCode::DUPLICATE_VOICE_ID)
                        && ambiguous_before
                    {
                        GuardError::MaybeCreated(call)
                    } else {
                        GuardError::Failed(call)
                    };
                    return Err((error, last));
                }
            }
        }
        unreachable!("the attempt loop only ends by returning")
    }

    /// The wait before the next attempt, or why there is none.
    fn decide(
        &self,
        failure: &AttemptFailure,
        attempt: u32,
        started: Instant,
        previous: Option<Duration>,
    ) -> Result<Duration, StopReason> {
        let hints = if self.config.honour_server_hints {
            failure.hints
        } else {
            ServerHints::default()
        };
        let retry = match (hints.should_retry, failure.retry) {
            (Some(false), _) => return Err(StopReason::ServerSaidNo),
            (Some(true), None) => TRANSIENT,
            (_, Some(retry)) => retry,
            (None, None) => return Err(StopReason::NotRetryable),
        };
        if self
            .config
            .deadline
            .is_some_and(|deadline| started.elapsed() >= deadline)
        {
            return Err(StopReason::DeadlineReached);
        }
        if attempt >= retry.max_retries.min(self.config.max_retries) {
            return Err(StopReason::AttemptsExhausted);
        }
        let delay = match hints.retry_after {
            Some(asked) => asked.min(self.config.retry_after_cap),
            None => {
                let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
                self.config
                    .strategy
                    .delay_for(&retry, attempt, previous, &mut *rng)
            }
        };
        if let Some(deadline) = self.config.deadline
            && started.elapsed() + delay >= deadline
        {
            return Err(StopReason::DeadlineReached);
        }
        let spent = self.budget.try_spend(failure.throttling);
        metrics::budget_level(self.budget.level());
        if !spent {
            return Err(StopReason::BudgetExhausted);
        }
        Ok(delay)
    }

    /// A call succeeded: a first-try success refills the budget; the attempt is recorded.
    fn succeeded(
        &self,
        endpoint: Endpoint,
        attempt: u32,
        latency: Duration,
        trace_id: Option<&str>,
    ) {
        if attempt == 0 {
            self.budget.refund();
            metrics::budget_level(self.budget.level());
        }
        self.record(endpoint, Seen::Success, attempt, true, latency, trace_id);
        tracing::debug!(
            endpoint = endpoint.as_str(),
            attempt = attempt + 1,
            trace_id,
            "MiniMax call succeeded"
        );
    }

    fn remaining(&self, started: Instant) -> Option<Duration> {
        self.config
            .deadline
            .map(|d| d.saturating_sub(started.elapsed()))
    }
}

fn attempt_failure(outcome: Outcome, headers: &HeaderMap) -> AttemptFailure {
    let hints = ServerHints::from_headers(headers, SystemTime::now());
    let trace_id = outcome.trace_id().map(str::to_string);
    let (retry, throttling, ambiguous, level) = match &outcome {
        Outcome::ApiError(error) => {
            let info = error.info();
            let throttling = info.category == Category::Throttling;
            (
                info.retry,
                throttling,
                error.code == ErrorCode::TIMEOUT,
                info.log_level,
            )
        }
        Outcome::Malformed(bad) => (
            bad.is_retryable().then_some(TRANSIENT),
            bad.http_status == 429,
            bad.is_retryable(),
            LogLevel::Warn,
        ),
        Outcome::Success(_) => (None, false, false, LogLevel::Info),
    };
    let Some(cause) = Cause::from_outcome(outcome) else {
        unreachable!("successes return before failures are built")
    };
    AttemptFailure {
        cause,
        trace_id,
        hints,
        retry,
        throttling,
        ambiguous,
        level,
    }
}

/// One `tracing` event per failed attempt, at the catalog's level for the code.
fn log_attempt(
    endpoint: Endpoint,
    attempt: u32,
    failure: &AttemptFailure,
    decision: &Result<Duration, StopReason>,
) {
    let outcome = match &failure.cause {
        Cause::Api { code, .. } => code.as_i64().to_string(),
        Cause::Malformed { malformed, .. } => format!("{malformed:?}"),
        Cause::Transport(t) => t.kind.to_string(),
    };
    let (retry_in_ms, stopped) = match decision {
        Ok(delay) => (Some(delay.as_millis() as u64), None),
        Err(reason) => (None, Some(reason.to_string())),
    };
    macro_rules! event {
        ($level:expr) => {
            tracing::event!(
                $level,
                endpoint = endpoint.as_str(),
                attempt = attempt + 1,
                outcome = %outcome,
                trace_id = failure.trace_id.as_deref(),
                retry_in_ms,
                stopped = stopped.as_deref(),
                "MiniMax call failed"
            )
        };
    }
    match failure.level {
        LogLevel::Info => event!(tracing::Level::INFO),
        LogLevel::Warn => event!(tracing::Level::WARN),
        LogLevel::Error => event!(tracing::Level::ERROR),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn answer(code: i64, headers: &[(&'static str, &'static str)]) -> RawResponse {
        let headers = headers
            .iter()
            .map(|(k, v)| {
                (
                    http::HeaderName::from_static(k),
                    http::HeaderValue::from_static(v),
                )
            })
            .collect();
        let body = format!(r#"{{"base_resp":{{"status_code":{code},"status_msg":""}}}}"#);
        RawResponse {
            status: 200,
            headers,
            body: Bytes::from(body),
        }
    }

    fn quick() -> Guard {
        Guard::new(RetryConfig {
            strategy: DelayStrategy::FullJitter {
                base: Duration::from_millis(1),
                cap: Duration::from_millis(2),
            },
            ..RetryConfig::default()
        })
    }

    async fn calls_until_done(
        guard: &Guard,
        first: RawResponse,
    ) -> (u32, Result<Completed, GuardError>) {
        let calls = AtomicU32::new(0);
        let result = guard
            .execute(Endpoint::Chat, || {
                let n = calls.fetch_add(1, Ordering::SeqCst);
                let response = if n == 0 {
                    first.clone()
                } else {
                    answer(0, &[])
                };
                async move { Ok(response) }
            })
            .await;
        (calls.load(Ordering::SeqCst), result)
    }

    #[tokio::test]
    async fn the_server_can_forbid_or_ask_for_a_retry() {
        let (calls, result) =
            calls_until_done(&quick(), answer(1002, &[("x-should-retry", "false")])).await;
        assert_eq!(calls, 1);
        assert_eq!(
            result.unwrap_err().failure().map(|f| f.stopped),
            Some(StopReason::ServerSaidNo)
        );
        let (calls, result) =
            calls_until_done(&quick(), answer(2013, &[("x-should-retry", "true")])).await;
        assert_eq!((calls, result.map(|c| c.attempts).ok()), (2, Some(2)));
        let ignoring = Guard::new(RetryConfig {
            honour_server_hints: false,
            ..quick().config().clone()
        });
        let (calls, _) =
            calls_until_done(&ignoring, answer(2013, &[("x-should-retry", "true")])).await;
        assert_eq!(calls, 1);
    }

    #[tokio::test]
    async fn a_first_try_success_refills_the_budget_a_retry_spends_it() {
        let guard = quick();
        assert!(guard.budget().try_spend(false));
        let before = guard.budget().level();
        let (_, ok) = calls_until_done(&guard, answer(0, &[])).await;
        assert!(ok.is_ok());
        assert_eq!(guard.budget().level(), before + 1);
        let (_, retried) = calls_until_done(&guard, answer(1002, &[])).await;
        assert_eq!(retried.map(|c| c.attempts).ok(), Some(2));
        assert_eq!(
            guard.budget().level(),
            before + 1 - 5,
            "a throttling retry costs 5"
        );
    }
}
