//! The proxy in front of the mock, over real sockets: every dialect, streams, retries, keys,
//! checks, pacing.

use futures_util::StreamExt;
use minimax_errors::classify::classify;
use minimax_errors::{Endpoint, ErrorCode};
use minimax_mock::{Action, DEMO_KEY, EndpointFaults, KeyConfig, MockConfig, MockServer, Scenario};
use minimax_proxy::{ProxyConfig, ProxyServer, Upstream, VirtualKey};
use serde_json::{Value, json};
use std::sync::Arc;

const BROKE_KEY: &str = "sk-api-broke-account";

fn mock_config() -> MockConfig {
    let mut config = MockConfig::default();
    config.keys.push(KeyConfig::broke(BROKE_KEY));
    config
}

async fn mock(scenario: Scenario) -> MockServer {
    MockServer::start("127.0.0.1:0".parse().unwrap(), mock_config(), scenario)
        .await
        .unwrap()
}

async fn proxy_to(mock: &MockServer, tweak: impl FnOnce(&mut ProxyConfig)) -> ProxyServer {
    let mut config = ProxyConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        upstream: Upstream::Url(mock.url()),
        ..ProxyConfig::default()
    };
    tweak(&mut config);
    ProxyServer::start(config).await.unwrap()
}

struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn attempts(&self) -> u32 {
        self.header("x-mmerr-attempts").unwrap().parse().unwrap()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    fn code(&self, endpoint: Endpoint) -> Option<ErrorCode> {
        match classify(&self.body, self.status, &self.headers, endpoint) {
            minimax_errors::classify::Outcome::Success(_) => Some(ErrorCode::SUCCESS),
            minimax_errors::classify::Outcome::ApiError(e) => Some(e.code),
            minimax_errors::classify::Outcome::Malformed(_) => None,
        }
    }
}

async fn post(base: &str, path: &str, key: (&str, &str), body: &Value) -> Reply {
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header(key.0, key.1)
        .json(body)
        .send()
        .await
        .unwrap();
    Reply {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.bytes().await.unwrap().to_vec(),
    }
}

fn bearer(key: &str) -> (&'static str, String) {
    ("authorization", format!("Bearer {key}"))
}

fn chat() -> Value {
    json!({"model": "MiniMax-M2", "messages": [{"role": "user", "content": "hello"}]})
}

fn message() -> Value {
    json!({"model": "MiniMax-M2", "max_tokens": 64, "messages": [{"role": "user", "content": "hello"}]})
}

#[tokio::test]
async fn every_dialect_passes_through_with_what_the_guard_did() {
    let mock = mock(Scenario::default()).await;
    let proxy = proxy_to(&mock, |_| {}).await;
    let auth = bearer(DEMO_KEY);
    let native = post(
        &proxy.url(),
        "/v1/text/chatcompletion_v2",
        (auth.0, &auth.1),
        &chat(),
    )
    .await;
    assert_eq!(native.status, 200);
    assert_eq!(native.code(Endpoint::Chat), Some(ErrorCode::SUCCESS));
    assert_eq!(native.attempts(), 1);
    assert!(
        native.header("trace-id").is_some(),
        "MiniMax's trace id passes through"
    );
    assert_eq!(
        native.json()["choices"][0]["message"]["content"],
        "You said: hello"
    );

    let compatible = post(
        &proxy.url(),
        "/v1/chat/completions",
        (auth.0, &auth.1),
        &chat(),
    )
    .await;
    assert_eq!(
        compatible.code(Endpoint::ChatCompatible),
        Some(ErrorCode::SUCCESS)
    );

    let anthropic = post(
        &proxy.url(),
        "/anthropic/v1/messages",
        ("x-api-key", DEMO_KEY),
        &message(),
    )
    .await;
    assert_eq!(anthropic.status, 200);
    assert_eq!(anthropic.json()["content"][0]["text"], "You said: hello");

    // Streams come through whole, as MiniMax sent them.
    let mut streamed = message();
    streamed["stream"] = json!(true);
    let stream = post(
        &proxy.url(),
        "/anthropic/v1/messages",
        ("x-api-key", DEMO_KEY),
        &streamed,
    )
    .await;
    let direct = post(
        &mock.url(),
        "/anthropic/v1/messages",
        ("x-api-key", DEMO_KEY),
        &streamed,
    )
    .await;
    assert_eq!(stream.header("content-type"), Some("text/event-stream"));
    let (ours, theirs) = (
        String::from_utf8_lossy(&stream.body),
        String::from_utf8_lossy(&direct.body),
    );
    // The mock's ids carry its trace id; the events are otherwise the same.
    assert_eq!(ours.lines().count(), theirs.lines().count());
    assert!(ours.ends_with("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"));
    let mut compatible_stream = chat();
    compatible_stream["stream"] = json!(true);
    let stream = post(
        &proxy.url(),
        "/v1/chat/completions",
        (auth.0, &auth.1),
        &compatible_stream,
    )
    .await;
    assert!(String::from_utf8_lossy(&stream.body).ends_with("data: [DONE]\n\n"));
    assert_eq!(stream.attempts(), 1);
    proxy.stop().await;
}

