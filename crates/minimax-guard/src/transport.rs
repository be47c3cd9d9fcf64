//! Failures below HTTP: the request never got a complete answer. Connect errors, timeouts and
//! connections lost mid-answer are worth a retry; TLS failures, invalid URLs and requests that
//! cannot be built are not.

use serde::Serialize;
use std::error::Error as _;
use std::fmt;

/// What went wrong in transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TransportKind {
    /// The connection could not be opened (refused, unreachable, DNS).
    Connect,
    /// No answer in time.
    Timeout,
    /// The connection dropped before the answer was complete: the request may have been done.
    ConnectionLost,
    /// TLS handshake or certificate failure: retrying the same host will not help.
    Tls,
    /// The URL is not valid.
    InvalidUrl,
    /// The request could not be built or its body not encoded.
    Request,
    /// The answer was larger than the client accepts (a broken or hostile server).
    TooLarge,
}

impl TransportKind {
    /// Its name in logs and labels (`connect`, `timeout`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Connect => "connect",
            TransportKind::Timeout => "timeout",
            TransportKind::ConnectionLost => "connection_lost",
            TransportKind::Tls => "tls",
            TransportKind::InvalidUrl => "invalid_url",
            TransportKind::Request => "request",
            TransportKind::TooLarge => "too_large",
        }
    }

    /// Whether sending again can help.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            TransportKind::Connect | TransportKind::Timeout | TransportKind::ConnectionLost
        )
    }

    /// Whether the server may have done the work although no answer arrived.
    pub fn is_ambiguous(self) -> bool {
        matches!(self, TransportKind::Timeout | TransportKind::ConnectionLost)
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Connect => "connection failed",
            TransportKind::Timeout => "timed out",
            TransportKind::ConnectionLost => "connection lost",
            TransportKind::Tls => "TLS failure",
            TransportKind::InvalidUrl => "invalid URL",
            TransportKind::Request => "request could not be sent",
            TransportKind::TooLarge => "answer too large",
        })
    }
}

/// A transport failure, described without the URL's query or any header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransportFailure {
    /// What went wrong.
    pub kind: TransportKind,
    /// The underlying error, in one line.
    pub detail: String,
}

impl fmt::Display for TransportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.detail)
    }
}

impl std::error::Error for TransportFailure {}

impl TransportFailure {
    /// Classifies a reqwest error.
    pub fn from_reqwest(error: &reqwest::Error) -> TransportFailure {
        let chain = error_chain(error);
        let lower = chain.to_ascii_lowercase();
        let kind = if error.is_builder() && lower.contains("url") {
            TransportKind::InvalidUrl
        } else if error.is_builder() {
            TransportKind::Request
        } else if lower.contains("certificate")
            || lower.contains("tls")
            || lower.contains("handshake")
        {
            TransportKind::Tls
        } else if error.is_timeout() {
            TransportKind::Timeout
        } else if error.is_connect() {
            TransportKind::Connect
        } else if error.is_request() || error.is_body() || error.is_decode() {
            TransportKind::ConnectionLost
        } else {
            TransportKind::Request
        };
        // The message without the URL (reqwest appends it; a query could carry a GroupId).
        let detail = minimax_errors::scrub::scrub_text(&chain).into_owned();
        TransportFailure { kind, detail }
    }
}

/// The error and its sources on one line, without the URL reqwest adds.
fn error_chain(error: &reqwest::Error) -> String {
    let mut parts = vec![error.without_url_ref().to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

/// `error.without_url()` consumes the error; this borrows it.
trait WithoutUrlRef {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrlRef for reqwest::Error {
    fn without_url_ref(&self) -> String {
        let text = self.to_string();
        match self.url() {
            Some(url) => text
                .replace(&format!(" for url ({url})"), "")
                .replace(url.as_str(), "<url>"),
            None => text,
        }
    }
}
