//! Alerts delivered to real receivers started here: a local HTTP server (one path per webhook
//! shape, one flaky, one that never answers) and a small SMTP server.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use minimax_errors::{Endpoint, ErrorCode, Lang};
use minimax_monitor::sinks::{EmailConfig, SinksConfig, WebhookConfig, WebhookFormat};
use minimax_monitor::{Event, Monitor, MonitorConfig, Seen};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[derive(Clone, Default)]
struct Received {
    posts: Arc<Mutex<Vec<(String, Value)>>>,
    flaky_calls: Arc<Mutex<u32>>,
}

async fn receive(
    State(received): State<Received>,
    Path(path): Path<String>,
    body: String,
) -> (StatusCode, String) {
    match path.as_str() {
        "hang" => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            return (StatusCode::OK, String::new());
        }
        "flaky" => {
            let mut calls = received.flaky_calls.lock().unwrap();
            *calls += 1;
            if *calls <= 2 {
                return (StatusCode::INTERNAL_SERVER_ERROR, "try again".to_string());
            }
        }
        "robot" => {
            let mut calls = received.flaky_calls.lock().unwrap();
            *calls += 1;
            if *calls <= 4 {
                // Chat robots answer 200 with their own error code.
                return (
                    StatusCode::OK,
                    r#"{"errcode":310000,"errmsg":"keywords not in content"}"#.to_string(),
                );
            }
        }
        _ => {}
    }
    let value = serde_json::from_str(&body).unwrap_or(Value::Null);
    received.posts.lock().unwrap().push((path, value));
    (StatusCode::OK, r#"{"errcode":0,"errmsg":"ok"}"#.to_string())
}

