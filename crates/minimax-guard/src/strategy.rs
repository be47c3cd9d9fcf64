//! The retry strategy: what happens before every attempt (the first included) and after each
//! one that failed (smithy-rs's `should_attempt_initial_request` / `should_attempt_retry`).
//!
//! Before: fail fast if an account-level failure is recent (the breaker), then wait for the
//! call's turn under the account's pace. After: a throttled call goes back through the pacer
//! (which slows the whole group down) with no attempt limit but the deadline and no cost to the
//! budget; a transient failure waits a backoff delay (or the server's `retry-after`) within the
//! attempts and the budget; anything else stops.

use crate::breaker::AccountBreaker;
use crate::budget::{Budget, BudgetConfig};
use crate::classifier::{Never, RetryAction, RetryKind};
use crate::clock::Clock;
use crate::error::{GuardError, StopReason};
use crate::key::KeyKind;
use crate::pacer::{AccountId, Pacer, Permit};
use minimax_errors::policy::DelayStrategy;
use minimax_errors::{Endpoint, LimitGroup};
use std::sync::{Arc, Mutex};
use tokio::time::{Duration, Instant};

/// One call as the strategy sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    /// The endpoint called.
    pub endpoint: Endpoint,
    /// Whose limits it counts against.
    pub account: AccountId,
    /// T2A characters it spends of the minute's budget (0 elsewhere).
    pub characters: u64,
    /// The kind of key it is sent with, for hints in errors.
    pub key_kind: KeyKind,
}

impl Call {
    /// A call to `endpoint` of an account the executor does not know.
    pub fn new(endpoint: Endpoint) -> Call {
        Call {
            endpoint,
            account: AccountId::UNKNOWN,
            characters: 0,
            key_kind: KeyKind::Unknown,
        }
    }

    /// The kind of key the call is sent with.
    pub fn key_kind(self, key_kind: KeyKind) -> Call {
        Call { key_kind, ..self }
    }

    /// The call's account.
    pub fn account(self, account: AccountId) -> Call {
        Call { account, ..self }
    }

    /// The T2A characters the call spends.
    pub fn characters(self, characters: u64) -> Call {
        Call { characters, ..self }
    }

    /// The limit the call counts against.
    pub fn group(&self) -> LimitGroup {
        self.endpoint.limit_group()
    }
}

impl From<Endpoint> for Call {
    fn from(endpoint: Endpoint) -> Call {
        Call::new(endpoint)
    }
}

/// How far a call has come.
#[derive(Debug, Clone)]
pub struct CallState {
    /// The call.
    pub call: Call,
    /// When it started.
    pub started: Instant,
    /// When it must be over.
    pub deadline: Option<Instant>,
    /// Attempts made.
    pub attempts: u32,
    /// Retries paid from the budget (throttled retries are not).
    pub retries: u32,
    /// Tokens withdrawn from the budget, given back if the call succeeds.
    pub withdrawn: u32,
    /// Time waited in backoff delays.
    pub waited: Duration,
    /// Time waited for turns under the account's pace.
    pub paced: Duration,
    /// The last backoff delay (for decorrelated jitter).
    pub previous_delay: Option<Duration>,
}

/// The strategy of one executor; its budget, breaker and pacer are shared by all its calls.
#[derive(Debug, Clone)]
pub struct RetryStrategy {
    pub(crate) delays: DelayStrategy,
    pub(crate) max_retries: u32,
    pub(crate) deadline: Option<Duration>,
    pub(crate) retry_after_cap: Duration,
    pub(crate) fail_fast_for: Duration,
    pub(crate) costs: BudgetConfig,
    pub(crate) budget: Arc<dyn Budget>,
    pub(crate) breaker: Arc<AccountBreaker>,
    pub(crate) pacer: Pacer,
    pub(crate) rng: Arc<Mutex<fastrand::Rng>>,
    pub(crate) clock: Arc<dyn Clock>,
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Try again after this wait (zero when the pacer does the waiting).
    RetryAfter(Duration),
    /// Stop.
    Stop(StopReason),
}

impl RetryStrategy {
    /// A new call, starting now.
    pub fn start(&self, call: Call) -> CallState {
        let started = self.clock.now();
        CallState {
            call,
            started,
            deadline: self.deadline.map(|d| started + d),
            attempts: 0,
            retries: 0,
            withdrawn: 0,
            waited: Duration::ZERO,
            paced: Duration::ZERO,
            previous_delay: None,
        }
    }

