//! One request through the proxy: the key, the body, the optional check, then the guard's
//! executor around the upstream call; the answer (or the stream) goes back as MiniMax sent it,
//! with what the guard did in two headers.

use crate::Shared;
use crate::headers;
use axum::body::Body;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use minimax_errors::validate::{Api, validate_value};
use minimax_errors::{Endpoint, ErrorCode, wire};
use minimax_guard::pacer::AccountId;
use minimax_guard::{
    ApiKey, Attempt, Call, CallReport, Done, GuardError, KeyKind, RawResponse, RawStream,
    read_answer,
};
use serde_json::Value;
use std::sync::Arc;

/// A request as it arrived.
pub(crate) struct Incoming {
    pub method: Method,
    pub path_and_query: String,
    pub headers: HeaderMap,
    pub body: Body,
}

/// Everything the upstream call needs, cloned for each attempt.
#[derive(Clone)]
struct Outgoing {
    method: Method,
    url: String,
    headers: HeaderMap,
    body: Bytes,
}

impl Outgoing {
    fn send(&self, http: &reqwest::Client) -> reqwest::RequestBuilder {
        http.request(self.method.clone(), &self.url)
            .headers(self.headers.clone())
            .body(self.body.clone())
    }
}

/// Answers one request.
pub(crate) async fn forward(shared: Arc<Shared>, incoming: Incoming) -> Response {
    let path = incoming
        .path_and_query
        .split('?')
        .next()
        .unwrap_or_default()
        .to_string();
    let endpoint = Endpoint::from_path(&path);
    let presented = headers::presented_key(&incoming.headers);
    let key = match shared.keys.is_empty() {
        // Clients send their own keys: the account is theirs.
        true => presented,
        false => match presented.and_then(|t| shared.keys.get(&t.account()).cloned()) {
            Some(key) => Some(key),
            None => {
                return shared.local(
                    endpoint,
                    ErrorCode::UNAUTHORIZED,
                    "login fail: this proxy does not know the token in the Authorization or x-api-key header",
                    None,
                );
            }
        },
    };
    let body = match read_body(&shared, incoming.body).await {
        Ok(body) => body,
        Err(answer) => return shared.local(endpoint, ErrorCode::INVALID_PARAMS, &answer, None),
    };
    let json: Option<Value> = (endpoint != Endpoint::Other)
        .then(|| serde_json::from_slice(&body).ok())
        .flatten();
    if shared.config.validate
        && let (Some(api), Some(value)) = (api_of(endpoint), &json)
    {
        let validation = validate_value(api, value.clone());
        if let Some(violation) = validation.errors().next() {
            let message = format!("invalid params, {}", violation.message_en);
            return shared.local(endpoint, violation.code, &message, None);
        }
    }
    let outgoing = Outgoing {
        method: incoming.method,
        url: format!(
            "{}{}",
            shared.config.upstream.base_url(),
            incoming.path_and_query
        ),
        headers: headers::upstream(
            &incoming.headers,
            (!shared.keys.is_empty()).then_some(key.as_ref()).flatten(),
        ),
        body,
    };
    if endpoint == Endpoint::Other {
        tracing::info!(path = %minimax_errors::scrub::scrub_bounded(&path, 256), "a path MiniMax is not known to serve: passed through, retried only when it never reached MiniMax");
        return pass_through(&shared, &outgoing).await;
    }
    let streamed = json
        .as_ref()
        .is_some_and(|v| v.get("stream") == Some(&Value::Bool(true)));
    let characters = match (&json, endpoint) {
        (Some(v), Endpoint::T2a | Endpoint::T2aAsync) => {
            v["text"].as_str().map_or(0, |t| t.chars().count() as u64)
        }
        _ => 0,
    };
    let account = key.as_ref().map_or(AccountId::UNKNOWN, ApiKey::account);
    let kind = key.as_ref().map_or(KeyKind::Unknown, ApiKey::kind);
    let call = Call::new(endpoint)
        .account(account)
        .key_kind(kind)
        .characters(characters);
    guarded(shared, call, outgoing, streamed).await
}

/// The guarded upstream call and its answer.
async fn guarded(shared: Arc<Shared>, call: Call, outgoing: Outgoing, streamed: bool) -> Response {
    let endpoint = call.endpoint;
    let http = &shared.http;
    let run = shared.executor.run(call, || {
        let sent = outgoing.send(http).send();
        async move {
            let response = sent.await;
            match response {
                Ok(response) if streamed && is_event_stream(response.headers()) => {
                    RawStream::open(response, endpoint).await
                }
                other => read_answer(other).await.map(Attempt::Answer),
            }
        }
    });
    match run.await {
        Ok(Done::Answer(completed)) => answer(completed.response, &completed.report),
        Ok(Done::Started(stream, report, watch)) => {
            let status = StatusCode::from_u16(stream.status()).unwrap_or(StatusCode::OK);
            let mut head = headers::downstream(stream.headers());
            headers::report(&mut head, report.attempts, report.waited + report.paced);
            // The monitor hears how the stream ended, or that the client went away first.
            let bytes = stream.into_bytes(watch);
            let mut response = Response::new(Body::from_stream(bytes));
            *response.status_mut() = status;
            *response.headers_mut() = head;
            response
        }
        Err((error, Some(last))) => {
            // MiniMax's own last answer, unchanged: client code keeps working. The guard has
            // retried what was worth it; the SDKs' own retries would only repeat that.
            let report = report_of(&error);
            let mut response = answer(last, &report);
            final_answer(response.headers_mut());
            response
        }
        Err((error, None)) => shared.refused(endpoint, &error),
    }
}

