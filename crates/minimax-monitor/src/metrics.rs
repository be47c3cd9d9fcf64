//! Prometheus metrics through the `metrics` facade: requests by endpoint and outcome, errors by
//! code and category, retries, the retry budget, the pace, and latency. Without an installed
//! recorder the calls cost next to nothing; [`serve`] installs the Prometheus exporter with a
//! `/metrics` endpoint.
//!
//! Label values are bounded: codes outside the catalog are counted as `other`, so a server that
//! answers a thousand made-up codes makes one series, not a thousand. Every catalog code's error
//! series exists at zero from the start ([`register`]), so an alert on `increase()` sees the
//! first burst whole instead of a series that starts at its first value.

use super::Event;
use super::outcome::{OUTCOMES, at, category_at};
use crate::error::ConfigError;
use minimax_errors::Endpoint;
use std::net::SocketAddr;

/// The label of an outcome: its code or kind, `other` for codes outside the catalog.
fn label(seen: super::Seen) -> &'static str {
    seen.static_label().unwrap_or("other")
}

/// Counts one attempt.
pub(crate) fn record(event: &Event<'_>) {
    let endpoint = event.endpoint.as_str();
    let outcome = label(event.seen);
    metrics::counter!("minimax_requests_total", "endpoint" => endpoint, "outcome" => outcome)
        .increment(1);
    if let Some(category) = super::outcome::category(event.seen, event.endpoint) {
        metrics::counter!("minimax_errors_total", "endpoint" => endpoint, "code" => outcome, "category" => category.as_str())
            .increment(1);
    }
    if event.attempt > 1 {
        metrics::counter!("minimax_retries_total", "endpoint" => endpoint).increment(1);
    }
    metrics::histogram!("minimax_request_duration_seconds", "endpoint" => endpoint)
        .record(event.latency.as_secs_f64());
}

/// Describes every metric (Prometheus `# HELP`) and creates each endpoint's error series for
/// every catalog code at zero, and its success count. Bounded: endpoints × catalog codes.
/// [`serve`] calls it; call it after installing a recorder of your own.
pub fn register() {
    metrics::describe_counter!(
        "minimax_requests_total",
        "MiniMax call attempts by endpoint and outcome (success, a code, malformed, transport, failing_fast, paced_past_deadline, client_gone)"
    );
    metrics::describe_counter!(
        "minimax_errors_total",
        "Failed MiniMax call attempts by endpoint, code and category"
    );
    metrics::describe_counter!(
        "minimax_retries_total",
        "MiniMax call attempts after the first, by endpoint"
    );
    metrics::describe_histogram!(
        "minimax_request_duration_seconds",
        metrics::Unit::Seconds,
        "Duration of each MiniMax call attempt, by endpoint"
    );
    metrics::describe_gauge!(
        "minimax_retry_budget_tokens",
        "Tokens left in the retry budget (retries of transient failures spend them)"
    );
    metrics::describe_gauge!(
        "minimax_pacer_rate_rpm",
        "The pace calls leave at, per limit group, in requests per minute"
    );
    metrics::describe_gauge!(
        "minimax_plan_remaining_ratio",
        "Share of a subscription plan's window left (0 to 1), by window (5h, weekly) and model bucket"
    );
    metrics::describe_gauge!(
        "minimax_pacer_waiting",
        "Calls waiting for their turn under the account's pace, per limit group"
    );
    metrics::describe_counter!(
        "minimax_error_log_dropped_total",
        "Error log lines dropped, by cause (queue_full, unwritable)"
    );
    metrics::describe_counter!(
        "minimax_alerts_dropped_total",
        "Alerts dropped before delivery, by sink (a queue full for a sink that stays down)"
    );
    for endpoint in Endpoint::all() {
        let name = endpoint.as_str();
        metrics::counter!("minimax_requests_total", "endpoint" => name, "outcome" => "success")
            .absolute(0);
        for index in 0..OUTCOMES {
            let (Some(seen), Some(category)) = (at(index), category_at(index)) else {
                continue;
            };
            // An endpoint-specific meaning belongs to its endpoints only.
            if super::outcome::index(seen, endpoint) != index {
                continue;
            }
            metrics::counter!("minimax_errors_total", "endpoint" => name, "code" => label(seen), "category" => category.as_str())
                .absolute(0);
        }
    }
}

/// Installs the Prometheus exporter as the global recorder and serves `/metrics` on `addr`.
/// Call once, inside a tokio runtime.
#[cfg(not(feature = "prometheus"))]
pub fn serve(addr: SocketAddr) -> Result<(), ConfigError> {
    Err(ConfigError::Metrics {
        addr,
        reason: "minimax-monitor was built without its `prometheus` feature".to_string(),
    })
}

/// Installs the Prometheus exporter as the global recorder and serves `/metrics` on `addr`.
/// Call once, inside a tokio runtime.
#[cfg(feature = "prometheus")]
pub fn serve(addr: SocketAddr) -> Result<(), ConfigError> {
    let failed = |reason: String| ConfigError::Metrics { addr, reason };
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(addr)
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Full(
                "minimax_request_duration_seconds".to_string(),
            ),
            &[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0],
        )
        .map_err(|e| failed(e.to_string()))?
        .install()
        .map_err(|e| failed(e.to_string()))?;
    register();
    Ok(())
}