    /// Before every attempt: fail fast on an open breaker, then wait for the call's turn, and
    /// look at the breaker again (it may have opened while the call waited).
    pub async fn before_attempt(
        &self,
        state: &mut CallState,
    ) -> Result<Option<Permit>, GuardError> {
        self.fail_fast(state)?;
        let call = state.call;
        if !self.pacer.is_enabled() {
            // Unpaced calls ask the fleet about the breaker on their own.
            if let Some(shared) = self.pacer.shared()
                && let Ok(Some(trip)) = shared.tripped(call.account).await
            {
                self.breaker.adopt(call.account, trip, self.clock.now());
                self.fail_fast(state)?;
            }
            return Ok(None);
        }
        let mut permit = self
            .pacer
            .acquire(call.account, call.group(), call.characters, state.deadline)
            .await
            .map_err(|too_long| GuardError::PacedPastDeadline {
                group: too_long.group,
                wait: too_long.wait,
                rpm: too_long.rate * 60.0,
            })?;
        state.paced += permit.waited();
        if let Some(trip) = permit.fleet_trip() {
            self.breaker.adopt(call.account, trip, self.clock.now());
        }
        // Dropping the permit gives the turn back unused.
        self.fail_fast(state)?;
        Ok(Some(permit))
    }

    /// The call's account has an open breaker: fail now, saying why.
    fn fail_fast(&self, state: &CallState) -> Result<(), GuardError> {
        let now = self.clock.now();
        match self.breaker.check(state.call.account, now) {
            Some(tripped) => Err(GuardError::FailingFast {
                code: tripped.code,
                trace_id: tripped.trace_id,
                remaining: tripped.until.saturating_duration_since(now),
                resets_at: tripped.resets_at,
            }),
            None => Ok(()),
        }
    }

    /// After an attempt that succeeded: the pace learns it, the budget gets back what the
    /// call's retries cost (or a token for a first-try success).
    pub fn succeeded(&self, state: &CallState, permit: Option<Permit>) {
        if let Some(permit) = permit {
            permit.succeeded();
        }
        let refund = match (state.attempts, state.withdrawn) {
            (1, _) => self.costs.success_refund,
            (_, withdrawn) => withdrawn,
        };
        self.budget.deposit(refund);
    }

