//! Server-sent event streams (`stream: true`): an error can arrive as a normal `data:` event with
//! a non-zero `base_resp`, as an `event: error`, before any data or after some chunks.

use super::json::{self, ScanError};
use super::{Verdict, body_trace_id, judge, verdict_outcome};
use crate::classify::outcome::{Malformed, MalformedKind, Outcome, StreamSummary};
use crate::endpoint::Endpoint;
use std::borrow::Cow;

/// One dispatched event.
struct Event<'a> {
    /// The `event:` field, if any.
    name: Option<&'a [u8]>,
    /// The `data:` lines, joined with `\n` (borrowed when there is only one).
    data: Cow<'a, [u8]>,
    /// Whether a blank line ended it (false for the last event of a cut stream).
    complete: bool,
}

/// Splits a stream into events, following the SSE rules that matter here: `field: value` lines,
/// one optional space after the colon, comments starting with `:`, events ended by a blank line.
struct Events<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Events<'a> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        let mut name = None;
        let mut data: Option<Cow<'a, [u8]>> = None;
        while !self.rest.is_empty() {
            let (line, rest) = match memchr::memchr(b'\n', self.rest) {
                Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
                None => (self.rest, &b""[..]),
            };
            self.rest = rest;
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                if let Some(data) = data.take() {
                    return Some(Event {
                        name,
                        data,
                        complete: true,
                    });
                }
                name = None;
                continue;
            }
            if line.starts_with(b":") {
                continue;
            }
            let (field, value) = match memchr::memchr(b':', line) {
                Some(i) => (
                    &line[..i],
                    line[i + 1..].strip_prefix(b" ").unwrap_or(&line[i + 1..]),
                ),
                None => (line, &b""[..]),
            };
            match field {
                b"data" => {
                    data = Some(match data.take() {
                        None => Cow::Borrowed(value),
                        Some(previous) => {
                            let mut joined = previous.into_owned();
                            joined.push(b'\n');
                            joined.extend_from_slice(value);
                            Cow::Owned(joined)
                        }
                    });
                }
                b"event" => name = Some(value),
                _ => {}
            }
        }
        data.map(|data| Event {
            name,
            data,
            complete: false,
        })
    }
}

/// Classifies an event stream event by event; the first error decides.
pub(crate) fn classify_stream(
    body: &[u8],
    status: u16,
    endpoint: Endpoint,
    header_trace: Option<String>,
) -> Outcome {
    let mut summary = StreamSummary::default();
    let mut trace_id = header_trace;
    for (index, event) in (Events { rest: body }).enumerate() {
        let data = event.data.trim_ascii();
        if data == b"[DONE]" {
            summary.done_marker = true;
            continue;
        }
        if data.is_empty() {
            continue;
        }
        let is_error_event = event.name == Some(b"error");
        let verdict = match json::scan(data) {
            Ok(fields) => {
                trace_id = trace_id.or_else(|| body_trace_id(&fields));
                match judge(&fields, status) {
                    // `event: error` whose payload names no error is still an error.
                    Verdict::Ok if is_error_event => Verdict::Unreadable(
                        MalformedKind::UnexpectedShape,
                        format!("error event {} names no error code", index + 1),
                    ),
                    verdict => verdict,
                }
            }
            Err(ScanError::Truncated(_)) if !event.complete => Verdict::Unreadable(
                MalformedKind::Truncated,
                format!(
                    "stream cut off inside event {} after {} data events",
                    index + 1,
                    summary.data_events
                ),
            ),
            Err(error) => Verdict::Unreadable(
                MalformedKind::NotJson,
                format!(
                    "event {} is not a JSON answer: {}",
                    index + 1,
                    describe(error)
                ),
            ),
        };
        match verdict {
            Verdict::Ok => summary.data_events += 1,
            failure => return verdict_outcome(failure, status, endpoint, trace_id, Some(summary)),
        }
    }
    if summary.data_events == 0 && !summary.done_marker {
        return Outcome::Malformed(Malformed {
            kind: MalformedKind::Empty,
            detail: "event stream without any data event".to_string(),
            http_status: status,
            trace_id,
        });
    }
    verdict_outcome(Verdict::Ok, status, endpoint, trace_id, Some(summary))
}

fn describe(error: ScanError) -> String {
    match error {
        ScanError::NotAnObject(what) => format!("JSON {what}, not an object"),
        ScanError::Truncated(e) | ScanError::Invalid(e) => e.to_string(),
    }
}
