//! Before the wall: a subscription key's plan windows, polled, exported as gauges and alerted on
//! at thresholds of use (one alert per threshold per window, saying when the window resets).

use crate::rules::{Alert, AlertStatus, AlertText};
use minimax_errors::quota::{duration_text, resets_text};
use minimax_errors::{Category, ErrorCode, Lang, LogLevel};
use minimax_guard::{PlanRemains, PlanWindowUse};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// What to poll, how often, and when to alert (TOML `[plan]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlanWatch {
    /// Seconds between polls (at least 60: the endpoint is not for hammering).
    pub every_secs: u64,
    /// Alert when a window's use passes each of these percentages.
    pub alert_at: Vec<u8>,
    /// The environment variable holding the subscription key.
    pub key_env: String,
    /// The API's base URL (`https://api.minimax.io`, `https://api.minimaxi.com`, a mock).
    pub base_url: String,
}

impl Default for PlanWatch {
    fn default() -> PlanWatch {
        PlanWatch {
            every_secs: 300,
            alert_at: vec![80, 95],
            key_env: "MINIMAX_API_KEY".to_string(),
            base_url: "https://api.minimax.io".to_string(),
        }
    }
}

impl PlanWatch {
    /// The poll interval, never under a minute.
    pub fn every(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.every_secs.max(60))
    }
}

/// Thresholds already alerted, per bucket, window and the window's end (so a new window alerts
/// again).
#[derive(Debug, Default)]
pub(crate) struct PlanAlerts {
    fired: BTreeSet<(String, &'static str, u8, i64)>,
    pending: Vec<Alert>,
}

impl PlanAlerts {
    /// Takes in one poll's answer at `now_ms`: gauges set, alerts queued for thresholds passed.
    pub(crate) fn observe(&mut self, remains: &PlanRemains, thresholds: &[u8], now_ms: u64) {
        for bucket in &remains.buckets {
            for (window, name) in [(&bucket.interval, "5h"), (&bucket.weekly, "weekly")] {
                let Some(window) = window else { continue };
                metrics::gauge!(
                    "minimax_plan_remaining_ratio",
                    "window" => name,
                    "bucket" => label(&bucket.name),
                )
                .set(window.remaining_percent / 100.0);
                let used = 100.0 - window.remaining_percent;
                // The highest threshold passed; lower ones are implied.
                let Some(&threshold) = thresholds.iter().filter(|&&t| used >= f64::from(t)).max()
                else {
                    continue;
                };
                let key = (bucket.name.clone(), name, threshold, window.end_ms);
                if self.fired.insert(key) {
                    self.pending
                        .push(alert(&bucket.name, name, window, threshold, now_ms));
                }
            }
        }
        // Windows that ended long ago are forgotten.
        let horizon = now_ms as i64 - 8 * 86_400_000;
        self.fired.retain(|k| k.3 > horizon);
    }

    /// The alerts queued since the last call.
    pub(crate) fn take(&mut self) -> Vec<Alert> {
        std::mem::take(&mut self.pending)
    }
}

/// A bucket name as a metric label: bounded, plain.
fn label(bucket: &str) -> String {
    minimax_errors::scrub::scrub_text(bucket)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .take(32)
        .collect()
}

fn alert(
    bucket: &str,
    window: &'static str,
    w: &PlanWindowUse,
    threshold: u8,
    now_ms: u64,
) -> Alert {
    let used = (100.0 - w.remaining_percent).round();
    let now = (now_ms / 1000) as i64;
    let end = w.end_ms / 1000;
    let (zh_window, en_window) = match window {
        "5h" => ("5 小时窗口", "5-hour window"),
        _ => ("每周窗口", "weekly window"),
    };
    let left = (end - now).max(0);
    Alert {
        rule: "plan-window".to_string(),
        incident: format!("plan-window:{bucket}:{window}:{threshold}:{}", w.end_ms),
        status: AlertStatus::Firing,
        severity: if threshold >= 95 {
            LogLevel::Error
        } else {
            LogLevel::Warn
        },
        code: Some(ErrorCode::USAGE_LIMIT_EXCEEDED.as_i64()),
        category: Some(Category::Quota),
        meaning: AlertText {
            zh: format!("套餐 {bucket} 的{zh_window}已用 {used:.0}%（阈值 {threshold}%）"),
            en: format!(
                "{used:.0} % of the plan's {en_window} for {bucket} used (threshold {threshold} %)"
            ),
        },
        solution: AlertText {
            zh: format!(
                "用尽后调用会得到 2056，直到{}；可降低用量或升级套餐（还有 {}）",
                resets_text(end, now, Lang::Zh),
                duration_text(left, Lang::Zh)
            ),
            en: format!(
                "When it runs out, calls get 2056 until it {}; slow down or upgrade the plan",
                resets_text(end, now, Lang::En)
            ),
        },
        count: used as u64,
        threshold: u64::from(threshold),
        window_secs: ((w.end_ms - w.start_ms).max(0) / 1000) as u64,
        first_seen_ms: now_ms,
        last_seen_ms: now_ms,
        sample_trace_ids: Vec::new(),
        at_ms: now_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minimax_guard::PlanBucket;

    fn remains(percent_left: f64, end_ms: i64) -> PlanRemains {
        PlanRemains {
            buckets: vec![PlanBucket {
                name: "general".to_string(),
                interval: Some(PlanWindowUse {
                    remaining_percent: percent_left,
                    start_ms: end_ms - 5 * 3_600_000,
                    end_ms,
                }),
                weekly: None,
            }],
        }
    }

    #[test]
    fn one_alert_per_threshold_per_window() {
        let mut alerts = PlanAlerts::default();
        let now = 1_800_000_000_000u64;
        let end = now as i64 + 3_600_000;
        alerts.observe(&remains(50.0, end), &[80, 95], now);
        assert!(alerts.take().is_empty(), "half used: no alert");
        alerts.observe(&remains(15.0, end), &[80, 95], now);
        let first = alerts.take();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].threshold, 80);
        assert_eq!(first[0].severity, LogLevel::Warn);
        assert!(
            first[0].solution.en.contains("resets at ") && first[0].solution.en.contains("in 1 h"),
            "{:?}",
            first[0].solution
        );
        alerts.observe(&remains(12.0, end), &[80, 95], now + 60_000);
        assert!(
            alerts.take().is_empty(),
            "the same threshold of the same window: once"
        );
        alerts.observe(&remains(3.0, end), &[80, 95], now + 120_000);
        let second = alerts.take();
        assert_eq!((second.len(), second[0].threshold), (1, 95));
        assert_eq!(second[0].severity, LogLevel::Error);
        // The next window alerts again.
        alerts.observe(
            &remains(10.0, end + 5 * 3_600_000),
            &[80, 95],
            now + 4 * 3_600_000,
        );
        assert_eq!(alerts.take().len(), 1);
    }
}
