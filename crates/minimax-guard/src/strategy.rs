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
}

impl Call {
    /// A call to `endpoint` of an account the executor does not know.
    pub fn new(endpoint: Endpoint) -> Call {
        Call {
            endpoint,
            account: AccountId::UNKNOWN,
            characters: 0,
        }
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

    /// Before every attempt: fail fast on an open breaker, then wait for the call's turn.
    pub async fn before_attempt(
        &self,
        state: &mut CallState,
    ) -> Result<Option<Permit>, GuardError> {
        let now = self.clock.now();
        if let Some(tripped) = self.breaker.check(now) {
            return Err(GuardError::FailingFast {
                code: tripped.code,
                trace_id: tripped.trace_id,
                remaining: tripped.until.saturating_duration_since(now),
            });
        }
        if !self.pacer.is_enabled() {
            return Ok(None);
        }
        let call = state.call;
        let permit = self
            .pacer
            .acquire(call.account, call.group(), call.characters, state.deadline)
            .await
            .map_err(|too_long| GuardError::PacedPastDeadline {
                group: too_long.group,
                wait: too_long.wait,
                rpm: too_long.rate * 60.0,
            })?;
        state.paced += permit.waited();
        Ok(Some(permit))
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
