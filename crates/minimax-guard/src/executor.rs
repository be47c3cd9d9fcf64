//! The executor: the loop that wires the pieces together. For each attempt: the strategy's
//! before-hook (breaker, pacer), the attempt, the classification of its answer by its body (not
//! just the HTTP status), the classifiers' retry action, the strategy's after-hook (pacer
//! feedback, budget, delay), the observer, the wait. Nothing else lives here.

use crate::breaker::AccountBreaker;
use crate::breaker::Answered;
use crate::budget::{Budget, BudgetConfig, RetryBudget};
use crate::classifier::{Classifiers, ClassifyRetry, Failure};
use crate::clock::{Clock, TokioClock};
use crate::error::{CallFailure, Cause, GuardError};
use crate::hints::ServerHints;
use crate::observer::{Event, Observer, Seen};
use crate::pacer::{Pacer, PacingConfig};
use crate::strategy::{Call, CallState, Next, RetryStrategy};
use crate::transport::{TransportFailure, TransportKind};
use crate::watch::{CallWatch, Phase, StreamWatch};
use bytes::Bytes;
use http::HeaderMap;
use minimax_errors::classify::{Outcome, classify};
use minimax_errors::policy::DelayStrategy;
use minimax_errors::{Category, Endpoint, ErrorCode, LogLevel};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How calls are retried and paced.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryConfig {
    /// At most this many retries of transient failures per call, whatever the catalog allows
    /// for a code. Throttled calls are not counted when calls are paced: the deadline bounds
    /// them.
    pub max_retries: u32,
    /// How long to wait before each retry of a transient failure.
    pub strategy: DelayStrategy,
    /// The whole call, turns, attempts and waits, must end within this.
    pub deadline: Option<Duration>,
    /// Longest wait a server's `retry-after` may ask for.
    pub retry_after_cap: Duration,
    /// Follow `retry-after-ms`, `retry-after` and `x-should-retry`.
    pub honour_server_hints: bool,
    /// After 1004, 2049, 1008 or 2056, fail fast for this long (zero: never).
    pub fail_fast_for: Duration,
    /// The retry budget shared by all calls of a client.
    pub budget: BudgetConfig,
    /// How calls are paced under the account's limits (on by default).
    pub pacing: PacingConfig,
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
            pacing: PacingConfig::default(),
        }
    }
}

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

/// What one attempt produced: a whole answer to classify, or a started stream (its first event
/// arrived and was good; nothing after it is retried).
pub enum Attempt<T> {
    /// A complete answer.
    Answer(RawResponse),
    /// A stream that started.
    Started(T),
}

/// How a call that succeeded went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CallReport {
    /// Attempts made (1 = first try).
    pub attempts: u32,
    /// Time spent in backoff delays between attempts.
    pub waited: Duration,
    /// Time spent waiting for turns under the account's pace.
    pub paced: Duration,
}

/// A call that succeeded with a complete answer.
#[derive(Debug, Clone)]
pub struct Completed {
    /// The successful answer.
    pub response: RawResponse,
    /// How it went.
    pub report: CallReport,
    /// The trace id of the answer.
    pub trace_id: Option<String>,
}

/// How a call that did not fail ended.
pub enum Done<T> {
    /// A successful complete answer.
    Answer(Completed),
    /// A stream that started; its outcome is told to the observer through the watch when the
    /// stream ends (or, if it is dropped first, as the caller gone).
    Started(T, CallReport, StreamWatch),
}

/// A call that failed, with the last answer when there was one (the middleware passes it on).
pub type Failed = (GuardError, Option<RawResponse>);

/// The executor. Cheap to clone; clones share the budget, the breaker and the pacer.
#[derive(Debug, Clone)]
pub struct Executor {
    strategy: RetryStrategy,
    classifiers: Classifiers,
    honour_server_hints: bool,
    observer: Option<Arc<dyn Observer>>,
}

impl Default for Executor {
    fn default() -> Executor {
        Executor::new(RetryConfig::default())
    }
}

impl Executor {
    /// An executor with its own budget, breaker and pacer, on tokio's clock.
    pub fn new(config: RetryConfig) -> Executor {
        Executor::with_clock(config, Arc::new(TokioClock))
    }