/// A path outside the catalog: sent as is; retried only when the request never left.
async fn pass_through(shared: &Shared, outgoing: &Outgoing) -> Response {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let sent = outgoing.send(&shared.http).send().await;
        match sent {
            Err(error) if error.is_connect() && attempts < 3 => continue,
            other => match read_answer(other).await {
                Ok(raw) => {
                    let report = CallReport {
                        attempts,
                        ..CallReport::default()
                    };
                    return answer(raw, &report);
                }
                Err(failure) => {
                    let message = format!("the upstream could not be reached: {failure}");
                    return shared.local(
                        Endpoint::Other,
                        ErrorCode::UNKNOWN_ERROR,
                        &message,
                        Some(StatusCode::BAD_GATEWAY),
                    );
                }
            },
        }
    }
}

/// MiniMax's answer as the client gets it.
fn answer(raw: RawResponse, report: &CallReport) -> Response {
    let mut response = Response::new(Body::from(raw.body));
    *response.status_mut() = StatusCode::from_u16(raw.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut head = headers::downstream(&raw.headers);
    headers::report(&mut head, report.attempts, report.waited + report.paced);
    *response.headers_mut() = head;
    response
}

/// Marks an answer as final for the client: the openai and anthropic SDKs (and others built
/// the same way) honour `x-should-retry: false` and raise at once.
fn final_answer(headers: &mut HeaderMap) {
    headers.insert("x-should-retry", http::HeaderValue::from_static("false"));
}

fn report_of(error: &GuardError) -> CallReport {
    error
        .failure()
        .map_or_else(CallReport::default, |f| CallReport {
            attempts: f.attempts,
            waited: f.waited,
            paced: std::time::Duration::ZERO,
        })
}

fn is_event_stream(headers: &reqwest::header::HeaderMap) -> bool {
    headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/event-stream"))
}

/// The request rules that apply to an endpoint's body.
fn api_of(endpoint: Endpoint) -> Option<Api> {
    Some(match endpoint {
        Endpoint::Chat | Endpoint::ChatCompatible => Api::Chat,
        Endpoint::T2a => Api::T2a,
        Endpoint::T2aAsync => Api::T2aAsync,
        Endpoint::VoiceClone => Api::VoiceClone,
        Endpoint::Video => Api::Video,
        Endpoint::Image => Api::Image,
        _ => return None,
    })
}

/// The body, whole, bounded in size and time.
async fn read_body(shared: &Shared, body: Body) -> Result<Bytes, String> {
    let limit = shared.config.max_body_bytes;
    let read = axum::body::to_bytes(body, limit);
    match tokio::time::timeout(shared.body_timeout(), read).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(format!(
            "request body larger than {} MiB or unreadable",
            limit >> 20
        )),
        Err(_) => Err("request body not received in time".to_string()),
    }
}

impl Shared {
    /// An answer made here, in the endpoint's dialect, marked `x-mmerr-local`.
    pub(crate) fn local(
        &self,
        endpoint: Endpoint,
        code: ErrorCode,
        message: &str,
        status: Option<StatusCode>,
    ) -> Response {
        let trace_id = self.local_trace_id();
        let written = wire::error_on(endpoint, code, message, &trace_id);
        let mut response = Response::new(Body::from(written.body));
        *response.status_mut() = status
            .or_else(|| StatusCode::from_u16(written.status).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let head = response.headers_mut();
        head.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        if let Ok(value) = http::HeaderValue::from_str(&trace_id) {
            head.insert("trace-id", value);
        }
        head.insert("x-mmerr-local", http::HeaderValue::from_static("1"));
        final_answer(head);
        response
    }

    /// The answer when the guard gave up without an answer from MiniMax to pass on.
    fn refused(&self, endpoint: Endpoint, error: &GuardError) -> Response {
        let text = minimax_errors::scrub::scrub_text(&error.to_string()).into_owned();
        let (code, status) = match error {
            GuardError::FailingFast { code, .. } => (*code, None),
            GuardError::PacedPastDeadline { .. } => (ErrorCode::RATE_LIMIT, None),
            GuardError::Invalid(v) => (v.first_code().unwrap_or(ErrorCode::INVALID_PARAMS), None),
            GuardError::Failed(f) | GuardError::MaybeCreated(f) => {
                let timeout = matches!(&f.cause, minimax_guard::Cause::Transport(t) if t.kind == minimax_guard::transport::TransportKind::Timeout);
                let status = if timeout {
                    StatusCode::GATEWAY_TIMEOUT
                } else {
                    StatusCode::BAD_GATEWAY
                };
                let code = match timeout {
                    true => ErrorCode::TIMEOUT,
                    false => ErrorCode::UNKNOWN_ERROR,
                };
                (f.code().unwrap_or(code), Some(status))
            }
            _ => (ErrorCode::UNKNOWN_ERROR, Some(StatusCode::BAD_GATEWAY)),
        };
        let mut response = self.local(endpoint, code, &text, status);
        let report = report_of(error);
        headers::report(response.headers_mut(), report.attempts, report.waited);
        response
    }
}
