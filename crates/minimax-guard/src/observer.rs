//! What the executor reports about each attempt, to whoever wants to know: the [`Observer`]
//! trait. The monitor implements it; nothing else in the guard knows the monitor.

use minimax_errors::{Endpoint, LimitGroup};
use serde_json::Value;
use std::fmt;
use std::time::Duration;

pub use minimax_errors::Seen;

/// What happened on one attempt of a call.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    /// The endpoint called.
    pub endpoint: Endpoint,
    /// How the attempt ended.
    pub seen: Seen,
    /// Which attempt of the call (1 = first).
    pub attempt: u32,
    /// Whether it was the call's final attempt (its outcome is the call's).
    pub final_attempt: bool,
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
    pub fn attempt(
        endpoint: Endpoint,
        seen: Seen,
        attempt: u32,
        final_attempt: bool,
    ) -> Event<'static> {
        Event {
            endpoint,
            seen,
            attempt,
            final_attempt,
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
