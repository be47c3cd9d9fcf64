//! Classification: response bytes, HTTP status, headers and endpoint in; an [`Outcome`] out (the
//! seed's `handle_api_response`, for both error dialects and for event streams).
//!
//! ```
//! use minimax_errors::classify::{classify, Outcome};
//! use minimax_errors::{Endpoint, ErrorCode};
//!
//! // Native dialect: HTTP 200, the error is in base_resp.
//! let body = br#"{"base_resp":{"status_code":1002,"status_msg":"rate limit exceeded"}}"#;
//! let outcome = classify(body, 200, &[("Trace-Id", "abc123")], Endpoint::Chat);
//! let Outcome::ApiError(error) = &outcome else { panic!("expected an API error") };
//! assert_eq!(error.code, ErrorCode::RATE_LIMIT);
//! assert_eq!(error.trace_id.as_deref(), Some("abc123"));
//! assert!(outcome.is_retryable());
//!
//! // Compatible dialect: real HTTP status, the code ends the message.
//! let body = br#"{"type":"error","error":{"type":"authorized_error","message":"invalid api key (2049)"}}"#;
//! let outcome = classify(body, 401, &(), Endpoint::ChatCompatible);
//! assert!(matches!(outcome, Outcome::ApiError(e) if e.code == ErrorCode::INVALID_API_KEY));
//! ```

mod json;
mod outcome;
mod sse;

pub use outcome::{
    ApiError, CodeOrigin, Malformed, MalformedKind, Outcome, StreamSummary, Success,
};
pub use sse::{EventVerdict, StreamCheck};

use crate::code::ErrorCode;
use crate::endpoint::{Dialect, Endpoint};
use json::{Fields, ScanError};
use serde_json::Value;

/// Read access to response headers, by case-insensitive name.
pub trait Headers {
    /// The value of header `name`, if present and text.
    fn header(&self, name: &str) -> Option<&str>;
}