    /// An executor on `clock` (a simulation's, or tokio's paused clock in tests).
    pub fn with_clock(config: RetryConfig, clock: Arc<dyn Clock>) -> Executor {
        Executor {
            strategy: RetryStrategy {
                delays: config.strategy,
                max_retries: config.max_retries,
                deadline: config.deadline,
                retry_after_cap: config.retry_after_cap,
                fail_fast_for: config.fail_fast_for,
                costs: config.budget,
                budget: Arc::new(RetryBudget::new(config.budget.capacity)),
                breaker: Arc::default(),
                pacer: Pacer::with_clock(config.pacing, Arc::clone(&clock)),
                rng: Arc::new(Mutex::new(fastrand::Rng::new())),
                clock,
            },
            classifiers: Classifiers::default(),
            honour_server_hints: config.honour_server_hints,
            observer: None,
        }
    }

    /// Reports every attempt to `observer` (the monitor, for one).
    pub fn with_observer(mut self, observer: Arc<dyn Observer>) -> Executor {
        self.observer = Some(observer);
        self
    }

    /// Seeds the random source of the delays, so schedules are reproducible.
    pub fn with_seed(mut self, seed: u64) -> Executor {
        self.strategy.rng = Arc::new(Mutex::new(fastrand::Rng::with_seed(seed)));
        self
    }

    /// Uses `budget` instead of the default bucket.
    pub fn with_budget(mut self, budget: Arc<dyn Budget>) -> Executor {
        self.strategy.budget = budget;
        self
    }

    /// Shares `pacer` (for instance with another client of the same account).
    pub fn with_pacer(mut self, pacer: Pacer) -> Executor {
        self.strategy.pacer = pacer;
        self
    }

    /// Shares the pace and the account breaker with every process of a fleet through
    /// `shared` (Redis, with `minimax-fleet`); the pacer's settings are kept.
    pub fn with_shared(mut self, shared: Arc<dyn crate::shared::SharedState>) -> Executor {
        let config = self.strategy.pacer.config().clone();
        self.strategy.pacer = Pacer::with_shared(config, Arc::clone(&self.strategy.clock), shared);
        self
    }

    /// Runs `classifier` before the built-in ones.
    pub fn with_classifier(mut self, classifier: impl ClassifyRetry + 'static) -> Executor {
        self.classifiers = self.classifiers.first(classifier);
        self
    }

    /// The shared retry budget.
    pub fn budget(&self) -> &dyn Budget {
        &*self.strategy.budget
    }

    /// The account breaker.
    pub fn breaker(&self) -> &AccountBreaker {
        &self.strategy.breaker
    }

    /// The pacer.
    pub fn pacer(&self) -> &Pacer {
        &self.strategy.pacer
    }

