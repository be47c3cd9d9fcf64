//! The plan remains endpoint (`/v1/api/openplatform/coding_plan/remains`, also
//! `/v1/token_plan/remains`): a subscription key's 5-hour and weekly windows, in the shape
//! MiniMax's console reads. A key without a plan gets 1004.

use crate::app::{App, bearer_key};
use crate::limits::{PlanWindowKind, unix_at};
use crate::reply;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minimax_errors::ErrorCode;
use serde_json::json;
use std::time::Instant;

/// Answers for the key in `headers`.
pub(crate) fn remains(app: &App, headers: &HeaderMap) -> Response {
    let trace_id = app.next_trace_id();
    app.stats.request("plan-remains");
    let now = Instant::now();
    let windows = bearer_key(headers).and_then(|key| app.with_account(key, |a| a.plan(now)));
    let windows = match windows {
        Some(windows) if !windows.is_empty() => windows,
        _ => {
            app.stats.outcome("plan-remains", "1004");
            let body = json!({
                "base_resp": reply::base_resp(ErrorCode::UNAUTHORIZED, "no active plan for this key"),
            });
            return reply::json_response(StatusCode::OK, &body, &trace_id);
        }
    };
    let ms = |at: Instant| unix_at(at, now) * 1000;
    let mut bucket = json!({
        "model_name": "general",
        "current_interval_total_count": 0,
        "current_interval_usage_count": 0,
    });
    for w in &windows {
        let left = w.limit.saturating_sub(w.used);
        let percent = (left * 100).checked_div(w.limit).unwrap_or(0);
        let status = i64::from(left > 0);
        let remains_ms = w.ends.saturating_duration_since(now).as_millis() as u64;
        let fields = match w.kind {
            PlanWindowKind::Hours => json!({
                "start_time": ms(w.started), "end_time": ms(w.ends), "remains_time": remains_ms,
                "current_interval_remaining_percent": percent, "current_interval_status": status,
            }),
            PlanWindowKind::Weekly => json!({
                "weekly_start_time": ms(w.started), "weekly_end_time": ms(w.ends),
                "weekly_remains_time": remains_ms,
                "current_weekly_remaining_percent": percent, "current_weekly_status": status,
            }),
        };
        if let (Some(bucket), Some(fields)) = (bucket.as_object_mut(), fields.as_object()) {
            bucket.extend(fields.clone());
        }
    }
    let remains = json!([bucket]);
    let body = if app.config.remains_in_data {
        json!({"base_resp": reply::base_resp(ErrorCode::SUCCESS, "success"), "data": {"model_remains": remains}})
    } else {
        json!({"base_resp": reply::base_resp(ErrorCode::SUCCESS, "success"), "model_remains": remains})
    };
    app.stats.outcome("plan-remains", "success");
    reply::json_response(StatusCode::OK, &body, &trace_id)
}