impl Headers for http::HeaderMap {
    fn header(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|value| value.to_str().ok())
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Headers for [(K, V)] {
    fn header(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(k, _)| k.as_ref().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }
}

impl<K: AsRef<str>, V: AsRef<str>, const N: usize> Headers for [(K, V); N] {
    fn header(&self, name: &str) -> Option<&str> {
        self.as_slice().header(name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Headers for Vec<(K, V)> {
    fn header(&self, name: &str) -> Option<&str> {
        self.as_slice().header(name)
    }
}

/// No headers at all.
impl Headers for () {
    fn header(&self, _: &str) -> Option<&str> {
        None
    }
}

/// Headers that carry a trace id, in order of preference (`Trace-Id` is the official one).
const TRACE_HEADERS: [&str; 3] = ["trace-id", "minimax-request-id", "x-mm-request-id"];

/// Longest trace id kept; anything longer is not a trace id and is cut.
const MAX_TRACE_LEN: usize = 128;

/// Classifies one response. Never panics, whatever the bytes; the body is only borrowed, and
/// large successful bodies are skimmed in place rather than parsed into values.
pub fn classify<H: Headers + ?Sized>(
    body: &[u8],
    status: u16,
    headers: &H,
    endpoint: Endpoint,
) -> Outcome {
    let header_trace = trace_id_from_headers(headers);
    let content = trim_start(body);
    let malformed = |kind, detail: String| {
        Outcome::Malformed(Malformed {
            kind,
            detail,
            http_status: status,
            trace_id: header_trace.clone(),
        })
    };
    match content.first() {
        None => malformed(MalformedKind::Empty, "empty body".to_string()),
        Some(b'<') => {
            let (detail, page_status) = html_detail(content);
            // A gateway page that names its own error status, delivered as a success (or
            // saved without its status line), is judged by the status it names.
            let status = match page_status {
                Some(named) if (200..300).contains(&status) => named,
                _ => status,
            };
            Outcome::Malformed(Malformed {
                kind: MalformedKind::Html,
                detail,
                http_status: status,
                trace_id: header_trace,
            })
        }
        Some(b'{') => classify_json(content, status, endpoint, header_trace),
        Some(_) if is_event_stream(content, headers) => {
            sse::classify_stream(content, status, endpoint, header_trace)
        }
        Some(_) => classify_json(content, status, endpoint, header_trace),
    }
}

/// The trace id response headers carry (`Trace-Id`, else `minimax-request-id`, else
/// `x-mm-request-id`), cleaned: printable, bounded, secrets scrubbed.
pub fn trace_id_from_headers<H: Headers + ?Sized>(headers: &H) -> Option<String> {
    TRACE_HEADERS
        .iter()
        .find_map(|name| headers.header(name))
        .and_then(clean_trace_id)
}

/// The body without a leading UTF-8 byte order mark and whitespace.
fn trim_start(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(body)
        .trim_ascii_start()
}

fn is_event_stream<H: Headers + ?Sized>(content: &[u8], headers: &H) -> bool {
    let declared = headers
        .header("content-type")
        .is_some_and(|t| t.to_ascii_lowercase().contains("text/event-stream"));
    let looks_like = [&b"data:"[..], b"event:", b"id:", b"retry:", b":"]
        .iter()
        .any(|prefix| content.starts_with(prefix));
    declared || looks_like
}

fn classify_json(
    body: &[u8],
    status: u16,
    endpoint: Endpoint,
    header_trace: Option<String>,
) -> Outcome {
    match json::scan(body) {
        Ok(fields) => {
            let trace_id = header_trace.or_else(|| body_trace_id(&fields));
            verdict_outcome(judge(&fields, status), status, endpoint, trace_id, None)
        }
        Err(error) => Outcome::Malformed(scan_failure(error, body, status, header_trace)),
    }
}

/// Describes a body that could not be scanned.
fn scan_failure(error: ScanError, body: &[u8], status: u16, trace_id: Option<String>) -> Malformed {
    let (kind, detail) = match error {
        ScanError::NotAnObject(what) => (
            MalformedKind::UnexpectedShape,
            format!("JSON {what}, not an object: {}", preview(body)),
        ),
        ScanError::Truncated(e) => (
            MalformedKind::Truncated,
            format!("JSON cut off after {} bytes ({e})", body.len()),
        ),
        ScanError::Invalid(e) => (
            MalformedKind::NotJson,
            format!("not JSON ({e}): {}", preview(body)),
        ),
    };
    Malformed {
        kind,
        detail,
        http_status: status,
        trace_id,
    }
}

/// What one JSON answer (a whole body or one stream event) says.
pub(crate) enum Verdict {
    Ok,
    Error {
        code: ErrorCode,
        message: String,
        dialect: Dialect,
        error_type: Option<String>,
        origin: CodeOrigin,
    },
    Unreadable(MalformedKind, String),
}

fn verdict_outcome(
    verdict: Verdict,
    status: u16,
    endpoint: Endpoint,
    trace_id: Option<String>,
    stream: Option<StreamSummary>,
) -> Outcome {
    match verdict {
        Verdict::Ok => Outcome::Success(Success {
            http_status: status,
            trace_id,
            stream,
        }),
        Verdict::Error {
            code,
            message,
            dialect,
            error_type,
            origin,
        } => Outcome::ApiError(ApiError {
            code,
            server_message: message,
            endpoint,
            http_status: status,
            trace_id,
            dialect,
            error_type,
            code_origin: origin,
            stream,
        }),
        Verdict::Unreadable(kind, detail) => Outcome::Malformed(Malformed {
            kind,
            detail,
            http_status: status,
            trace_id,
        }),
    }
}

/// Decides one JSON answer: `base_resp` first (native), then an error envelope (compatible),
/// then the HTTP status. An `error` object beside `status_code` 0 is still an error, and a body
/// that holds nothing at all (`{}`, only nulls) is not a success.
pub(crate) fn judge(fields: &Fields<'_>, status: u16) -> Verdict {
    let success_status = (200..300).contains(&status);
    let envelope = json::small_value(fields.error);
    let top_type = json::text_of(fields.kind);
    let has_envelope = envelope.is_some() || top_type.as_deref() == Some("error");
    let mut base_success = false;
    if let Some(base) = json::small_value(fields.base_resp) {
        let message = base
            .get("status_msg")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match json::code_of(base.get("status_code")) {
            None => {
                // Quoted as the server wrote it (`1e+20` would be a re-serialisation).
                let raw = fields.base_resp.map_or("", |raw| raw.get());
                return Verdict::Unreadable(
                    MalformedKind::UnexpectedShape,
                    format!("base_resp has no integer status_code: {}", bounded(raw)),
                );
            }
            Some(0) => base_success = true,
            Some(code) => {
                return Verdict::Error {
                    code: ErrorCode::new(code),
                    message: bounded(message),
                    dialect: Dialect::Native,
                    error_type: None,
                    origin: CodeOrigin::BaseResp,
                };
            }
        }
    }
    if has_envelope {
        return judge_envelope(envelope.as_ref(), status);
    }
    if success_status && (base_success || fields.has_payload) {
        return Verdict::Ok;
    }
    if success_status {
        return Verdict::Unreadable(
            MalformedKind::UnexpectedShape,
            "a JSON body with no answer in it: no base_resp, no error and no data".to_string(),
        );
    }
    match crate::wire::code_for_status(status) {
        Some(code) => Verdict::Error {
            code,
            message: String::new(),
            dialect: Dialect::Compatible,
            error_type: None,
            origin: CodeOrigin::HttpStatus,
        },
        None => Verdict::Unreadable(
            MalformedKind::UnexpectedStatus,
            format!("HTTP {status} with a JSON body that names no error"),
        ),
    }
}

/// Reads a compatible-dialect error envelope: `{"error":{"type":T,"message":"... (CODE)"}}`,
/// or a bare string `error`.
fn judge_envelope(envelope: Option<&Value>, status: u16) -> Verdict {
    let (message, error_type, code_field) = match envelope {
        Some(Value::Object(map)) => (
            map.get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            map.get("type").and_then(Value::as_str).map(str::to_string),
            json::code_of(map.get("code")).or_else(|| json::code_of(map.get("status_code"))),
        ),
        Some(Value::String(s)) => (s.clone(), None, None),
        _ => (String::new(), None, None),
    };
    // The number in the message is the MiniMax code when the catalog knows it; an unknown one
    // (often an HTTP status, "… (2064) (529)") gives way to what `error.type` says.
    let from_type = error_type.as_deref().and_then(crate::wire::code_for_type);
    let from_message = code_in_message(&message).or(code_field).map(ErrorCode::new);
    let found = match (from_message, from_type) {
        (Some(code), Some(typed)) if !code.is_known() => Some((typed, CodeOrigin::ErrorType)),
        (Some(code), _) => Some((code, CodeOrigin::Message)),
        (None, Some(typed)) => Some((typed, CodeOrigin::ErrorType)),
        (None, None) => crate::wire::code_for_status(status).map(|c| (c, CodeOrigin::HttpStatus)),
    };
    match found {
        Some((code, origin)) => Verdict::Error {
            code,
            message: bounded(&message),
            dialect: Dialect::Compatible,
            error_type,
            origin,
        },
        None => Verdict::Unreadable(
            MalformedKind::UnexpectedShape,
            format!(
                "error envelope names no code (type {}): {}",
                error_type.as_deref().unwrap_or("none"),
                bounded(&message)
            ),
        ),
    }
}

/// The MiniMax code a compatible endpoint's message ends with: "… (2049)". When it ends with
/// several ("… (2064) (529)", a proxy adding the HTTP status), the last one the catalog knows;
/// else the last one.
fn code_in_message(message: &str) -> Option<i64> {
    let mut rest = message.trim_end().trim_end_matches('.').trim_end();
    let mut numbers = Vec::new();
    while let Some(inner) = rest.strip_suffix(')') {
        let Some(open) = inner.rfind('(') else { break };
        let digits = inner[open + 1..].trim();
        let valid =
            !digits.is_empty() && digits.len() <= 9 && digits.bytes().all(|b| b.is_ascii_digit());
        if !valid {
            break;
        }
        numbers.extend(digits.parse::<i64>().ok());
        rest = inner[..open].trim_end();
    }
    numbers
        .iter()
        .copied()
        .find(|n| ErrorCode::new(*n).is_known())
        .or_else(|| numbers.first().copied())
}

/// The trace id a body carries: `trace_id` (T2A), `request_id` (compatible), `id` (chat, image).
pub(crate) fn body_trace_id(fields: &Fields<'_>) -> Option<String> {
    [fields.trace_id, fields.request_id, fields.id]
        .into_iter()
        .find_map(json::text_of)
        .and_then(|id| clean_trace_id(&id))
}

/// A trace id safe to print and log: trimmed, printable, secrets scrubbed, then bounded (a
/// server that echoes the key in `Trace-Id` must not put it, or part of it, in every error);
/// `None` if nothing is left.
fn clean_trace_id(raw: &str) -> Option<String> {
    let printable: String = raw.trim().chars().filter(|c| !c.is_control()).collect();
    let clean = crate::scrub::scrub_bounded(&printable, MAX_TRACE_LEN);
    (!clean.is_empty()).then_some(clean)
}

/// A server message kept to a sane length, free of control characters and of secrets: every
/// text taken from an answer goes through here before anyone shows, logs or serialises it.
pub fn bounded(text: &str) -> String {
    const MAX: usize = 500;
    let printable: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    crate::scrub::scrub_bounded(&printable, MAX)
}

/// The start of a body, quoted with escapes and secrets scrubbed, for one-line descriptions of
/// bad input. Scrubbed before it is cut, so a key at the cut cannot leave a fragment behind.
fn preview(body: &[u8]) -> String {
    const SHOWN: usize = 60;
    let head = &body[..body.len().min(1024)];
    let text = String::from_utf8_lossy(head);
    let mut shown = crate::scrub::scrub_bounded(text.trim_end_matches('\u{FFFD}'), SHOWN);
    let cut = shown.ends_with('…');
    if cut {
        shown.pop();
    }
    let mut quoted = format!("{shown:?}");
    if cut || body.len() > head.len() {
        quoted.push('…');
    }
    quoted
}

/// "HTML page instead of JSON: <title>" for a gateway's error page, and the error status the
/// title names ("502 Bad Gateway"), if any.
fn html_detail(body: &[u8]) -> (String, Option<u16>) {
    let head = &body[..body.len().min(64 * 1024)];
    let lower = head.to_ascii_lowercase();
    let title = memchr::memmem::find(&lower, b"<title>").and_then(|start| {
        let rest = &head[start + 7..];
        let end = memchr::memmem::find(&lower[start + 7..], b"</title>")?;
        let title = String::from_utf8_lossy(&rest[..end]);
        let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
        (!title.is_empty()).then(|| bounded(&title))
    });
    match title {
        Some(title) => {
            let named = title
                .split_whitespace()
                .next()
                .and_then(|w| w.parse::<u16>().ok())
                .filter(|s| (400..600).contains(s));
            (format!("HTML page instead of JSON: {title}"), named)
        }
        None => (
            format!("HTML page instead of JSON: {}", preview(body)),
            None,
        ),
    }
}

#[cfg(test)]
mod tests;
