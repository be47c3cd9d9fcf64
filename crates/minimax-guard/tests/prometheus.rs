//! `/metrics` served by the Prometheus exporter, fed by a client wired to a monitor and talking
//! to the mock. Alone in its binary: the exporter is the process-wide recorder.

mod common;

use common::{chat, fast_retry};

use minimax_errors::{Endpoint, ErrorCode};
use minimax_guard::monitor::{Monitor, MonitorConfig};
use minimax_guard::{ApiKey, MiniMaxClient};
use minimax_mock::{Action, DEMO_KEY, EndpointFaults, MockConfig, MockServer, Scenario};

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
    let alerting = monitor.spawn_alerting(vec![]).unwrap();
    let retry = fast_retry();
    let client = MiniMaxClient::builder()
        .base_url(server.url())
        .api_key(ApiKey::new(DEMO_KEY))
        .retry(retry)
        .monitor(monitor.clone())
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
        r#"minimax_request_duration_seconds_count{endpoint="chat"} 3"#,
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
    assert!(!text.contains(DEMO_KEY));
    alerting.stop();
}
