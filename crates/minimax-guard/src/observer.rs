//! What the executor reports about each attempt, to whoever wants to know: the [`Observer`]
//! trait. The monitor implements it; nothing else in the guard knows the monitor.

use minimax_errors::{Endpoint, ErrorCode, LimitGroup};
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use std::time::Duration;

/// What an attempt ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Seen {
    /// A successful answer.
    Success,
    /// MiniMax answered with this code.
    Code(ErrorCode),
    /// An answer that could not be read (gateway page, cut off, …).
    Malformed,
    /// No complete answer (connect error, timeout, connection lost).
    Transport,
    /// Not sent: an account-level failure was met recently (the breaker is open).
    FailingFast,
    /// Not sent: its turn under the account's pace would have come after its deadline.
    PacedPastDeadline,
}

impl Seen {
    /// The outcome's name in counters, logs and metrics: `"success"`, `"1002"`,
    /// `"malformed"`, `"transport"`, `"failing_fast"`.
    pub fn label(self) -> String {
        match self.static_label() {
            Some(label) => label.to_string(),
            None => match self {
                Seen::Code(code) => code.as_i64().to_string(),
                _ => String::new(),
            },
        }
    }

    /// The label without allocating, for everything but codes outside the catalog.
    pub fn static_label(self) -> Option<&'static str> {
        match self {
            Seen::Success => Some("success"),
            Seen::Malformed => Some("malformed"),
            Seen::Transport => Some("transport"),
            Seen::FailingFast => Some("failing_fast"),
            Seen::PacedPastDeadline => Some("paced_past_deadline"),
            Seen::Code(code) => code.label(),
        }
    }

    /// Whether it is an error.
    pub fn is_error(self) -> bool {
        self != Seen::Success
    }
}

/// What happened on one attempt of a call.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    /// The endpoint called.
    pub endpoint: Endpoint,
    /// How the attempt ended.
    pub seen: Seen,
    /// Which attempt of the call (1 = first).
    pub attempt: u32,
    /// Whether it was the call's last attempt (its final outcome).
    pub last: bool,
    /// How long the attempt took.
    pub latency: Duration,
    /// How long it waited for its turn under the account's pace.
    pub paced: Duration,
    /// The answer's trace id.
    pub trace_id: Option<&'a str>,
    /// Anything else worth keeping in an error log (scrubbed before it is written).
    pub context: Option<&'a Value>,
}

impl Event<'static> {
    /// An attempt without latency, trace id or context.
    pub fn attempt(endpoint: Endpoint, seen: Seen, attempt: u32, last: bool) -> Event<'static> {
        Event {
            endpoint,
            seen,
            attempt,
            last,
            latency: Duration::ZERO,
            paced: Duration::ZERO,
            trace_id: None,
            context: None,
        }
    }
}

/// Told about every attempt the executor makes, about calls that end unsent, and about the
/// state of the budget and the pace. Called on the caller's task: nothing here may block.
pub trait Observer: Send + Sync + fmt::Debug {
    /// One attempt ended (or a call ended unsent).
    fn observe(&self, event: &Event<'_>);

    /// The retry budget holds `tokens` after a call changed it.
    fn budget(&self, tokens: u32) {
        let _ = tokens;
    }

    /// The pace of `group`: `rpm` requests per minute, `waiting` callers in its queue.
    fn pace(&self, group: LimitGroup, rpm: f64, waiting: usize) {
        let _ = (group, rpm, waiting);
    }
}
