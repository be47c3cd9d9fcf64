//! Server-sent event streams (`stream: true`): an error can arrive as a normal `data:` event with
//! a non-zero `base_resp`, as an `event: error`, before any data or after some chunks; and a
//! stream that stops without its end marker was cut off, however well its last event ended.

use super::json::{self, ScanError};
use super::{Verdict, body_trace_id, judge, verdict_outcome};
use crate::classify::outcome::{Malformed, MalformedKind, Outcome, StreamSummary};
use crate::endpoint::Endpoint;
use crate::sse::Event;

/// What one event of a stream says.
#[derive(Debug, Clone, PartialEq)]
pub enum EventVerdict {
    /// A data event of a successful answer: hand it to the caller.
    Data,
    /// Nothing for the caller: `[DONE]` or an empty event.
    Skip,
    /// The stream failed here (an error event, or an event that cannot be read).
    Failed(Outcome),
}

/// Follows one stream event by event: which events are data, which one fails it, and whether it
/// ended with its end marker (`[DONE]`, a `finish_reason`, T2A's `status: 2`, Anthropic's
/// `message_stop`). The classifier runs it over a whole body; the client over a live stream.
#[derive(Debug, Clone)]
pub struct StreamCheck {
    endpoint: Endpoint,
    status: u16,
    summary: StreamSummary,
    trace_id: Option<String>,
    events: usize,
}

impl StreamCheck {
    /// A check of a stream from `endpoint`, answered with HTTP `status`, whose headers carried
    /// `trace_id` (see [`super::trace_id_from_headers`]).
    pub fn new(endpoint: Endpoint, status: u16, trace_id: Option<String>) -> StreamCheck {
        StreamCheck {
            endpoint,
            status,
            summary: StreamSummary::default(),
            trace_id,
            events: 0,
        }
    }

    /// What the stream held so far.
    pub fn summary(&self) -> StreamSummary {
        self.summary
    }

    /// The trace id: from the headers, else the first event that carried one.
    pub fn trace_id(&self) -> Option<&str> {
        self.trace_id.as_deref()
    }

    /// Judges the next event.
    pub fn event(&mut self, event: &Event<'_>) -> EventVerdict {
        self.events += 1;
        let index = self.events;
        let data = event.data.trim_ascii();
        if data == b"[DONE]" {
            self.summary.done_marker = true;
            self.summary.finished = true;
            return EventVerdict::Skip;
        }
        if data.is_empty() {
            return EventVerdict::Skip;
        }
        let verdict = match json::scan(data) {
            Ok(fields) => {
                if self.trace_id.is_none() {
                    self.trace_id = body_trace_id(&fields);
                }
                match judge(&fields, self.status) {
                    // `event: error` whose payload names no error is still an error.
                    Verdict::Ok if event.is_named("error") => Verdict::Unreadable(
                        MalformedKind::UnexpectedShape,
                        format!("error event {index} names no error code"),
                    ),
                    Verdict::Ok => {
                        self.summary.finished |=
                            event.is_named("message_stop") || json::ends_stream(&fields);
                        Verdict::Ok
                    }
                    verdict => verdict,
                }
            }
            Err(ScanError::Truncated(_)) if !event.complete => Verdict::Unreadable(
                MalformedKind::Truncated,
                format!(
                    "stream cut off inside event {index} after {} data events",
                    self.summary.data_events
                ),
            ),
            Err(error) => Verdict::Unreadable(
                MalformedKind::NotJson,
                format!("event {index} is not a JSON answer: {}", describe(error)),
            ),
        };
        match verdict {
            Verdict::Ok => {
                self.summary.data_events += 1;
                EventVerdict::Data
            }
            failure => EventVerdict::Failed(verdict_outcome(
                failure,
                self.status,
                self.endpoint,
                self.trace_id.clone(),
                Some(self.summary),
            )),
        }
    }

    /// The stream's outcome now that it has ended without a failed event: a success only if it
    /// ended with its end marker.
    pub fn end(&self) -> Outcome {
        let unreadable = |kind, detail| {
            Outcome::Malformed(Malformed {
                kind,
                detail,
                http_status: self.status,
                trace_id: self.trace_id.clone(),
            })
        };
        if self.summary.finished {
            return verdict_outcome(
                Verdict::Ok,
                self.status,
                self.endpoint,
                self.trace_id.clone(),
                Some(self.summary),
            );
        }
        if self.summary.data_events == 0 {
            return unreadable(
                MalformedKind::Empty,
                "event stream without any data event".to_string(),
            );
        }
        unreadable(
            MalformedKind::Truncated,
            format!(
                "stream cut off after {} data events: it ended without [DONE], a finish_reason, a final status or message_stop",
                self.summary.data_events
            ),
        )
    }
}

/// Classifies an event stream held whole, event by event; the first error decides.
pub(crate) fn classify_stream(
    body: &[u8],
    status: u16,
    endpoint: Endpoint,
    header_trace: Option<String>,
) -> Outcome {
    let mut check = StreamCheck::new(endpoint, status, header_trace);
    for event in crate::sse::events(body) {
        if let EventVerdict::Failed(outcome) = check.event(&event) {
            return outcome;
        }
    }
    check.end()
}

fn describe(error: ScanError) -> String {
    match error {
        ScanError::NotAnObject(what) => format!("JSON {what}, not an object"),
        ScanError::Truncated(e) | ScanError::Invalid(e) => e.to_string(),
    }
}
