//! Alerts delivered to real receivers started here: a local HTTP server (one path per webhook
//! shape, one flaky, one that never answers) and a small SMTP server.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use minimax_errors::{Endpoint, ErrorCode, Lang};
use minimax_guard::monitor::sinks::{EmailConfig, SinksConfig, WebhookConfig, WebhookFormat};
use minimax_guard::monitor::{Event, Monitor, MonitorConfig, Seen};
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
            attempts: 5,
            retry_ms: 20,
        },
        ..MonitorConfig::default()
    };
    let monitor = Monitor::new(config).unwrap();
    let alerting = monitor.spawn_alerting(vec![]).unwrap();
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
            }],
            retry_ms: 10,
            ..SinksConfig::default()
        },
        ..MonitorConfig::default()
    };
    let monitor = Monitor::new(config).unwrap();
    let alerting = monitor.spawn_alerting(vec![]).unwrap();
    burst(&monitor, 11);
    wait_for("the robot", || !received.posts.lock().unwrap().is_empty()).await;
    assert_eq!(
        *received.flaky_calls.lock().unwrap(),
        5,
        "four refusals, then delivered"
    );
    assert_eq!(
        alerting.failures.load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    alerting.stop();
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
    let alerting = monitor.spawn_alerting(vec![]).unwrap();
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
    alerting.stop();
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
