//! A monitor sharing its incidents with a fleet whose store cannot be reached alerts on its own
//! counts, as a monitor alone does: better the same alert from two processes than none.

use async_trait::async_trait;
use minimax_errors::{Endpoint, ErrorCode};
use minimax_monitor::fleet::{RuleCount, SharedIncidents, Unshared};
use minimax_monitor::{AlertRule, AlertStatus, Event, Monitor, MonitorConfig, Seen, Watch};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug)]
struct Unreachable;

#[async_trait]
impl SharedIncidents for Unreachable {
    async fn exchange(&self, _counts: Vec<RuleCount>) -> Result<Vec<RuleCount>, Unshared> {
        Err(Unshared)
    }

    async fn claim(&self, _: &str, _: AlertStatus, _: Duration) -> Result<bool, Unshared> {
        Err(Unshared)
    }
}

#[tokio::test]
async fn an_unreachable_fleet_store_leaves_alerting_to_the_process() {
    let rule = AlertRule {
        name: "auth".to_string(),
        watch: Watch::Code(ErrorCode::INVALID_API_KEY),
        threshold: 2,
        window_secs: 60,
        cooldown_secs: 0,
        resolve_after_secs: None,
        severity: None,
    };
    let monitor = Monitor::new(MonitorConfig {
        rules: vec![rule],
        ..MonitorConfig::default()
    })
    .unwrap();
    monitor.share_incidents(Arc::new(Unreachable));
    let event = Event::attempt(
        Endpoint::Chat,
        Seen::Code(ErrorCode::INVALID_API_KEY),
        1,
        true,
    );
    for _ in 0..3 {
        monitor.record(&event);
    }
    let alerts = monitor.evaluate_in_fleet().await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].status, AlertStatus::Firing);
    assert_eq!(alerts[0].count, 3, "its own count");
    assert!(
        monitor.evaluate_in_fleet().await.is_empty(),
        "one alert per incident"
    );
}
