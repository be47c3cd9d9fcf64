//! What a guarded call returns when it fails: the code, its meaning and solution, the trace id,
//! how many attempts were made and how long was waited, and why retrying stopped.

use crate::key::KeyKind;
use crate::transport::TransportFailure;
use minimax_errors::classify::{MalformedKind, Outcome};
use minimax_errors::validate::Validation;
use minimax_errors::{CodeInfo, Endpoint, ErrorCode, ErrorReport, Lang, LimitGroup};
use serde::Serialize;
use std::fmt;
use std::time::Duration;

/// Why a call stopped retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StopReason {
    /// A retry cannot help (the catalog says so for this code on this endpoint).
    NotRetryable,
    /// The retries allowed for this failure are used up.
    AttemptsExhausted,
    /// The next wait would pass the call's deadline, or the deadline passed during an attempt.
    DeadlineReached,
    /// The client's retry budget is empty: the upstream is failing for many calls at once.
    BudgetExhausted,
    /// The server said not to retry (`x-should-retry: false`).
    ServerSaidNo,
    /// A stream failed after its first events reached the caller: it cannot be taken back.
    StreamStarted,
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StopReason::NotRetryable => "not retryable",
            StopReason::AttemptsExhausted => "retries used up",
            StopReason::DeadlineReached => "deadline reached",
            StopReason::BudgetExhausted => "retry budget exhausted",
            StopReason::ServerSaidNo => "server said not to retry",
            StopReason::StreamStarted => "stream already started",
        })
    }
}

/// The last failure of a call.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Cause {
    /// MiniMax answered with an error code.
    Api {
        /// The code.
        code: ErrorCode,
        /// The server's message (scrubbed of secrets).
        server_message: String,
        /// The HTTP status.
        http_status: u16,
    },
    /// The answer could not be read (HTML page, truncated, empty, …).
    Malformed {
        /// What is wrong with it.
        malformed: MalformedKind,
        /// One line describing it.
        detail: String,
        /// The HTTP status.
        http_status: u16,
    },
    /// No complete answer arrived.
    Transport(TransportFailure),
}

impl Cause {
    /// Its name in logs and summaries: the code (`1002`), or what went wrong without one
    /// (`html`, `truncated`, `timeout`, …).
    pub fn label(&self) -> String {
        match self {
            Cause::Api { code, .. } => code.as_i64().to_string(),
            Cause::Malformed { malformed, .. } => malformed.as_str().to_string(),
            Cause::Transport(failure) => failure.kind.as_str().to_string(),
        }
    }

    /// The outcome it is counted as.
    pub fn seen(&self) -> minimax_errors::Seen {
        use minimax_errors::Seen;
        match self {
            Cause::Api { code, .. } => Seen::Code(*code),
            Cause::Malformed { .. } => Seen::Malformed,
            Cause::Transport(_) => Seen::Transport,
        }
    }

    /// The cause behind a failed outcome (`None` for a success). Server text is already
    /// scrubbed by the classifier.
    pub fn from_outcome(outcome: Outcome) -> Option<Cause> {
        match outcome {
            Outcome::Success(_) => None,
            Outcome::ApiError(error) => Some(Cause::Api {
                code: error.code,
                server_message: error.server_message,
                http_status: error.http_status,
            }),
            Outcome::Malformed(bad) => Some(Cause::Malformed {
                malformed: bad.kind,
                detail: bad.detail,
                http_status: bad.http_status,
            }),
        }
    }
}

/// A call that failed for good.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallFailure {
    /// The last failure.
    pub cause: Cause,
    /// The endpoint called.
    pub endpoint: Endpoint,
    /// The trace id of the last answer, for MiniMax support.
    pub trace_id: Option<String>,
    /// Attempts made (1 = no retry).
    pub attempts: u32,
    /// Time spent waiting between attempts.
    pub waited: Duration,
    /// Why it stopped.
    pub stopped: StopReason,
    /// The kind of key the call was sent with.
    pub key_kind: KeyKind,
}