    /// Runs `send` until it succeeds or retrying stops making sense. `send` is called once per
    /// attempt and must build its request anew each time (a body is never sent empty).
    pub async fn execute<F, Fut>(
        &self,
        call: impl Into<Call>,
        mut send: F,
    ) -> Result<Completed, GuardError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<RawResponse, TransportFailure>>,
    {
        let run = self.run(call, || {
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

    /// The attempt loop behind [`Executor::execute`], for answers and streams alike.
    pub async fn run<T, F, Fut>(
        &self,
        call: impl Into<Call>,
        mut send: F,
    ) -> Result<Done<T>, Failed>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Attempt<T>, TransportFailure>>,
    {
        let strategy = &self.strategy;
        let clock = &strategy.clock;
        let mut state = strategy.start(call.into());
        let endpoint = state.call.endpoint;
        let mut ambiguous_before = false;
        // Told if this future is dropped before it returns (the caller went away).
        let mut watch = CallWatch::new(self.observer.clone(), endpoint);
        loop {
            watch.phase = Phase::WaitingForTurn;
            let permit = match strategy.before_attempt(&mut state).await {
                Ok(permit) => permit,
                Err(error) => {
                    watch.disarm();
                    self.unsent(&state, &error);
                    return Err((error, None));
                }
            };
            state.attempts += 1;
            watch.attempts = state.attempts;
            watch.phase = Phase::InFlight;
            let sent_at = clock.now();
            let result = match state.deadline {
                Some(deadline) => tokio::select! {
                    result = send() => result,
                    () = clock.sleep_until(deadline) => Err(TransportFailure {
                        kind: TransportKind::Timeout,
                        detail: "the call's deadline passed during the attempt".to_string(),
                    }),
                },
                None => send().await,
            };
            let latency = clock.now().saturating_duration_since(sent_at);
            let (failure, last_answer) = match result {
                Ok(Attempt::Started(stream)) => {
                    watch.disarm();
                    self.strategy.succeeded(&state, permit);
                    self.report_state(&state);
                    let ending = StreamWatch::new(
                        self.observer.clone(),
                        endpoint,
                        state.attempts,
                        latency,
                        state.paced,
                    );
                    return Ok(Done::Started(stream, report(&state), ending));
                }
                Ok(Attempt::Answer(response)) => {
                    match classify(&response.body, response.status, &response.headers, endpoint) {
                        Outcome::Success(success) => {
                            watch.disarm();
                            self.succeeded(&state, permit, latency, success.trace_id.as_deref());
                            return Ok(Done::Answer(Completed {
                                trace_id: success.trace_id,
                                response,
                                report: report(&state),
                            }));
                        }
                        outcome => {
                            let hints =
                                ServerHints::from_headers(&response.headers, clock.system_now());
                            (AttemptFailure::answer(outcome, hints), Some(response))
                        }
                    }
                }
                Err(transport) => (AttemptFailure::transport(transport), None),
            };
            let hints = if self.honour_server_hints {
                failure.hints
            } else {
                ServerHints::default()
            };
            let action = self.classifiers.classify(&Failure {
                endpoint,
                cause: &failure.cause,
                hints,
            });
            let next = strategy.after_attempt(&mut state, action, permit);
            self.report_state(&state);
            log_attempt(&state, &failure, next);
            self.observe(
                &state,
                failure.seen(),
                matches!(next, Next::Stop(_)),
                latency,
                failure.trace_id.as_deref(),
            );
            match next {
                Next::RetryAfter(delay) => {
                    ambiguous_before |= failure.ambiguous;
                    watch.phase = Phase::BackingOff;
                    if !delay.is_zero() {
                        clock.sleep_until(clock.now() + delay).await;
                        state.waited += delay;
                    }
                }
                Next::Stop(stopped) => {
                    watch.disarm();
                    let code = failure.code();
                    if let Cause::Api {
                        code,
                        server_message,
                        ..
                    } = &failure.cause
                    {
                        let answered = Answered {
                            code: *code,
                            message: server_message,
                            trace_id: failure.trace_id.as_deref(),
                        };
                        let opened = strategy.breaker.record(
                            state.call.account,
                            answered,
                            strategy.fail_fast_for,
                            clock.now(),
                        );
                        if let (Some(trip), Some(shared)) = (opened, strategy.pacer.shared()) {
                            // Every process of the fleet fails fast from its next call on.
                            let _ = shared.trip(state.call.account, trip).await;
                        }
                    }
                    let call = Box::new(CallFailure {
                        cause: failure.cause,
                        endpoint,
                        trace_id: failure.trace_id,
                        attempts: state.attempts,
                        waited: state.waited,
                        stopped,
                        key_kind: state.call.key_kind,
                    });
                    let error = if endpoint == Endpoint::VoiceClone
                        && code == Some(ErrorCode::DUPLICATE_VOICE_ID)
                        && ambiguous_before
                    {
                        GuardError::MaybeCreated(call)
                    } else {
                        GuardError::Failed(call)
                    };
                    return Err((error, last_answer));
                }
            }
        }
    }

    fn succeeded(
        &self,
        state: &CallState,
        permit: Option<crate::pacer::Permit>,
        latency: Duration,
        trace_id: Option<&str>,
    ) {
        self.strategy.succeeded(state, permit);
        self.report_state(state);
        self.observe(state, Seen::Success, true, latency, trace_id);
        tracing::debug!(
            endpoint = state.call.endpoint.as_str(),
            attempt = state.attempts,
            trace_id,
            "MiniMax call succeeded"
        );
    }

    /// Tells the observer where the budget and the call's pace stand.
    fn report_state(&self, state: &CallState) {
        if let Some(observer) = &self.observer {
            observer.budget(self.strategy.budget.level());
            let call = state.call;
            if let Some((rpm, waiting)) = self.strategy.pacer.pace(call.account, call.group()) {
                observer.pace(call.group(), rpm, waiting);
            }
        }
    }

    /// A call that ended before it was sent: the breaker is open, or its turn would come too late.
    fn unsent(&self, state: &CallState, error: &GuardError) {
        let seen = match error {
            GuardError::FailingFast { .. } => Seen::FailingFast,
            _ => Seen::PacedPastDeadline,
        };
        tracing::warn!(
            endpoint = state.call.endpoint.as_str(),
            outcome = seen.label(),
            "MiniMax call not sent: {error}"
        );
        self.observe(state, seen, true, Duration::ZERO, None);
    }

    fn observe(
        &self,
        state: &CallState,
        seen: Seen,
        final_attempt: bool,
        latency: Duration,
        trace_id: Option<&str>,
    ) {
        if let Some(observer) = &self.observer {
            observer.observe(&Event {
                endpoint: state.call.endpoint,
                seen,
                attempt: state.attempts.max(1),
                final_attempt,
                latency,
                paced: state.paced,
                trace_id,
                context: None,
            });
        }
    }
}

fn report(state: &CallState) -> CallReport {
    CallReport {
        attempts: state.attempts,
        waited: state.waited,
        paced: state.paced,
    }
}

/// One failed attempt.
struct AttemptFailure {
    cause: Cause,
    trace_id: Option<String>,
    hints: ServerHints,
    /// Whether the request may have been carried out although no usable answer came.
    ambiguous: bool,
    level: LogLevel,
}

impl AttemptFailure {
    fn answer(outcome: Outcome, hints: ServerHints) -> AttemptFailure {
        let trace_id = outcome.trace_id().map(str::to_string);
        let (ambiguous, level) = match &outcome {
            Outcome::ApiError(error) => (error.code == ErrorCode::TIMEOUT, error.info().log_level),
            Outcome::Malformed(bad) => (bad.is_retryable(), LogLevel::Warn),
            Outcome::Success(_) => (false, LogLevel::Info),
        };
        let Some(cause) = Cause::from_outcome(outcome) else {
            unreachable!("successes return before failures are built")
        };
        AttemptFailure {
            cause,
            trace_id,
            hints,
            ambiguous,
            level,
        }
    }

    fn transport(failure: TransportFailure) -> AttemptFailure {
        AttemptFailure {
            ambiguous: failure.kind.is_ambiguous(),
            cause: Cause::Transport(failure),
            trace_id: None,
            hints: ServerHints::default(),
            level: LogLevel::Warn,
        }
    }

    fn code(&self) -> Option<ErrorCode> {
        match &self.cause {
            Cause::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    fn seen(&self) -> Seen {
        self.cause.seen()
    }
}

/// One `tracing` event per failed attempt, at the catalog's level for the code (throttles that
/// the pacer absorbs at debug: they are expected while it learns the rate).
fn log_attempt(state: &CallState, failure: &AttemptFailure, next: Next) {
    let outcome = failure.cause.label();
    let endpoint = state.call.endpoint.as_str();
    let (retry_in_ms, stopped) = match next {
        Next::RetryAfter(delay) => (Some(delay.as_millis() as u64), None),
        Next::Stop(reason) => (None, Some(reason)),
    };
    let paced_throttle = matches!(next, Next::RetryAfter(d) if d.is_zero())
        && failure
            .code()
            .is_some_and(|c| c.info_on(state.call.endpoint).category == Category::Throttling);
    let level = if paced_throttle {
        LogLevel::Info
    } else {
        failure.level
    };
    macro_rules! event {
        ($level:expr) => {
            tracing::event!(
                $level,
                endpoint,
                attempt = state.attempts,
                outcome = %outcome,
                trace_id = failure.trace_id.as_deref(),
                retry_in_ms,
                stopped = stopped.map(|s| s.to_string()),
                "MiniMax call failed"
            )
        };
    }
    match level {
        LogLevel::Info if paced_throttle => event!(tracing::Level::DEBUG),
        LogLevel::Info => event!(tracing::Level::INFO),
        LogLevel::Warn => event!(tracing::Level::WARN),
        LogLevel::Error => event!(tracing::Level::ERROR),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::StopReason;
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

    fn quick() -> Executor {
        Executor::new(RetryConfig {
            strategy: DelayStrategy::FullJitter {
                base: Duration::from_millis(1),
                cap: Duration::from_millis(2),
            },
            ..RetryConfig::default()
        })
    }

    async fn calls_until_done(
        executor: &Executor,
        first: RawResponse,
    ) -> (u32, Result<Completed, GuardError>) {
        let calls = AtomicU32::new(0);
        let result = executor
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

    #[tokio::test(start_paused = true)]
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
        assert_eq!(
            (calls, result.map(|c| c.report.attempts).ok()),
            (2, Some(2))
        );
        let ignoring = Executor::new(RetryConfig {
            honour_server_hints: false,
            ..RetryConfig::default()
        });
        let (calls, _) =
            calls_until_done(&ignoring, answer(2013, &[("x-should-retry", "true")])).await;
        assert_eq!(calls, 1);
    }

    /// Keeps what it is told.
    #[derive(Debug, Default)]
    struct Seen(std::sync::Mutex<Vec<(crate::observer::Seen, bool)>>);

    impl Observer for Seen {
        fn observe(&self, event: &Event<'_>) {
            self.0
                .lock()
                .unwrap()
                .push((event.seen, event.final_attempt));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn calls_that_fail_fast_are_observed_too() {
        let seen = Arc::new(Seen::default());
        let executor = quick().with_observer(Arc::clone(&seen) as Arc<dyn Observer>);
        let (_, first) = calls_until_done(&executor, answer(1008, &[])).await;
        assert!(first.is_err());
        let (calls, second) = calls_until_done(&executor, answer(0, &[])).await;
        assert_eq!(calls, 0, "not sent");
        assert!(matches!(second, Err(GuardError::FailingFast { .. })));
        let seen = seen.0.lock().unwrap().clone();
        assert_eq!(
            seen,
            [
                (
                    crate::observer::Seen::Code(ErrorCode::INSUFFICIENT_BALANCE),
                    true
                ),
                (crate::observer::Seen::FailingFast, true)
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_retried_call_that_succeeds_gives_its_cost_back_and_throttles_cost_nothing() {
        let executor = quick();
        assert!(executor.budget().withdraw(20));
        let before = executor.budget().level();
        let (_, ok) = calls_until_done(&executor, answer(0, &[])).await;
        assert!(ok.is_ok());
        assert_eq!(
            executor.budget().level(),
            before + 1,
            "a first-try success gives 1"
        );
        let (_, retried) = calls_until_done(&executor, answer(1000, &[])).await;
        assert_eq!(retried.map(|c| c.report.attempts).ok(), Some(2));
        assert_eq!(
            executor.budget().level(),
            before + 1,
            "the retry's 14 came back"
        );
        let (_, throttled) = calls_until_done(&executor, answer(1002, &[])).await;
        assert_eq!(throttled.map(|c| c.report.attempts).ok(), Some(2));
        assert_eq!(
            executor.budget().level(),
            before + 1,
            "paced throttles cost nothing"
        );
    }
}

#[cfg(test)]
mod caller_gone {
    use super::*;
    use crate::pacer::GroupLimits;
    use minimax_errors::LimitGroup;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// Keeps each outcome with the phase its context names.
    #[derive(Debug, Default)]
    struct Told(Mutex<Vec<(Seen, Option<String>)>>);

    impl Observer for Told {
        fn observe(&self, event: &Event<'_>) {
            let phase = event
                .context
                .and_then(|c| c["phase"].as_str())
                .map(str::to_string);
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((event.seen, phase));
        }
    }

    fn ok() -> RawResponse {
        RawResponse {
            status: 200,
            headers: HeaderMap::new(),
            body: Bytes::from_static(br#"{"base_resp":{"status_code":0,"status_msg":""}}"#),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_dropped_while_it_waits_for_its_turn_is_told_as_gone_and_never_sent() {
        let told = Arc::new(Told::default());
        let mut pacing = PacingConfig::default();
        pacing.limits.insert(
            LimitGroup::Text,
            GroupLimits {
                rpm: Some(1.0),
                ..GroupLimits::default()
            },
        );
        let executor = Executor::new(RetryConfig {
            pacing,
            ..RetryConfig::default()
        })
        .with_observer(Arc::clone(&told) as Arc<dyn Observer>);
        let sent = AtomicU32::new(0);
        let send = || {
            sent.fetch_add(1, Ordering::SeqCst);
            async { Ok(ok()) }
        };
        assert!(executor.execute(Endpoint::Chat, send).await.is_ok());
        // At one a minute, the next call's turn is a minute away; its caller leaves first.
        let waiting = executor.execute(Endpoint::Chat, send);
        assert!(
            tokio::time::timeout(Duration::from_secs(5), waiting)
                .await
                .is_err()
        );
        assert_eq!(sent.load(Ordering::SeqCst), 1, "the second was never sent");
        let told = told.0.lock().unwrap().clone();
        assert_eq!(
            told,
            vec![
                (Seen::Success, None),
                (Seen::ClientGone, Some("waiting_for_turn".to_string()))
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_dropped_in_flight_is_told_as_gone_not_as_a_success() {
        let told = Arc::new(Told::default());
        let executor = Executor::default().with_observer(Arc::clone(&told) as Arc<dyn Observer>);
        let hanging = executor.execute(Endpoint::T2a, std::future::pending);
        assert!(
            tokio::time::timeout(Duration::from_secs(5), hanging)
                .await
                .is_err()
        );
        let told = told.0.lock().unwrap().clone();
        assert_eq!(
            told,
            vec![(Seen::ClientGone, Some("in_flight".to_string()))]
        );
    }
}
