//! Alerting does not depend on the metrics: with the metrics address taken by another
//! process, the rules still run and alerts still go out. Alone in its binary: it would install
//! the process-wide recorder if the address were free.

use minimax_errors::{Endpoint, ErrorCode};
use minimax_monitor::sinks::SinksConfig;
use minimax_monitor::{Event, Monitor, MonitorConfig, Seen};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_go_out_when_the_metrics_port_is_taken() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("alerts.jsonl");
    let monitor = Monitor::new(MonitorConfig {
        evaluate_every_ms: 20,
        metrics_addr: Some(taken.local_addr().unwrap()),
        sinks: SinksConfig {
            log: false,
            jsonl: Some(jsonl.clone()),
            ..SinksConfig::default()
        },
        ..MonitorConfig::default()
    })
    .unwrap();
    let _alerting = monitor.spawn_alerting(vec![]);
    monitor.record(&Event::attempt(
        Endpoint::Chat,
        Seen::Code(ErrorCode::UNAUTHORIZED),
        1,
        true,
    ));
    let started = Instant::now();
    while !std::fs::read_to_string(&jsonl).is_ok_and(|t| t.contains("auth-failure")) {
        assert!(started.elapsed() < Duration::from_secs(10), "no alert");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
