//! The key never reaches a log line, an error or `Debug` output. Alone in its own test binary:
//! tracing caches per-callsite interest process-wide, so a scoped subscriber must not share the
//! process with tests running in parallel threads without one.

mod common;

use common::{chat, fast_retry};

use minimax_errors::{Endpoint, ErrorCode};
use minimax_guard::{ApiKey, MiniMaxClient};
use minimax_mock::{Action, EndpointFaults, MockConfig, MockServer, Scenario};

use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_key_never_appears_in_logs_errors_or_debug_output() {
    let key = "sk-api-guard-secret-0123456789abcdef";
    let mut config = MockConfig::default();
    config.keys[0].key = key.to_string();
    let scenario = Scenario::new(1).with(EndpointFaults::on(Some(Endpoint::Chat)).sequence([
        Action::Code(ErrorCode::RATE_LIMIT),
        Action::Html502,
        Action::Code(ErrorCode::INVALID_PARAMS),
    ]));
    let server = MockServer::start("127.0.0.1:0".parse().unwrap(), config, scenario)
        .await
        .unwrap();
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let client = MiniMaxClient::builder()
        .base_url(server.url())
        .api_key(ApiKey::new(key))
        .retry(fast_retry())
        .build()
        .unwrap();
    let error = client.chat(&chat()).await.unwrap_err();
    let wrong_key = MiniMaxClient::builder()
        .base_url(server.url())
        .api_key(ApiKey::new("sk-api-another-secret-99999999"))
        .build()
        .unwrap();
    let auth_error = wrong_key.chat(&chat()).await.unwrap_err();

    // A server that echoes the key in its trace id and its message.
    let echo = echo_server().await;
    let echoed = MiniMaxClient::builder()
        .base_url(&echo)
        .api_key(ApiKey::new(key))
        .retry(fast_retry())
        .build()
        .unwrap()
        .chat(&chat())
        .await
        .unwrap_err();
    let failure = echoed.failure().expect("a failed call");
    assert_eq!(failure.trace_id.as_deref(), Some("Bearer [REDACTED]"));
    let report = failure
        .report(minimax_errors::Lang::En)
        .expect("an API error");

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("MiniMax call failed"),
        "attempts are logged: {log}"
    );
    assert!(
        log.contains("outcome=1002") && log.contains("WARN"),
        "{log}"
    );
    assert!(
        log.contains("outcome=2013") && log.contains("ERROR"),
        "{log}"
    );
    for text in [
        log,
        error.to_string(),
        format!("{error:?}"),
        format!("{client:?}"),
        auth_error.to_string(),
        format!("{auth_error:?}"),
        echoed.to_string(),
        format!("{echoed:?}"),
        serde_json::to_string(&report).unwrap(),
    ] {
        assert!(
            !text.contains(key) && !text.contains("another-secret"),
            "{text}"
        );
    }
}

/// A server that answers every request with 1004, its trace id and message holding the
/// request's `Authorization` header.
async fn echo_server() -> String {
    use axum::http::HeaderMap;
    let app = axum::Router::new().fallback(|headers: HeaderMap| async move {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = serde_json::json!({"base_resp": {"status_code": 1004, "status_msg": format!("bad key {auth}")}});
        ([("trace-id", auth)], axum::Json(body))
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}
