//! Prometheus metrics through the `metrics` facade: requests by endpoint and outcome, errors by
//! code and category, retries, the retry budget, and latency. Without an installed recorder the
//! calls cost next to nothing; [`serve`] installs the Prometheus exporter with a `/metrics`
//! endpoint.

use super::Event;
use std::net::SocketAddr;

/// Counts one attempt.
pub(crate) fn record(event: &Event<'_>) {
    let endpoint = event.endpoint.as_str();
    let outcome: metrics::SharedString = match event.seen.static_label() {
        Some(label) => label.into(),
        None => event.seen.label().into(),
    };
    metrics::counter!("minimax_requests_total", "endpoint" => endpoint, "outcome" => outcome.clone()).increment(1);
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

/// Installs the Prometheus exporter as the global recorder and serves `/metrics` on `addr`.
/// Call once, inside a tokio runtime.
pub fn serve(addr: SocketAddr) -> Result<(), String> {
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(addr)
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Full(
                "minimax_request_duration_seconds".to_string(),
            ),
            &[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0],
        )
        .map_err(|e| e.to_string())?
        .install()
        .map_err(|e| format!("cannot serve metrics on {addr}: {e}"))
}
