//! A call's outcome is told to the observer exactly once, also when the caller goes away: a
//! call dropped while it waits for its turn, while MiniMax answers or between attempts is
//! [`Seen::ClientGone`] (and was not sent, or not sent again); a started stream is told when
//! it ends, as a success only when it ended well, and as `client_gone` with the bytes passed
//! when whoever read it stopped first.

use crate::error::Cause;
use crate::observer::{Event, Observer, Seen};
use minimax_errors::Endpoint;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// Where a call was when its caller went away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Waiting for its turn under the account's pace (or the breaker's verdict): not sent.
    WaitingForTurn,
    /// An attempt on its way: MiniMax may have received it.
    InFlight,
    /// Waiting to retry: not sent again.
    BackingOff,
}

impl Phase {
    fn as_str(self) -> &'static str {
        match self {
            Phase::WaitingForTurn => "waiting_for_turn",
            Phase::InFlight => "in_flight",
            Phase::BackingOff => "backing_off",
        }
    }
}

/// Tells the observer of a call dropped before it ended; disarmed when the call returns.
pub(crate) struct CallWatch {
    observer: Option<Arc<dyn Observer>>,
    endpoint: Endpoint,
    /// Attempts made so far.
    pub attempts: u32,
    /// Where the call is now.
    pub phase: Phase,
    armed: bool,
}

impl CallWatch {
    pub(crate) fn new(observer: Option<Arc<dyn Observer>>, endpoint: Endpoint) -> CallWatch {
        CallWatch {
            observer,
            endpoint,
            attempts: 0,
            phase: Phase::WaitingForTurn,
            armed: true,
        }
    }

    /// The call returned: its outcome has been told.
    pub(crate) fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for CallWatch {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        tracing::info!(
            endpoint = self.endpoint.as_str(),
            attempt = self.attempts,
            phase = self.phase.as_str(),
            "the caller went away before the MiniMax call ended; it is cancelled"
        );
        if let Some(observer) = &self.observer {
            let context = json!({ "phase": self.phase.as_str() });
            observer.observe(&Event {
                context: Some(&context),
                ..Event::attempt(self.endpoint, Seen::ClientGone, self.attempts.max(1), true)
            });
        }
    }
}

/// A started stream's outcome, told once: by [`StreamWatch::ended`] when the stream ends, or
/// as `client_gone` (with the bytes passed) when it is dropped before.
pub struct StreamWatch {
    observer: Option<Arc<dyn Observer>>,
    endpoint: Endpoint,
    attempt: u32,
    latency: Duration,
    paced: Duration,
    trace_id: Option<String>,
    bytes: u64,
    told: bool,
}

impl std::fmt::Debug for StreamWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamWatch")
            .field("endpoint", &self.endpoint)
            .field("attempt", &self.attempt)
            .field("bytes", &self.bytes)
            .finish_non_exhaustive()
    }
}

impl StreamWatch {
    pub(crate) fn new(
        observer: Option<Arc<dyn Observer>>,
        endpoint: Endpoint,
        attempt: u32,
        latency: Duration,
        paced: Duration,
    ) -> StreamWatch {
        StreamWatch {
            observer,
            endpoint,
            attempt,
            latency,
            paced,
            trace_id: None,
            bytes: 0,
            told: false,
        }
    }

    /// A watch that tells nobody (a stream read outside an executor).
    pub fn unobserved(endpoint: Endpoint) -> StreamWatch {
        StreamWatch::new(None, endpoint, 1, Duration::ZERO, Duration::ZERO)
    }

    /// The stream's trace id, once known.
    pub(crate) fn trace_id(&mut self, trace_id: Option<&str>) {
        if self.trace_id.is_none() {
            self.trace_id = trace_id.map(str::to_string);
        }
    }

    /// `bytes` more reached whoever reads the stream.
    pub(crate) fn passed(&mut self, bytes: usize) {
        self.bytes += bytes as u64;
    }

    /// The bytes passed so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The stream ended: well (`Ok`), or with this cause.
    pub fn ended(mut self, end: Result<(), &Cause>) {
        self.told = true;
        let seen = match end {
            Ok(()) => Seen::Success,
            Err(cause) => cause.seen(),
        };
        self.tell(seen, None);
    }

    fn tell(&self, seen: Seen, context: Option<&serde_json::Value>) {
        if let Some(observer) = &self.observer {
            observer.observe(&Event {
                endpoint: self.endpoint,
                seen,
                attempt: self.attempt,
                final_attempt: true,
                latency: self.latency,
                paced: self.paced,
                trace_id: self.trace_id.as_deref(),
                context,
            });
        }
    }
}

impl Drop for StreamWatch {
    fn drop(&mut self) {
        if self.told {
            return;
        }
        tracing::info!(
            endpoint = self.endpoint.as_str(),
            attempt = self.attempt,
            bytes_passed = self.bytes,
            "the caller went away mid-stream; the MiniMax stream is closed"
        );
        let context = json!({ "phase": "streaming", "bytes_passed": self.bytes });
        self.tell(Seen::ClientGone, Some(&context));
    }
}
