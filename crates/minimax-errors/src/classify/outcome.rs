//! What classification returns: success, an API error, or a response that cannot be read.

use crate::catalog::CodeInfo;
use crate::code::ErrorCode;
use crate::endpoint::{Dialect, Endpoint};
use serde::Serialize;
use std::fmt;

/// The result of classifying one response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The call succeeded.
    Success(Success),
    /// MiniMax answered with an error code.
    ApiError(ApiError),
    /// The response cannot be read as a MiniMax answer (empty, HTML, not JSON, truncated, …).
    Malformed(Malformed),
}

impl Outcome {
    /// Whether the call succeeded.
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Success(_))
    }

    /// The trace id to give MiniMax support, when the response carried one.
    pub fn trace_id(&self) -> Option<&str> {
        match self {
            Outcome::Success(s) => s.trace_id.as_deref(),
            Outcome::ApiError(e) => e.trace_id.as_deref(),
            Outcome::Malformed(m) => m.trace_id.as_deref(),
        }
    }

    /// The HTTP status the response came with.
    pub fn http_status(&self) -> u16 {
        match self {
            Outcome::Success(s) => s.http_status,
            Outcome::ApiError(e) => e.http_status,
            Outcome::Malformed(m) => m.http_status,
        }
    }

    /// Whether sending the same request again may succeed: by the catalog for API errors, by the
    /// HTTP status and the kind of damage for malformed responses.
    pub fn is_retryable(&self) -> bool {
        match self {
            Outcome::Success(_) => false,
            Outcome::ApiError(e) => e.info().is_retryable(),
            Outcome::Malformed(m) => m.is_retryable(),
        }
    }
}

/// A successful response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Success {
    /// The HTTP status.
    pub http_status: u16,
    /// The trace id, if any.
    pub trace_id: Option<String>,
    /// For a server-sent event stream: what it held.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamSummary>,
}

/// What a server-sent event stream held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct StreamSummary {
    /// Data events read before the stream ended or failed (not counting `[DONE]`).
    pub data_events: usize,
    /// Whether the stream ended with `data: [DONE]`.
    pub done_marker: bool,
    /// Whether it held its end marker (`[DONE]`, a `finish_reason`, T2A's final status or
    /// `message_stop`): a stream without one was cut off.
    pub finished: bool,
}

/// Where the code of an [`ApiError`] was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeOrigin {
    /// `base_resp.status_code` (native dialect).
    BaseResp,
    /// The `(CODE)` at the end of a compatible envelope's message, or its `code` field.
    Message,
    /// Inferred from the compatible envelope's `error.type` (the message carried no code).
    ErrorType,
    /// Inferred from the HTTP status (the body carried no code at all).
    HttpStatus,
}

/// MiniMax answered with an error.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiError {
    /// The MiniMax code.
    pub code: ErrorCode,
    /// The server's own message (`status_msg` or `error.message`).
    pub server_message: String,
    /// The endpoint the response came from (decides the meaning of some codes).
    pub endpoint: Endpoint,
    /// The HTTP status.
    pub http_status: u16,
    /// The trace id, if any.
    pub trace_id: Option<String>,
    /// Which error dialect the body spoke.
    pub dialect: Dialect,
    /// The compatible envelope's `error.type` (`rate_limit_error`), if any.
    pub error_type: Option<String>,
    /// Where the code was read from.
    pub code_origin: CodeOrigin,
    /// For an error inside an event stream: what came before it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamSummary>,
}

impl ApiError {
    /// What the catalog says about this code on this endpoint.
    pub fn info(&self) -> CodeInfo {
        self.code.info_on(self.endpoint)
    }
}

impl fmt::Display for ApiError {
    /// "MiniMax error 1002 (rate limit): <server message> [trace <id>]".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MiniMax error {} ({})",
            self.code.as_i64(),
            self.info().message.en
        )?;
        if !self.server_message.is_empty() {
            write!(f, ": {}", self.server_message)?;
        }
        if let Some(trace) = &self.trace_id {
            write!(f, " [trace {trace}]")?;
        }
        Ok(())
    }
}

/// How a response failed to be a readable MiniMax answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MalformedKind {
    /// No body at all (or only whitespace).
    Empty,
    /// An HTML page, typically a gateway's error page.
    Html,
    /// Not JSON (and not an event stream).
    NotJson,
    /// JSON that ends before it is complete: the connection was cut.
    Truncated,
    /// Valid JSON, but not shaped like any MiniMax answer (e.g. `base_resp` without a code).
    UnexpectedShape,
    /// A non-success HTTP status with a body that says nothing about why.
    UnexpectedStatus,
}

impl MalformedKind {
    /// Its name in logs and labels (`html`, `truncated`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            MalformedKind::Empty => "empty",
            MalformedKind::Html => "html",
            MalformedKind::NotJson => "not_json",
            MalformedKind::Truncated => "truncated",
            MalformedKind::UnexpectedShape => "unexpected_shape",
            MalformedKind::UnexpectedStatus => "unexpected_status",
        }
    }

    /// Whether an answer damaged this way, with this HTTP status, may pass when sent again:
    /// gateway and server failures (5xx, 429, 408) and cut connections may; a well-delivered
    /// body that cannot be read will not change.
    pub fn is_retryable_with(self, http_status: u16) -> bool {
        matches!(http_status, 408 | 429 | 500..=599)
            || (matches!(self, MalformedKind::Truncated | MalformedKind::Empty)
                && (200..300).contains(&http_status))
    }
}

/// A response that cannot be read as a MiniMax answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Malformed {
    /// What is wrong with it.
    pub kind: MalformedKind,
    /// One line saying what was found, safe to show (bounded, control characters escaped).
    pub detail: String,
    /// The HTTP status.
    pub http_status: u16,
    /// The trace id, if a header carried one.
    pub trace_id: Option<String>,
}

impl Malformed {
    /// Whether sending again may help: gateway and server failures (5xx, 429, 408) and cut
    /// connections may pass; a well-delivered body that we cannot read will not change.
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable_with(self.http_status)
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unreadable response (HTTP {}): {}",
            self.http_status, self.detail
        )
    }
}