#[tokio::test]
async fn what_is_worth_retrying_is_absorbed_and_the_rest_comes_back_at_once() {
    let scenario = Scenario::new(3)
        .with(EndpointFaults::on(Some(Endpoint::Anthropic)).sequence([
            Action::Overloaded,
            Action::Code(ErrorCode::RATE_LIMIT),
            Action::Ok,
        ]))
        .with(EndpointFaults::on(Some(Endpoint::Chat)).sequence([Action::Html502, Action::Ok]));
    let mock = mock(scenario).await;
    let proxy = proxy_to(&mock, |_| {}).await;
    let ok = post(
        &proxy.url(),
        "/anthropic/v1/messages",
        ("x-api-key", DEMO_KEY),
        &message(),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    assert_eq!(ok.attempts(), 3, "529 and 1002 were retried");
    let auth = bearer(DEMO_KEY);
    let native = post(
        &proxy.url(),
        "/v1/text/chatcompletion_v2",
        (auth.0, &auth.1),
        &chat(),
    )
    .await;
    assert_eq!(
        (native.status, native.attempts()),
        (200, 2),
        "a gateway page is retried"
    );

    // An empty balance: HTTP 500 on this endpoint, but final. One call, MiniMax's answer intact.
    let before = mock.stats().requests;
    let broke = post(
        &proxy.url(),
        "/anthropic/v1/messages",
        ("x-api-key", BROKE_KEY),
        &message(),
    )
    .await;
    assert_eq!(broke.status, 500);
    assert_eq!(
        broke.code(Endpoint::Anthropic),
        Some(ErrorCode::INSUFFICIENT_BALANCE)
    );
    assert!(
        broke.json()["error"]["message"]
            .as_str()
            .unwrap()
            .ends_with("(1008)")
    );
    assert_eq!(broke.attempts(), 1);
    assert_eq!(mock.stats().requests, before + 1);
    // A bad key on the native endpoint: HTTP 200 with base_resp, passed on unchanged.
    let bad = bearer("sk-api-nobody");
    let refused = post(
        &proxy.url(),
        "/v1/text/chatcompletion_v2",
        (bad.0, &bad.1),
        &chat(),
    )
    .await;
    assert_eq!(refused.status, 200);
    assert_eq!(
        refused.code(Endpoint::Chat),
        Some(ErrorCode::INVALID_API_KEY)
    );
    assert_eq!(refused.attempts(), 1);
    proxy.stop().await;
}

#[tokio::test]
async fn requests_that_break_the_rules_are_answered_locally_in_the_clients_dialect() {
    let mock = mock(Scenario::default()).await;
    let proxy = proxy_to(&mock, |c| c.max_body_bytes = 4096).await;
    let auth = bearer(DEMO_KEY);
    let bad_speed = json!({"model": "speech-02-hd", "text": "hi", "voice_setting": {"voice_id": "male-qn-qingse", "speed": 9.0}});
    let native = post(&proxy.url(), "/v1/t2a_v2", (auth.0, &auth.1), &bad_speed).await;
    assert_eq!(native.status, 200);
    assert_eq!(native.json()["base_resp"]["status_code"], 2013);
    assert_eq!(native.header("x-mmerr-local"), Some("1"));
    let mut hot = chat();
    hot["temperature"] = json!(0.0);
    let compatible = post(
        &proxy.url(),
        "/v1/chat/completions",
        (auth.0, &auth.1),
        &hot,
    )
    .await;
    assert_eq!(compatible.status, 400);
    assert_eq!(
        compatible.code(Endpoint::ChatCompatible),
        Some(ErrorCode::INVALID_PARAMS)
    );
    let huge = json!({"model": "MiniMax-M2", "messages": [{"role": "user", "content": "x".repeat(10_000)}]});
    let too_big = post(
        &proxy.url(),
        "/v1/chat/completions",
        (auth.0, &auth.1),
        &huge,
    )
    .await;
    assert_eq!(too_big.status, 400);
    assert!(String::from_utf8_lossy(&too_big.body).contains("larger than"));
    assert_eq!(mock.stats().requests, 0, "nothing reached MiniMax");
    proxy.stop().await;
}

#[tokio::test]
async fn virtual_keys_stand_for_the_proxys_own_keys() {
    let mock = mock(Scenario::default()).await;
    let proxy = proxy_to(&mock, |c| {
        c.keys = vec![VirtualKey {
            token: minimax_guard::ApiKey::new("team-a-token"),
            key: Some(minimax_guard::ApiKey::new(DEMO_KEY)),
            key_env: None,
        }]
    })
    .await;
    let auth = bearer("team-a-token");
    let ok = post(
        &proxy.url(),
        "/v1/text/chatcompletion_v2",
        (auth.0, &auth.1),
        &chat(),
    )
    .await;
    assert_eq!(ok.code(Endpoint::Chat), Some(ErrorCode::SUCCESS));
    let anthropic = post(
        &proxy.url(),
        "/anthropic/v1/messages",
        ("x-api-key", "team-a-token"),
        &message(),
    )
    .await;
    assert_eq!(anthropic.status, 200);
    // A MiniMax key itself is not a token of this proxy.
    let direct = bearer(DEMO_KEY);
    let refused = post(
        &proxy.url(),
        "/v1/chat/completions",
        (direct.0, &direct.1),
        &chat(),
    )
    .await;
    assert_eq!(refused.status, 401);
    assert_eq!(
        refused.code(Endpoint::ChatCompatible),
        Some(ErrorCode::UNAUTHORIZED)
    );
    assert!(!String::from_utf8_lossy(&refused.body).contains(DEMO_KEY));
    assert_eq!(mock.stats().requests, 2);
    proxy.stop().await;
}

#[tokio::test]
async fn unknown_paths_pass_through_and_health_is_served() {
    let mock = mock(Scenario::default()).await;
    let proxy = proxy_to(&mock, |_| {}).await;
    let auth = bearer(DEMO_KEY);
    let unknown = post(
        &proxy.url(),
        "/v1/not_an_api",
        (auth.0, &auth.1),
        &json!({}),
    )
    .await;
    assert_eq!(unknown.status, 404, "the mock's own answer");
    assert_eq!(unknown.attempts(), 1);
    let health = reqwest::get(format!("{}/healthz", proxy.url()))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = reqwest::get(format!("{}/readyz", proxy.url()))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    proxy.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_clients_share_one_pace_and_all_get_through() {
    let mut config = mock_config();
    config.keys[0].rpm = Some(1800);
    config.keys[0].burst = Some(10);
    let mock = MockServer::start("127.0.0.1:0".parse().unwrap(), config, Scenario::default())
        .await
        .unwrap();
    let proxy = Arc::new(proxy_to(&mock, |_| {}).await);
    let url = proxy.url();
    let mut clients = Vec::new();
    for _ in 0..16 {
        let url = url.clone();
        clients.push(tokio::spawn(async move {
            let mut ok = 0;
            for _ in 0..10 {
                let auth = bearer(DEMO_KEY);
                let reply = post(&url, "/v1/chat/completions", (auth.0, &auth.1), &chat()).await;
                ok += u32::from(reply.status == 200);
            }
            ok
        }));
    }
    let mut ok = 0;
    for client in clients {
        ok += client.await.unwrap();
    }
    assert_eq!(ok, 160, "every request got through");
    let calls = mock.stats().requests;
    assert!(calls <= 160 + 8, "{calls} calls for 160 requests");
}

#[test]
fn the_example_configuration_reads() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/proxy.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let config: ProxyConfig = toml::from_str(&text).unwrap();
    assert_eq!(config.upstream, Upstream::Intl);
    assert_eq!(config.keys.len(), 1);
    assert_eq!(config.keys[0].key_env.as_deref(), Some("MINIMAX_API_KEY"));
    assert!(config.monitor.is_some());
    assert!(ProxyConfig::from_toml("upstream = \"ftp://x\"").is_err());
    assert!(ProxyConfig::from_toml("deadline_secs = 0").is_err());
    assert!(
        ProxyConfig::from_toml("[[keys]]\ntoken = \"t\"\nkey_env = \"MMERR_TEST_UNSET_VARIABLE\"")
            .is_err()
    );
}

#[tokio::test]
async fn a_stream_cut_after_it_started_reaches_the_client_as_cut_and_the_monitor_hears_of_it() {
    let scenario = Scenario::new(9)
        .with(EndpointFaults::on(Some(Endpoint::ChatCompatible)).sequence([Action::Truncate]));
    let mock = mock(scenario).await;
    let proxy = proxy_to(&mock, |c| {
        c.monitor = Some(minimax_monitor::MonitorConfig::default());
    })
    .await;
    let auth = bearer(DEMO_KEY);
    let mut body = json!({"model": "MiniMax-M2", "stream": true,
        "messages": [{"role": "user", "content": "one two three four five six"}]});
    let cut = post(
        &proxy.url(),
        "/v1/chat/completions",
        (auth.0, &auth.1),
        &body,
    )
    .await;
    let text = String::from_utf8_lossy(&cut.body);
    assert!(text.starts_with("data: "), "{text}");
    assert!(
        !text.contains("[DONE]"),
        "the cut is passed on, not papered over: {text}"
    );
    assert_eq!(cut.attempts(), 1, "it had started: not retried");
    let summary = proxy.monitor().unwrap().summary();
    assert_eq!(
        summary.error_breakdown.get("malformed"),
        Some(&1),
        "{summary:?}"
    );
    // The next stream is whole.
    body["messages"][0]["content"] = json!("again");
    let whole = post(
        &proxy.url(),
        "/v1/chat/completions",
        (auth.0, &auth.1),
        &body,
    )
    .await;
    assert!(String::from_utf8_lossy(&whole.body).ends_with("data: [DONE]\n\n"));
    proxy.stop().await;
}

#[tokio::test]
async fn clients_that_send_too_slowly_are_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mock = mock(Scenario::default()).await;
    let proxy = proxy_to(&mock, |c| c.body_timeout_secs = 1).await;
    // Headers never finished, and a body that never comes.
    let mut half_headers = tokio::net::TcpStream::connect(proxy.addr()).await.unwrap();
    half_headers
        .write_all(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut no_body = tokio::net::TcpStream::connect(proxy.addr()).await.unwrap();
    no_body
        .write_all(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer mmerr-demo-key\r\nContent-Length: 100\r\n\r\n{")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        half_headers.read(&mut buf),
    )
    .await;
    assert!(
        matches!(read, Ok(Ok(_)) | Ok(Err(_))),
        "a half-sent request still holds its socket"
    );
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), no_body.read(&mut buf))
        .await
        .expect("answered in time")
        .unwrap();
    let answer = String::from_utf8_lossy(&buf[..read]);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("not received in time"), "{answer}");
    assert_eq!(mock.stats().requests, 0);
    proxy.stop().await;
}

