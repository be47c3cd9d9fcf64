//! Each dialect's error envelope, read and written in one place, so the classifier, the mock
//! and anything that answers for MiniMax (a proxy failing a request locally) cannot disagree:
//! native `base_resp` under HTTP 200, and the compatible envelope with a real status that the
//! OpenAI- and Anthropic-compatible endpoints share, `{"type":"error","error":{"type":T,
//! "message":"… (CODE)","http_code":"S"},"request_id":…}`, also sent as an SSE `event: error`.
//!
//! ```
//! use minimax_errors::{Dialect, ErrorCode, wire};
//! use minimax_errors::classify::{classify, Outcome};
//!
//! let answer = wire::error(Dialect::Compatible, ErrorCode::SERVER_OVERLOADED, "high load", "req-1");
//! assert_eq!(answer.status, 529);
//! let outcome = classify(&answer.body, answer.status, &(), minimax_errors::Endpoint::Anthropic);
//! assert!(matches!(outcome, Outcome::ApiError(e) if e.code == ErrorCode::SERVER_OVERLOADED));
//! ```

use crate::category::Category;
use crate::code::ErrorCode;
use crate::endpoint::{Dialect, Endpoint};
use serde_json::{Value, json};

/// An error answer, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorAnswer {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body.
    pub body: Vec<u8>,
}

/// `{"status_code":…,"status_msg":…}`: the native dialect's outcome.
pub fn base_resp(code: ErrorCode, message: &str) -> Value {
    json!({ "status_code": code.as_i64(), "status_msg": message })
}

/// The compatible envelope's `type` and HTTP status for a code: MiniMax's official pairs
/// (`rate_limit_error` 429, `authorized_error` 401, `overloaded_error` 529, …).
pub fn type_and_status(code: ErrorCode) -> (&'static str, u16) {
    if code == ErrorCode::SERVER_OVERLOADED {
        return ("overloaded_error", 529);
    }
    match code.info().category {
        Category::Auth => ("authorized_error", 401),
        Category::Billing => ("insufficient_balance_error", 402),
        Category::Throttling | Category::Quota => ("rate_limit_error", 429),
        Category::Content => ("unprocessable_entity_error", 422),
        Category::Transient | Category::Unknown => ("server_error", 500),
        Category::InvalidRequest
        | Category::Permission
        | Category::Conflict
        | Category::NotFound => ("bad_request_error", 400),
    }
}

/// The compatible envelope's body: the code at the end of the message, as MiniMax writes it.
pub fn compatible_body(code: ErrorCode, message: &str, request_id: &str) -> Value {
    let (kind, status) = type_and_status(code);
    json!({
        "type": "error",
        "error": {
            "type": kind,
            "message": format!("{message} ({})", code.as_i64()),
            "http_code": status.to_string(),
        },
        "request_id": request_id,
    })
}

/// An error in `dialect`: HTTP 200 with `base_resp` (and the trace id), or the compatible
/// envelope with its status.
pub fn error(dialect: Dialect, code: ErrorCode, message: &str, trace_id: &str) -> ErrorAnswer {
    let (status, body) = match dialect {
        Dialect::Native => (
            200,
            json!({ "base_resp": base_resp(code, message), "trace_id": trace_id }),
        ),
        Dialect::Compatible => (
            type_and_status(code).1,
            compatible_body(code, message, trace_id),
        ),
    };
    ErrorAnswer {
        status,
        body: body.to_string().into_bytes(),
    }
}

/// An error as `endpoint` writes it: its dialect's envelope, with what real accounts see where
/// an endpoint departs from the official pairs (the Anthropic-compatible endpoint answers 1008
/// with HTTP 500 `api_error`, not 402).
pub fn error_on(endpoint: Endpoint, code: ErrorCode, message: &str, trace_id: &str) -> ErrorAnswer {
    let mut answer = error(endpoint.dialect(), code, message, trace_id);
    if endpoint == Endpoint::Anthropic && code.info().category == Category::Billing {
        let mut body = compatible_body(code, message, trace_id);
        body["error"]["type"] = json!("api_error");
        body["error"]["http_code"] = json!("500");
        answer = ErrorAnswer {
            status: 500,
            body: body.to_string().into_bytes(),
        };
    }
    answer
}

/// The same error as one server-sent event: `data:` with `base_resp` (native) or Anthropic's
/// `event: error` with the compatible envelope.
pub fn stream_error(dialect: Dialect, code: ErrorCode, message: &str, trace_id: &str) -> String {
    match dialect {
        Dialect::Native => format!(
            "data: {}\n\n",
            json!({ "base_resp": base_resp(code, message), "trace_id": trace_id })
        ),
        Dialect::Compatible => format!(
            "event: error\ndata: {}\n\n",
            compatible_body(code, message, trace_id)
        ),
    }
}

/// The code a compatible envelope's `type` stands for when its message carries none.
pub fn code_for_type(error_type: &str) -> Option<ErrorCode> {
    Some(match error_type {
        "authorized_error" | "authentication_error" => ErrorCode::UNAUTHORIZED,
        "bad_request_error" | "invalid_request_error" => ErrorCode::INVALID_PARAMS,
        "rate_limit_error" => ErrorCode::RATE_LIMIT,
        "insufficient_balance_error" => ErrorCode::INSUFFICIENT_BALANCE,
        "overloaded_error" => ErrorCode::SERVER_OVERLOADED,
        "server_error" | "api_error" => ErrorCode::UNKNOWN_ERROR,
        _ => return None,
    })
}

/// The code an HTTP status stands for when the body names none; only statuses whose meaning is
/// unambiguous (a 502 from a gateway says nothing about MiniMax codes).
pub fn code_for_status(status: u16) -> Option<ErrorCode> {
    Some(match status {
        401 => ErrorCode::UNAUTHORIZED,
        402 => ErrorCode::INSUFFICIENT_BALANCE,
        429 => ErrorCode::RATE_LIMIT,
        529 => ErrorCode::SERVER_OVERLOADED,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;
    use crate::classify::{Outcome, classify};

    #[test]
    fn what_is_written_reads_back_as_the_same_code_in_every_dialect() {
        for info in catalog::entries() {
            for (dialect, endpoint) in [
                (Dialect::Native, Endpoint::Chat),
                (Dialect::Compatible, Endpoint::ChatCompatible),
                (Dialect::Compatible, Endpoint::Anthropic),
            ] {
                assert_eq!(endpoint.dialect(), dialect);
                let answer = error_on(endpoint, info.code, "x", "t-1");
                match classify(&answer.body, answer.status, &(), endpoint) {
                    Outcome::ApiError(e) => {
                        assert_eq!(e.code, info.code, "{dialect:?}");
                        assert_eq!(e.trace_id.as_deref(), Some("t-1"));
                    }
                    other => panic!("{:?} {dialect:?}: {other:?}", info.code),
                }
                let event = stream_error(dialect, info.code, "x", "t-1");
                let outcome = classify(
                    event.as_bytes(),
                    200,
                    &[("content-type", "text/event-stream")],
                    endpoint,
                );
                assert!(matches!(outcome, Outcome::ApiError(e) if e.code == info.code));
            }
        }
    }
}