    /// After an attempt that failed with `action`: wait and retry, or stop. The permit of a
    /// throttled call tells the pacer; any other is dropped, which frees its connection.
    pub fn after_attempt(
        &self,
        state: &mut CallState,
        action: RetryAction,
        permit: Option<Permit>,
    ) -> Next {
        let (kind, after) = match action {
            RetryAction::Retry { kind, after } => {
                (kind, after.map(|a| a.min(self.retry_after_cap)))
            }
            RetryAction::Never(Never::ServerSaidNo) => return Next::Stop(StopReason::ServerSaidNo),
            RetryAction::Never(Never::CannotHelp) | RetryAction::NoOpinion => {
                return Next::Stop(StopReason::NotRetryable);
            }
        };
        let now = self.clock.now();
        if state.deadline.is_some_and(|d| now >= d) {
            return Next::Stop(StopReason::DeadlineReached);
        }
        let (policy, throttling) = match (kind, permit) {
            // Paced: the pacer slows the group down and makes the next attempt wait its turn.
            (RetryKind::Throttling(throttle, _), Some(permit)) => {
                permit.throttled(throttle, after);
                return Next::RetryAfter(Duration::ZERO);
            }
            (RetryKind::Throttling(_, policy), None) => (policy, true),
            (RetryKind::Transient(policy), _) => (policy, false),
        };
        if state.retries >= policy.max_retries.min(self.max_retries) {
            return Next::Stop(StopReason::AttemptsExhausted);
        }
        let delay = after.unwrap_or_else(|| {
            let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
            self.delays
                .delay_for(&policy, state.retries, state.previous_delay, &mut *rng)
        });
        if state.deadline.is_some_and(|d| now + delay >= d) {
            return Next::Stop(StopReason::DeadlineReached);
        }
        let cost = if throttling {
            self.costs.throttling_cost
        } else {
            self.costs.retry_cost
        };
        if !self.budget.withdraw(cost) {
            return Next::Stop(StopReason::BudgetExhausted);
        }
        state.withdrawn += cost;
        state.retries += 1;
        state.previous_delay = Some(delay);
        Next::RetryAfter(delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::RetryBudget;
    use crate::classifier::TRANSIENT;
    use crate::clock::TokioClock;
    use crate::pacer::{PacingConfig, Throttle};

    fn strategy(pacing: PacingConfig, budget: u32) -> RetryStrategy {
        let clock: Arc<dyn Clock> = Arc::new(TokioClock);
        RetryStrategy {
            delays: DelayStrategy::FullJitter {
                base: Duration::from_millis(100),
                cap: Duration::from_secs(1),
            },
            max_retries: 2,
            deadline: Some(Duration::from_secs(10)),
            retry_after_cap: Duration::from_secs(3),
            fail_fast_for: Duration::from_secs(60),
            costs: BudgetConfig::default(),
            budget: Arc::new(RetryBudget::new(budget)),
            breaker: Arc::default(),
            pacer: Pacer::with_clock(pacing, Arc::clone(&clock)),
            rng: Arc::new(Mutex::new(fastrand::Rng::with_seed(1))),
            clock,
        }
    }

    fn throttled(after: Option<Duration>) -> RetryAction {
        RetryAction::Retry {
            kind: RetryKind::Throttling(Throttle::Rate, TRANSIENT),
            after,
        }
    }

    fn transient() -> RetryAction {
        RetryAction::Retry {
            kind: RetryKind::Transient(TRANSIENT),
            after: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn paced_throttles_go_back_through_the_pacer_without_limit_or_cost() {
        let strategy = strategy(PacingConfig::default(), 500);
        let mut state = strategy.start(Call::new(Endpoint::Chat));
        // More than the two retries allowed, as many as fit the deadline.
        for _ in 0..6 {
            let permit = strategy.before_attempt(&mut state).await.unwrap();
            assert!(permit.is_some());
            let next = strategy.after_attempt(&mut state, throttled(None), permit);
            assert_eq!(next, Next::RetryAfter(Duration::ZERO));
        }
        assert_eq!(strategy.budget.level(), 500);
        assert!(
            state.paced > Duration::ZERO,
            "the pacer held the throttled calls back"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn unpaced_throttles_and_transient_faults_wait_pay_and_stop_at_the_limit() {
        let strategy = strategy(PacingConfig::off(), 500);
        let mut state = strategy.start(Call::new(Endpoint::Chat));
        let first = strategy.after_attempt(&mut state, throttled(None), None);
        assert!(matches!(first, Next::RetryAfter(d) if d <= Duration::from_millis(100)));
        assert_eq!(strategy.budget.level(), 495, "a throttling retry costs 5");
        let second = strategy.after_attempt(&mut state, transient(), None);
        assert!(matches!(second, Next::RetryAfter(_)));
        assert_eq!(strategy.budget.level(), 481, "another retry costs 14");
        assert_eq!(
            strategy.after_attempt(&mut state, transient(), None),
            Next::Stop(StopReason::AttemptsExhausted)
        );
        // What the call withdrew comes back when it succeeds.
        state.attempts = 3;
        strategy.succeeded(&state, None);
        assert_eq!(strategy.budget.level(), 500);
    }

    #[tokio::test(start_paused = true)]
    async fn the_budget_the_deadline_and_the_server_stop_retries() {
        let strategy = strategy(PacingConfig::off(), 10);
        let mut state = strategy.start(Call::new(Endpoint::Chat));
        assert_eq!(
            strategy.after_attempt(&mut state, transient(), None),
            Next::Stop(StopReason::BudgetExhausted)
        );
        let strategy = self::strategy(PacingConfig::off(), 500);
        let mut state = strategy.start(Call::new(Endpoint::Chat));
        let capped =
            strategy.after_attempt(&mut state, throttled(Some(Duration::from_secs(60))), None);
        assert_eq!(
            capped,
            Next::RetryAfter(Duration::from_secs(3)),
            "retry-after, capped"
        );
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(
            strategy.after_attempt(&mut state, transient(), None),
            Next::Stop(StopReason::DeadlineReached)
        );
        assert_eq!(
            strategy.after_attempt(&mut state, RetryAction::Never(Never::ServerSaidNo), None),
            Next::Stop(StopReason::ServerSaidNo)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_open_breaker_fails_the_call_before_it_waits_or_is_sent() {
        let strategy = strategy(PacingConfig::default(), 500);
        let answered = crate::breaker::Answered {
            code: minimax_errors::ErrorCode::INSUFFICIENT_BALANCE,
            message: "insufficient balance",
            trace_id: Some("t-1"),
        };
        strategy.breaker.record(
            AccountId::UNKNOWN,
            answered,
            Duration::from_secs(60),
            strategy.clock.now(),
        );
        let mut state = strategy.start(Call::new(Endpoint::Chat));
        let error = strategy.before_attempt(&mut state).await.unwrap_err();
        assert!(
            matches!(error, GuardError::FailingFast { remaining, .. } if remaining == Duration::from_secs(60))
        );
    }
}