/// An upstream whose stream sends one event and then nothing; it tells when the proxy closes
/// the call.
async fn upstream_that_streams_slowly() -> (String, tokio::sync::oneshot::Receiver<()>) {
    struct Closed(Option<tokio::sync::oneshot::Sender<()>>);
    impl Drop for Closed {
        fn drop(&mut self) {
            if let Some(closed) = self.0.take() {
                let _ = closed.send(());
            }
        }
    }
    let (closed, upstream_closed) = tokio::sync::oneshot::channel();
    let closed = Arc::new(std::sync::Mutex::new(Some(closed)));
    let router = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move || {
            let closed = Closed(closed.lock().unwrap().take());
            async move {
                let first = "data: {\"id\":\"c-1\",\"object\":\"chat.completion.chunk\",\"model\":\"MiniMax-M2\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"one\"}}]}\n\n";
                let events = futures_util::stream::once(async move {
                    Ok::<_, std::io::Error>(bytes::Bytes::from_static(first.as_bytes()))
                })
                .chain(futures_util::stream::pending())
                .map(move |chunk| {
                    let _open = &closed;
                    chunk
                });
                axum::response::Response::builder()
                    .header("content-type", "text/event-stream")
                    .body(axum::body::Body::from_stream(events))
                    .unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, upstream_closed)
}

#[tokio::test]
async fn a_client_gone_mid_stream_is_counted_as_gone_never_as_a_success() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (upstream, upstream_closed) = upstream_that_streams_slowly().await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("errors.jsonl");
    let config = ProxyConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        upstream: Upstream::Url(upstream),
        monitor: Some(minimax_monitor::MonitorConfig {
            error_log: Some(minimax_monitor::ErrorLogConfig {
                path: log.clone(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..ProxyConfig::default()
    };
    let proxy = ProxyServer::start(config).await.unwrap();
    let body = json!({"model": "MiniMax-M2", "stream": true,
        "messages": [{"role": "user", "content": "hi"}]})
    .to_string();
    let mut client = tokio::net::TcpStream::connect(proxy.addr()).await.unwrap();
    client
        .write_all(format!("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {DEMO_KEY}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()).as_bytes())
        .await
        .unwrap();
    let mut read = Vec::new();
    let mut buffer = [0u8; 4096];
    while !String::from_utf8_lossy(&read).contains("data: ") {
        let n = client.read(&mut buffer).await.unwrap();
        assert!(n > 0, "the stream's first event arrives");
        read.extend_from_slice(&buffer[..n]);
    }
    drop(client);
    tokio::time::timeout(std::time::Duration::from_secs(5), upstream_closed)
        .await
        .expect("the proxy closes the upstream call when its client goes")
        .unwrap();
    let monitor = proxy.monitor().unwrap();
    // The watch is told when the proxy drops the stream, just after the upstream call.
    let mut summary = monitor.summary();
    for _ in 0..100 {
        if summary.error_breakdown.contains_key("client_gone") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        summary = monitor.summary();
    }
    assert_eq!(
        summary.error_breakdown.get("client_gone"),
        Some(&1),
        "{summary:?}"
    );
    assert_eq!(summary.since_start.calls, 1, "{summary:?}");
    assert_eq!(summary.since_start.ok_first_try, 0, "not a success");
    monitor.flush();
    let lines = std::fs::read_to_string(&log).unwrap();
    let line: Value = serde_json::from_str(lines.trim()).expect("one line");
    assert_eq!(line["outcome"], "client_gone", "{lines}");
    assert_eq!(line["context"]["phase"], "streaming", "{lines}");
    assert!(
        line["context"]["bytes_passed"].as_u64() > Some(0),
        "{lines}"
    );
    proxy.stop().await;
}