async fn receiver() -> (String, Received) {
    let received = Received::default();
    let app = Router::new()
        .route("/{path}", post(receive))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

fn burst(m: &Monitor, n: usize) {
    for i in 0..n {
        let trace = format!("trace-{i}");
        m.record(&Event {
            trace_id: Some(&trace),
            ..Event::attempt(Endpoint::T2a, Seen::Code(ErrorCode::RATE_LIMIT), 1, false)
        });
    }
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_in_every_shape_with_retries_and_a_hanging_receiver() {
    let (url, received) = receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("alerts.jsonl");
    let hook = |path: &str, format| WebhookConfig {
        url: format!("{url}/{path}"),
        format,
        secret: None,
    };
    let config = MonitorConfig {
        evaluate_every_ms: 50,
        lang: Lang::Zh,
        sinks: SinksConfig {
            log: true,
            jsonl: Some(jsonl.clone()),
            webhooks: vec![
                hook("hang", WebhookFormat::Generic),
                hook("generic", WebhookFormat::Generic),
                hook("dingtalk", WebhookFormat::Dingtalk),
                hook("feishu", WebhookFormat::Feishu),
                hook("wecom", WebhookFormat::Wecom),
                hook("slack", WebhookFormat::Slack),
                hook("flaky", WebhookFormat::Generic),
            ],
            email: None,
            retry_ms: 20,
            max_retry_ms: 200,
            send_timeout_ms: 2_000,
        },
        ..MonitorConfig::default()
    };
    let monitor = Monitor::new(config).unwrap();
    let alerting = monitor.spawn_alerting(vec![]);
    burst(&monitor, 12);
    wait_for("six receivers", || {
        received.posts.lock().unwrap().len() >= 6
    })
    .await;
    let posts = received.posts.lock().unwrap().clone();
    let body = |path: &str| {
        posts
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, b)| b.clone())
            .unwrap_or_else(|| panic!("nothing at {path}: {posts:?}"))
    };

    let generic = body("generic");
    assert_eq!(generic["alert"]["code"], 1002);
    assert_eq!(generic["alert"]["status"], "firing");
    assert_eq!(generic["alert"]["count"], 12);
    assert_eq!(generic["alert"]["meaning"]["en"], "rate limit");
    assert_eq!(
        generic["alert"]["sample_trace_ids"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    let dingtalk = body("dingtalk");
    assert_eq!(dingtalk["msgtype"], "markdown");
    assert!(
        dingtalk["markdown"]["title"]
            .as_str()
            .unwrap()
            .contains("1002")
    );
    assert!(
        dingtalk["markdown"]["text"]
            .as_str()
            .unwrap()
            .contains("请稍后再试")
    );
    let feishu = body("feishu");
    assert_eq!(feishu["msg_type"], "text");
    assert!(
        feishu["content"]["text"]
            .as_str()
            .unwrap()
            .contains("请求频率超限")
    );
    let wecom = body("wecom");
    assert_eq!(wecom["msgtype"], "markdown");
    assert!(
        wecom["markdown"]["content"]
            .as_str()
            .unwrap()
            .contains("Trace-Id")
    );
    let slack = body("slack");
    assert!(slack["text"].as_str().unwrap().contains("60 秒内 12 次"));
    assert_eq!(
        body("flaky")["alert"]["code"],
        1002,
        "delivered on the third attempt"
    );
    assert_eq!(*received.flaky_calls.lock().unwrap(), 3);

    wait_for("the JSON-lines sink", || {
        std::fs::read_to_string(&jsonl).is_ok_and(|t| t.lines().count() == 1)
    })
    .await;
    let line: Value =
        serde_json::from_str(std::fs::read_to_string(&jsonl).unwrap().trim()).unwrap();
    assert_eq!(line["rule"], "error-burst");
    // The hanging receiver held nobody up: everything above arrived while it hung.
    alerting.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robots_that_answer_200_with_an_error_are_retried() {
    let (url, received) = receiver().await;
    let config = MonitorConfig {
        evaluate_every_ms: 50,
        sinks: SinksConfig {
            log: false,
            webhooks: vec![WebhookConfig {
                url: format!("{url}/robot"),
                format: WebhookFormat::Dingtalk,
                secret: None,
            }],
            retry_ms: 10,
            ..SinksConfig::default()
        },
        ..MonitorConfig::default()
    };
    let monitor = Monitor::new(config).unwrap();
    let alerting = monitor.spawn_alerting(vec![]);
    burst(&monitor, 11);
    wait_for("the robot", || !received.posts.lock().unwrap().is_empty()).await;
    assert_eq!(
        *received.flaky_calls.lock().unwrap(),
        5,
        "four refusals, then delivered"
    );
    // Each refusal was a failed attempt, retried; nothing was given up or dropped.
    assert_eq!(
        alerting.failures.load(std::sync::atomic::Ordering::Relaxed),
        4
    );
    assert_eq!(
        alerting.dropped.load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    alerting.stop();
}

/// A receiver that answers 500 until `up` is set, then records posts.
async fn receiver_down_until(
    up: Arc<std::sync::atomic::AtomicBool>,
) -> (String, Arc<Mutex<Vec<Value>>>) {
    let posts = Arc::new(Mutex::new(Vec::new()));
    let (store, flag) = (Arc::clone(&posts), up);
    let app = Router::new().route(
        "/hook",
        post(move |body: String| {
            let (store, flag) = (Arc::clone(&store), Arc::clone(&flag));
            async move {
                if !flag.load(std::sync::atomic::Ordering::Relaxed) {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                store
                    .lock()
                    .unwrap()
                    .push(serde_json::from_str(&body).unwrap_or(Value::Null));
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, posts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_down_for_long_gets_the_latest_state_when_it_returns() {
    let up = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (url, posts) = receiver_down_until(Arc::clone(&up)).await;
    let config = MonitorConfig {
        evaluate_every_ms: 20,
        rules: vec![minimax_monitor::AlertRule {
            name: "burst".into(),
            watch: minimax_monitor::Watch::EachCode,
            threshold: 5,
            window_secs: 1,
            cooldown_secs: 0,
            resolve_after_secs: Some(1),
            ..Default::default()
        }],
        sinks: SinksConfig {
            log: false,
            webhooks: vec![WebhookConfig {
                url,
                format: WebhookFormat::Generic,
                secret: None,
            }],
            retry_ms: 10,
            max_retry_ms: 50,
            ..SinksConfig::default()
        },
        ..MonitorConfig::default()
    };
    let monitor = Monitor::new(config).unwrap();
    let alerting = monitor.spawn_alerting(vec![]);
    burst(&monitor, 8);
    // Far longer than any fixed number of attempts would have lasted; meanwhile the burst ends
    // and the incident resolves.
    wait_for("many failed attempts", || {
        alerting.failures.load(std::sync::atomic::Ordering::Relaxed) >= 40
    })
    .await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    up.store(true, std::sync::atomic::Ordering::Relaxed);
    wait_for("the delivery", || !posts.lock().unwrap().is_empty()).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let posts = posts.lock().unwrap().clone();
    assert_eq!(
        posts.len(),
        1,
        "one alert per incident, in its latest state: {posts:?}"
    );
    let alert = &posts[0]["alert"];
    assert_eq!(alert["status"], "resolved");
    assert_eq!(
        alert["count"], 8,
        "the incident's figures, not an empty window"
    );
    assert!(alert["last_seen_ms"].as_u64().unwrap() > 1_700_000_000_000);
    let text = posts[0]["text"].as_str().unwrap();
    assert!(!text.contains("1970"), "{text}");
    assert_eq!(
        alerting.dropped.load(std::sync::atomic::Ordering::Relaxed),
        0
    );
}

/// An SMTP server that accepts connections and never says a word.
async fn silent_smtp_server() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_smtp_server_times_out_and_holds_up_no_other_sink() {
    let port = silent_smtp_server().await;
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("alerts.jsonl");
    let config = MonitorConfig {
        evaluate_every_ms: 20,
        sinks: SinksConfig {
            log: false,
            jsonl: Some(jsonl.clone()),
            email: Some(EmailConfig {
                host: "127.0.0.1".into(),
                port: Some(port),
                tls: false,
                username: None,
                password: None,
                from: "alerts@example.com".into(),
                to: vec!["oncall@example.com".into()],
            }),
            retry_ms: 10,
            max_retry_ms: 20,
            send_timeout_ms: 200,
            ..SinksConfig::default()
        },
        ..MonitorConfig::default()
    };
    let monitor = Monitor::new(config).unwrap();
    let alerting = monitor.spawn_alerting(vec![]);
    monitor.record(&Event::attempt(
        Endpoint::Chat,
        Seen::Code(ErrorCode::INSUFFICIENT_BALANCE),
        1,
        true,
    ));
    wait_for("two timed-out attempts", || {
        alerting.failures.load(std::sync::atomic::Ordering::Relaxed) >= 2
    })
    .await;
    wait_for("the JSON-lines sink", || {
        std::fs::read_to_string(&jsonl).is_ok_and(|t| t.contains("balance"))
    })
    .await;
}

/// A minimal SMTP server: enough of RFC 5321 for one client to deliver messages.
async fn smtp_server() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let messages = Arc::new(Mutex::new(Vec::new()));
    let store = Arc::clone(&messages);
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write
                    .write_all(b"220 localhost test SMTP\r\n")
                    .await
                    .unwrap();
                let mut envelope = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250-localhost\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("MAIL FROM")
                        || upper.starts_with("RCPT TO")
                        || upper.starts_with("RSET")
                        || upper.starts_with("NOOP")
                    {
                        envelope.push_str(&line);
                        envelope.push('\n');
                        b"250 OK\r\n"
                    } else if upper == "DATA" {
                        write.write_all(b"354 go ahead\r\n").await.unwrap();
                        let mut data = envelope.clone();
                        while let Ok(Some(body)) = lines.next_line().await {
                            if body == "." {
                                break;
                            }
                            data.push_str(&body);
                            data.push('\n');
                        }
                        store.lock().unwrap().push(data);
                        b"250 queued\r\n"
                    } else if upper == "QUIT" {
                        write.write_all(b"221 bye\r\n").await.unwrap();
                        return;
                    } else {
                        b"502 not implemented\r\n"
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, messages)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_over_smtp() {
    let (port, messages) = smtp_server().await;
    let email = EmailConfig {
        host: "127.0.0.1".into(),
        port: Some(port),
        tls: false,
        username: None,
        password: None,
        from: "mmerr alerts <alerts@example.com>".into(),
        to: vec!["oncall@example.com".into(), "lead@example.com".into()],
    };
    let config = MonitorConfig {
        evaluate_every_ms: 50,
        sinks: SinksConfig {
            log: false,
            email: Some(email),
            retry_ms: 20,
            ..SinksConfig::default()
        },
        ..MonitorConfig::default()
    };
    let monitor = Monitor::new(config).unwrap();
    let alerting = monitor.spawn_alerting(vec![]);
    monitor.record(&Event {
        trace_id: Some("bal-1"),
        ..Event::attempt(
            Endpoint::Chat,
            Seen::Code(ErrorCode::INSUFFICIENT_BALANCE),
            1,
            true,
        )
    });
    wait_for("the email", || !messages.lock().unwrap().is_empty()).await;
    let message = messages.lock().unwrap()[0].clone();
    assert!(
        message.contains("RCPT TO:<oncall@example.com>")
            && message.contains("RCPT TO:<lead@example.com>"),
        "{message}"
    );
    assert!(
        message.contains("Subject: [error] MiniMax 1008: insufficient balance"),
        "{message}"
    );
    assert!(
        message.contains("Top up") || message.contains("Check your account balance"),
        "{message}"
    );
    assert!(message.contains("bal-1"), "{message}");
    for header in [
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Message-ID: <",
    ] {
        assert!(message.contains(header), "{header} missing: {message}");
    }
    alerting.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_robots_carry_a_valid_signature() {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let seen = Arc::new(Mutex::new(Vec::<(String, Value)>::new()));
    let store = Arc::clone(&seen);
    let app = Router::new().route(
        "/{robot}",
        post(
            move |Path(robot): Path<String>, uri: axum::http::Uri, body: String| {
                let store = Arc::clone(&store);
                async move {
                    let mut value: Value = serde_json::from_str(&body).unwrap();
                    value["query"] = Value::String(uri.query().unwrap_or("").to_string());
                    store.lock().unwrap().push((robot, value));
                    r#"{"errcode":0,"code":0}"#
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let secret = "SECrobot-secret-123";
    let config = MonitorConfig {
        evaluate_every_ms: 20,
        sinks: SinksConfig {
            log: false,
            webhooks: vec![
                WebhookConfig {
                    url: format!("{url}/dingtalk?access_token=t"),
                    format: WebhookFormat::Dingtalk,
                    secret: Some(secret.into()),
                },
                WebhookConfig {
                    url: format!("{url}/feishu"),
                    format: WebhookFormat::Feishu,
                    secret: Some(secret.into()),
                },
            ],
            ..SinksConfig::default()
        },
        ..MonitorConfig::default()
    };
    let monitor = Monitor::new(config).unwrap();
    let alerting = monitor.spawn_alerting(vec![]);
    monitor.record(&Event::attempt(
        Endpoint::Chat,
        Seen::Code(ErrorCode::INVALID_API_KEY),
        1,
        true,
    ));
    wait_for("both robots", || seen.lock().unwrap().len() >= 2).await;
    let sign = |key: &[u8], message: &[u8]| {
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).unwrap();
        mac.update(message);
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    };
    for (robot, value) in seen.lock().unwrap().iter() {
        match robot.as_str() {
            "dingtalk" => {
                let query: std::collections::HashMap<String, String> =
                    url_pairs(value["query"].as_str().unwrap());
                let timestamp = &query["timestamp"];
                assert_eq!(
                    query["sign"],
                    sign(
                        secret.as_bytes(),
                        format!("{timestamp}\n{secret}").as_bytes()
                    )
                );
                assert_eq!(query["access_token"], "t");
            }
            "feishu" => {
                let timestamp = value["timestamp"].as_str().unwrap();
                assert_eq!(
                    value["sign"],
                    sign(format!("{timestamp}\n{secret}").as_bytes(), b"")
                );
            }
            other => panic!("{other}"),
        }
    }
    alerting.stop();
}

fn url_pairs(query: &str) -> std::collections::HashMap<String, String> {
    reqwest::Url::parse(&format!("http://x/?{query}"))
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[test]
fn email_config_never_shows_its_password() {
    let email = EmailConfig {
        host: "smtp.example.com".into(),
        port: None,
        tls: true,
        username: Some("alerts".into()),
        password: Some("smtp-password-123".into()),
        from: "alerts@example.com".into(),
        to: vec!["oncall@example.com".into()],
    };
    assert!(!format!("{email:?}").contains("smtp-password-123"));
}
