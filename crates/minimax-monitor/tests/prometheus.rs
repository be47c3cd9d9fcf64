//! `/metrics` served by the Prometheus exporter, fed by a client wired to a monitor and talking
//! to the mock. Alone in its binary: the exporter is the process-wide recorder.

use minimax_errors::validate::ChatRequest;
use minimax_guard::RetryConfig;
use std::time::Duration;

fn fast_retry() -> RetryConfig {
    RetryConfig {
        strategy: minimax_errors::policy::DelayStrategy::FullJitter {
            base: Duration::from_millis(5),
            cap: Duration::from_millis(40),
        },
        ..RetryConfig::default()
    }
}

fn chat() -> ChatRequest {
    ChatRequest::user("MiniMax-M2", "hello")
}

use minimax_errors::{Endpoint, ErrorCode};
use minimax_guard::{ApiKey, MiniMaxClient};
use minimax_mock::{Action, DEMO_KEY, EndpointFaults, MockConfig, MockServer, Scenario};
use minimax_monitor::{Event, Monitor, MonitorConfig, Seen};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_calls_show_up_in_metrics_and_the_summary() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}").parse().unwrap();

    let scenario = Scenario::new(1).with(EndpointFaults::on(Some(Endpoint::Chat)).sequence([
        Action::Code(ErrorCode::RATE_LIMIT),
        Action::Ok,
        Action::Code(ErrorCode::INPUT_SENSITIVE),
    ]));
    let server = MockServer::start(
        "127.0.0.1:0".parse().unwrap(),
        MockConfig::default(),
        scenario,
    )
    .await
    .unwrap();
    // The configured address is served by the monitor's background work.
    let config = MonitorConfig {
        rules: vec![],
        metrics_addr: Some(addr),
        ..MonitorConfig::default()
    };
    let monitor = Monitor::new(config).unwrap();
    let alerting = monitor.spawn_alerting(vec![]);
    let retry = fast_retry();
    let client = MiniMaxClient::builder()
        .base_url(server.url())
        .api_key(ApiKey::new(DEMO_KEY))
        .retry(retry)
        .observer(monitor.as_observer())
        .build()
        .unwrap();
    let request = chat();
    assert_eq!(client.chat(&request).await.unwrap().attempts, 2);
    assert_eq!(
        client.chat(&request).await.unwrap_err().code(),
        Some(ErrorCode::INPUT_SENSITIVE)
    );

    let summary = monitor.summary();
    assert_eq!(
        summary.error_breakdown,
        [("1002".to_string(), 1), ("1026".to_string(), 1)].into()
    );
    let chat = &summary.endpoints["chat"];
    assert_eq!(
        (
            chat.since_start.calls,
            chat.since_start.ok_after_retries,
            chat.since_start.failed,
            chat.attempts
        ),
        (2, 1, 1, 3)
    );
    assert_eq!(
        server.stats().requests,
        3,
        "the monitor saw exactly what the mock answered"
    );

    // A code outside the catalog, and a call that failed fast, recorded directly.
    monitor.record(&Event::attempt(
        Endpoint::Chat,
        Seen::Code(ErrorCode::new(777)),
        1,
        true,
    ));
    monitor.record(&Event::attempt(
        Endpoint::Chat,
        Seen::Code(ErrorCode::new(778)),
        1,
        true,
    ));
    monitor.record(&Event::attempt(Endpoint::Chat, Seen::FailingFast, 1, true));

    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        r#"minimax_requests_total{endpoint="chat",outcome="1002"} 1"#,
        r#"minimax_requests_total{endpoint="chat",outcome="success"} 1"#,
        r#"minimax_errors_total{endpoint="chat",code="1026",category="content"} 1"#,
        r#"minimax_retries_total{endpoint="chat"} 1"#,
        "minimax_retry_budget_tokens 500", // a paced throttle costs nothing
        r#"minimax_pacer_rate_rpm{group="text"}"#,
        r#"minimax_pacer_waiting{group="text"} 0"#,
        r#"minimax_request_duration_seconds_count{endpoint="chat"} 6"#,
        // Help for every metric (`promtool check metrics` wants it).
        "# HELP minimax_requests_total",
        "# HELP minimax_errors_total",
        "# HELP minimax_pacer_rate_rpm",
        // Every catalog code's series exists at zero, so `increase()` sees a first burst.
        r#"minimax_errors_total{endpoint="chat",code="1004",category="auth"} 0"#,
        r#"minimax_errors_total{endpoint="anthropic",code="2056",category="quota"} 0"#,
        r#"minimax_errors_total{endpoint="t2a",code="1039",category="throttling"} 0"#,
        r#"minimax_errors_total{endpoint="chat",code="1039",category="invalid_request"} 0"#,
        // Codes outside the catalog share one label value.
        r#"minimax_requests_total{endpoint="chat",outcome="other"} 2"#,
        r#"minimax_errors_total{endpoint="chat",code="other",category="unknown"} 2"#,
        r#"minimax_requests_total{endpoint="chat",outcome="failing_fast"} 1"#,
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
    assert!(!text.contains(DEMO_KEY));
    promtool_check_metrics(&text);
    // Label values only: a duration may well contain the digits.
    assert!(
        !["\"777\"", "\"778\""].iter().any(|v| text.contains(v)),
        "unbounded labels"
    );
    assert!(!text.contains(r#"endpoint="chat",code="1039",category="throttling""#));
    alerting.stop();
}

/// `promtool check metrics` on the exposition: HELP for every metric, names and types as
/// Prometheus wants them. promtool comes with Debian's prometheus package (`.ci/run` installs
/// it); without it the check is skipped and says so, except under CI where it must run.
fn promtool_check_metrics(text: &str) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) if std::env::var_os("CI").is_none() => {
            eprintln!(
                "promtool check metrics did not run: {error} (install Debian's prometheus package)"
            );
            return;
        }
        Err(error) => panic!("promtool is needed under CI: {error}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && said.trim().is_empty(),
        "promtool check metrics: {said}"
    );
}