impl CallFailure {
    /// The MiniMax code, when MiniMax answered with one.
    pub fn code(&self) -> Option<ErrorCode> {
        match &self.cause {
            Cause::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// What the key's kind adds to the catalog's solution: 1008 on a pay-as-you-go key is most
    /// often the wrong key, not an empty account.
    pub fn hint(&self, lang: Lang) -> Option<&'static str> {
        match (self.code(), self.key_kind, lang) {
            (Some(ErrorCode::INSUFFICIENT_BALANCE), KeyKind::PayAsYouGo, Lang::En) => Some(
                "This is a pay-as-you-go key (sk-api-): it spends the account balance; plan Credits are spent only through the subscription key (sk-cp-).",
            ),
            (Some(ErrorCode::INSUFFICIENT_BALANCE), KeyKind::PayAsYouGo, Lang::Zh) => Some(
                "这是按量付费 key（sk-api-），扣的是账户余额；套餐 Credits 只能通过订阅 key（sk-cp-）使用。",
            ),
            _ => None,
        }
    }

    /// What the catalog says about the code on this endpoint.
    pub fn info(&self) -> Option<CodeInfo> {
        self.code().map(|code| code.info_on(self.endpoint))
    }

    /// The full report (meaning, solution, category, …) in `lang`, for an API error.
    pub fn report(&self, lang: Lang) -> Option<ErrorReport> {
        let Cause::Api {
            code,
            server_message,
            http_status,
        } = &self.cause
        else {
            return None;
        };
        let mut report =
            ErrorReport::on(*code, self.endpoint, lang).with_server_message(server_message);
        report.trace_id = self.trace_id.clone();
        report.http_status = Some(*http_status);
        Some(report)
    }
}

impl fmt::Display for CallFailure {
    /// "MiniMax 1002 (rate limit) on t2a: <server message>. Retry later… [trace …] after 6
    /// attempts, 3.1 s waited (retries used up)".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cause {
            Cause::Api {
                code,
                server_message,
                ..
            } => {
                let info = code.info_on(self.endpoint);
                write!(
                    f,
                    "MiniMax {} ({}) on {}",
                    code.as_i64(),
                    info.message.en,
                    self.endpoint
                )?;
                if !server_message.is_empty() {
                    write!(f, ": {server_message}")?;
                }
                write!(f, ". {}", info.solution.en)?;
            }
            Cause::Malformed {
                detail,
                http_status,
                ..
            } => {
                write!(
                    f,
                    "unreadable answer from {} (HTTP {http_status}): {detail}",
                    self.endpoint
                )?;
            }
            Cause::Transport(failure) => write!(f, "{} call failed: {failure}", self.endpoint)?,
        }
        if let Some(hint) = self.hint(Lang::En) {
            write!(f, " {hint}")?;
        }
        if let Some(trace) = &self.trace_id {
            write!(f, " [trace {trace}]")?;
        }
        let waited = if self.waited < Duration::from_secs(1) {
            format!("{} ms", self.waited.as_millis())
        } else {
            format!("{:.1} s", self.waited.as_secs_f64())
        };
        write!(
            f,
            " after {} attempt{}, {waited} waited ({})",
            self.attempts,
            if self.attempts == 1 { "" } else { "s" },
            self.stopped
        )
    }
}

/// `Display` tells the whole story in one line; `source()` gives the transport failure behind
/// it, for callers that walk the chain to match on its kind.
impl std::error::Error for CallFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.cause {
            Cause::Transport(failure) => Some(failure),
            _ => None,
        }
    }
}

/// Why a guarded call did not succeed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GuardError {
    /// The call failed, after the retries that made sense.
    #[error(transparent)]
    Failed(Box<CallFailure>),
    /// The request breaks MiniMax's rules; it was not sent.
    #[error("request not sent: {}", describe_invalid(.0))]
    Invalid(Box<Validation>),
    /// An account-level failure happened recently; calls of that account fail fast until
    /// `remaining` passes (for a spent plan window, until it resets).
    #[error("not sent: MiniMax answered {code} ({}) recently{}; calls fail fast for another {}. {}",
        code.info().message.en,
        trace_id.as_deref().map(|t| format!(" [trace {t}]")).unwrap_or_default(),
        match resets_at {
            Some(at) => minimax_errors::quota::resets_text(*at, minimax_errors::quota::unix_now(), minimax_errors::Lang::En).replacen("resets", "until it resets", 1),
            None => format!("{:.0} s", remaining.as_secs_f64()),
        },
        code.info().solution.en)]
    FailingFast {
        /// The account-level code.
        code: ErrorCode,
        /// The trace id of the answer that said so.
        trace_id: Option<String>,
        /// How long calls keep failing fast.
        remaining: Duration,
        /// When the plan window resets (Unix seconds), for a spent window (2056).
        resets_at: Option<i64>,
    },
    /// The call's turn under the account's pace would come after its deadline; it was not
    /// sent.
    #[error("not sent: {group} calls are paced at {rpm:.1} per minute under the account's limit, so this one would wait {:.1} s, past its deadline", wait.as_secs_f64())]
    PacedPastDeadline {
        /// The limit group.
        group: LimitGroup,
        /// How long it would have waited.
        wait: Duration,
        /// The group's pace, in requests per minute.
        rpm: f64,
    },
    /// A voice clone answered 2039 (duplicate voice_id) after an earlier attempt's answer was
    /// lost: that attempt may have cloned the voice. Check before cloning again.
    #[error(
        "voice_id already exists, probably cloned by an earlier attempt whose answer was lost: {0}"
    )]
    MaybeCreated(Box<CallFailure>),
    /// The client could not be set up or the request not built.
    #[error("{0}")]
    Setup(String),
}

impl GuardError {
    /// The MiniMax code behind the error, if there is one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            GuardError::Failed(f) | GuardError::MaybeCreated(f) => f.code(),
            GuardError::Invalid(v) => v.first_code(),
            GuardError::FailingFast { code, .. } => Some(*code),
            GuardError::PacedPastDeadline { .. } | GuardError::Setup(_) => None,
        }
    }

    /// The failed call, when the request was sent.
    pub fn failure(&self) -> Option<&CallFailure> {
        match self {
            GuardError::Failed(f) | GuardError::MaybeCreated(f) => Some(f),
            _ => None,
        }
    }
}

fn describe_invalid(validation: &Validation) -> String {
    let errors: Vec<String> = validation
        .errors()
        .map(|v| format!("{} ({})", v.message_en, v.code.as_i64()))
        .collect();
    errors.join("; ")
}
