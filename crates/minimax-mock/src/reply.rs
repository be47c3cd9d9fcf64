//! Building answers the way MiniMax sends them: native bodies with `base_resp` under HTTP 200,
//! compatible error envelopes with a real status, gateway pages, and broken answers on purpose.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt;
use minimax_errors::{Dialect, Endpoint, ErrorCode};
use serde_json::{Value, json};

/// A failed request: the code and the server message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    pub code: ErrorCode,
    pub message: String,
}

impl Failure {
    /// A failure with the catalog's English message, as MiniMax's `status_msg` reads.
    pub(crate) fn code(code: ErrorCode) -> Failure {
        Failure {
            code,
            message: code.info().message.en.to_string(),
        }
    }

    /// A failure with its own message.
    pub(crate) fn with(code: ErrorCode, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }
}

/// MiniMax's message for a request without a key.
pub(crate) const MISSING_KEY_MESSAGE: &str = "login fail: Please carry the API secret key in the 'Authorization' field of the request header";

/// JSON with the trace id header.
pub(crate) fn json_response(status: StatusCode, body: &Value, trace_id: &str) -> Response {
    bytes_response(
        status,
        "application/json",
        Bytes::from(body.to_string()),
        trace_id,
    )
}

pub(crate) fn bytes_response(
    status: StatusCode,
    content_type: &'static str,
    body: Bytes,
    trace_id: &str,
) -> Response {
    let mut response = (status, [(header::CONTENT_TYPE, content_type)], body).into_response();
    with_trace(&mut response, trace_id);
    response
}

/// An event stream of `events` (each ending with its blank line), the first at once and the
/// rest spread evenly over `over`, as a model writing its answer sends them.
pub(crate) fn event_stream(events: String, over: std::time::Duration, trace_id: &str) -> Response {
    if over.is_zero() {
        return bytes_response(
            StatusCode::OK,
            "text/event-stream",
            Bytes::from(events),
            trace_id,
        );
    }
    let events: Vec<Bytes> = events
        .split_inclusive("\n\n")
        .map(|e| Bytes::copy_from_slice(e.as_bytes()))
        .collect();
    let gap = over / u32::try_from(events.len().saturating_sub(1).max(1)).unwrap_or(u32::MAX);
    let paced = futures_util::stream::iter(events.into_iter().enumerate()).then(
        move |(i, event)| async move {
            if i > 0 {
                tokio::time::sleep(gap).await;
            }
            Ok::<_, std::convert::Infallible>(event)
        },
    );
    let mut response = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/event-stream")],
        Body::from_stream(paced),
    )
        .into_response();
    with_trace(&mut response, trace_id);
    response
}

pub(crate) fn with_trace(response: &mut Response, trace_id: &str) {
    if let Ok(value) = HeaderValue::from_str(trace_id) {
        response.headers_mut().insert("trace-id", value);
    }
}

/// `{"base_resp":{"status_code":…,"status_msg":…}}`.
pub(crate) fn base_resp(code: ErrorCode, message: &str) -> Value {
    minimax_errors::wire::base_resp(code, message)
}

/// An error in the endpoint's dialect (written by `minimax_errors::wire`, as the classifier
/// reads it).
pub(crate) fn error_response(endpoint: Endpoint, failure: &Failure, trace_id: &str) -> Response {
    let mut answer =
        minimax_errors::wire::error_on(endpoint, failure.code, &failure.message, trace_id);
    if endpoint.dialect() == Dialect::Native && endpoint == Endpoint::T2a {
        // T2A's error bodies carry `data: null` too.
        let mut body: Value = serde_json::from_slice(&answer.body).unwrap_or_default();
        body["data"] = Value::Null;
        answer.body = body.to_string().into_bytes();
    }
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    bytes_response(
        status,
        "application/json",
        Bytes::from(answer.body),
        trace_id,
    )
}

/// A request the API does not serve (unknown path, wrong method): `base_resp` 2013 in JSON with
/// a real status, a trace id in the header and the body.
pub(crate) fn not_served(status: StatusCode, message: &str, trace_id: &str) -> Response {
    let body = json!({
        "base_resp": base_resp(ErrorCode::INVALID_PARAMS, message),
        "trace_id": trace_id,
    });
    json_response(status, &body, trace_id)
}

/// A gateway's 502 page.
pub(crate) fn html_502(trace_id: &str) -> Response {
    let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    bytes_response(
        StatusCode::BAD_GATEWAY,
        "text/html",
        Bytes::from_static(page.as_bytes()),
        trace_id,
    )
}

/// The answer cut off halfway, with a Content-Length that matches what is sent: the client gets
/// a complete HTTP message holding incomplete JSON. An event stream is cut after half of its
/// events, between two of them: well-formed events and no end marker, as when a connection
/// closes between two flushes.
pub(crate) async fn truncate(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let full = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let is_stream = parts
        .headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"));
    let cut = if is_stream {
        let ends: Vec<usize> = memchr::memmem::find_iter(&full, b"\n\n")
            .map(|i| i + 2)
            .collect();
        full.slice(
            ..ends
                .get(ends.len().saturating_sub(1) / 2)
                .copied()
                .unwrap_or(0),
        )
    } else {
        full.slice(..full.len() / 2)
    };
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(cut.len()));
    Response::from_parts(parts, Body::from(cut))
}

/// Headers, then the connection dropped before the body: the body stream fails at once.
pub(crate) fn reset(response: Response) -> Response {
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let failing = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset by the mock",
        ))
    });
    Response::from_parts(parts, Body::from_stream(failing))
}
