//! # minimax-monitor
//!
//! Watching MiniMax calls in production: every attempt counted (cheaply, in bounded memory),
//! summaries over sliding windows, alert rules with "resolved" notices, alert sinks (log, JSON
//! lines, webhooks, email), a scrubbed JSON-lines error log with rotation and its reader, and
//! Prometheus metrics. A [`Monitor`] is an [`Observer`] of `minimax-guard`'s executor:
//! `MiniMaxClient::builder().observer(monitor.as_observer())`.
//!
//! Features (both on by default): `email` (alerts over SMTP, lettre) and `prometheus` (the
//! exporter serving `/metrics`).
//!
//! ```
//! use minimax_monitor::{Event, Monitor, MonitorConfig, Seen};
//! use minimax_errors::{Endpoint, ErrorCode};
//! use std::time::Duration;
//!
//! let monitor = Monitor::new(MonitorConfig::default()).unwrap();
//! let rate_limited = Event::attempt(Endpoint::T2a, Seen::Code(ErrorCode::RATE_LIMIT), 1, false);
//! monitor.record(&rate_limited);
//! monitor.record(&Event::attempt(Endpoint::T2a, Seen::Success, 2, true));
//! let summary = monitor.summary();
//! assert_eq!(summary.total_errors, 1);
//! assert_eq!(summary.since_start.calls, 1);
//! assert_eq!(summary.since_start.ok_after_retries, 1);
//! assert_eq!(summary.top_errors[0], ("1002".to_string(), 1));
//! ```

#![warn(missing_docs)]

#[cfg(feature = "email")]
mod email;
mod error;
mod errorlog;
pub mod fleet;
pub mod metrics;
mod outcome;
pub mod plan;
pub mod report;
mod rules;
pub mod sinks;
mod store;

pub use error::{ConfigError, SendError, toml_error_text};
pub use errorlog::{ErrorLog, ErrorLogConfig, Flushed};
pub use minimax_guard::observer::{Event, Observer, Seen};
pub use rules::{Alert, AlertRule, AlertStatus, AlertText, Watch};

use minimax_errors::{CodeInfo, Endpoint, ErrorCode, Lang, LimitGroup};
use outcome::{OTHER_CODE, OUTCOMES, at};
use rules::Incident;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use store::{RING, Shard};

/// Shards of the counters; two cores need few.
const SHARDS: usize = 8;

/// How the monitor is set up (TOML).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MonitorConfig {
    /// Alert rules (default: [`AlertRule::defaults`]).
    pub rules: Vec<AlertRule>,
    /// Language of alert text sent to people.
    pub lang: Lang,
    /// How often rules are evaluated, in milliseconds.
    pub evaluate_every_ms: u64,
    /// The JSON-lines error log, if any.
    pub error_log: Option<ErrorLogConfig>,
    /// Where alerts go.
    pub sinks: sinks::SinksConfig,
    /// Serve Prometheus metrics on this address (`127.0.0.1:9464`), if set.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// Poll a subscription key's plan windows and alert before they run out (off by default).
    pub plan: Option<plan::PlanWatch>,
}

impl Default for MonitorConfig {
    fn default() -> MonitorConfig {
        MonitorConfig {
            rules: AlertRule::defaults(),
            lang: Lang::En,
            evaluate_every_ms: 1000,
            error_log: None,
            sinks: sinks::SinksConfig::default(),
            metrics_addr: None,
            plan: None,
        }
    }
}

impl MonitorConfig {
    /// Parses and checks a configuration.
    pub fn from_toml(text: &str) -> Result<MonitorConfig, ConfigError> {
        let config: MonitorConfig = toml::from_str(text)
            .map_err(|e| ConfigError::Toml(error::toml_error_text(&e, text)))?;
        for rule in &config.rules {
            rule.check()?;
        }
        Ok(config)
    }

    /// Loads a configuration file.
    pub fn load(path: &Path) -> Result<MonitorConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        MonitorConfig::from_toml(&text)
    }
}

/// The monitor. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Monitor {
    inner: Arc<Inner>,
}

struct Inner {
    config: MonitorConfig,
    shards: Vec<Mutex<Shard>>,
    incidents: Mutex<BTreeMap<(usize, usize), Incident>>,
    error_log: Option<ErrorLog>,
    started_ms: u64,
    plan_alerts: Mutex<plan::PlanAlerts>,
    shared: std::sync::OnceLock<Arc<dyn fleet::SharedIncidents>>,
}

/// How long the fleet's store keeps an incident open that no process closes (all stopped).
const INCIDENT_KEPT_SECS: u64 = 6 * 3600;

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor")
            .field("rules", &self.inner.config.rules.len())
            .finish_non_exhaustive()
    }
}

impl Observer for Monitor {
    fn observe(&self, event: &Event<'_>) {
        self.record(event);
    }

    fn budget(&self, tokens: u32) {
        ::metrics::gauge!("minimax_retry_budget_tokens").set(f64::from(tokens));
    }

    fn pace(&self, group: LimitGroup, rpm: f64, waiting: usize) {
        ::metrics::gauge!("minimax_pacer_rate_rpm", "group" => group.as_str()).set(rpm);
        ::metrics::gauge!("minimax_pacer_waiting", "group" => group.as_str()).set(waiting as f64);
    }
}

impl Monitor {
    /// The monitor as what a client reports to: `MiniMaxClient::builder().observer(monitor.as_observer())`.
    pub fn as_observer(&self) -> Arc<dyn Observer> {
        Arc::new(self.clone())
    }
}

/// Counts over one span of time.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counts {
    /// Calls that ended (their last attempt) in the span.
    pub calls: u64,
    /// Of those, succeeded at the first attempt.
    pub ok_first_try: u64,
    /// Of those, succeeded after retries.
    pub ok_after_retries: u64,
    /// Of those, failed for good.
    pub failed: u64,
    /// Success rate before retries (first attempts that succeeded / calls).
    pub success_rate_first_try: Option<f64>,
    /// Success rate after retries (calls that succeeded / calls).
    pub success_rate: Option<f64>,
}

impl Counts {
    fn add(&mut self, calls: u64, first_try_ok: u64, ok: u64) {
        self.calls += calls;
        self.ok_first_try += first_try_ok;
        self.ok_after_retries += ok - first_try_ok.min(ok);
        self.failed += calls - ok.min(calls);
    }

    fn finish(mut self) -> Counts {
        if self.calls > 0 {
            let calls = self.calls as f64;
            self.success_rate_first_try = Some(self.ok_first_try as f64 / calls);
            self.success_rate = Some((self.ok_first_try + self.ok_after_retries) as f64 / calls);
        }
        self
    }
}

/// One endpoint's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EndpointSummary {
    /// Since start.
    pub since_start: Counts,
    /// The last minute.
    pub last_minute: Counts,
    /// The last hour.
    pub last_hour: Counts,
    /// Attempts made (calls and their retries).
    pub attempts: u64,
    /// Mean attempt latency, in milliseconds.
    pub latency_avg_ms: f64,
    /// Longest attempt latency, in milliseconds.
    pub latency_max_ms: u64,
}

/// The monitor's summary: the seed's (total errors, breakdown per code, top 5) and more.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Errors met (every failed attempt) since start.
    pub total_errors: u64,
    /// Errors per outcome (`"1002"`, `"malformed"`, `"transport"`) since start.
    pub error_breakdown: BTreeMap<String, u64>,
    /// The five most frequent.
    pub top_errors: Vec<(String, u64)>,
    /// Errors per outcome in the last minute.
    pub errors_last_minute: BTreeMap<String, u64>,
    /// Errors per outcome in the last hour.
    pub errors_last_hour: BTreeMap<String, u64>,
    /// All endpoints together, since start.
    pub since_start: Counts,
    /// All endpoints together, the last minute.
    pub last_minute: Counts,
    /// All endpoints together, the last hour.
    pub last_hour: Counts,
    /// Per endpoint (only those called).
    pub endpoints: BTreeMap<String, EndpointSummary>,
    /// When the monitor started (Unix ms).
    pub started_ms: u64,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// RFC 3339 UTC with milliseconds, e.g. `2026-11-27T04:10:04.123Z`.
pub fn timestamp(ms: u64) -> String {
    timestamp_to(ms, Resolution::Millisecond)
}

/// How finely a time is known, and so printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// `2026-11-27T04:10:04.123Z`
    Millisecond,
    /// `2026-11-27T04:10:04Z`
    Second,
    /// `2026-11-27T04:10Z`
    Minute,
}

/// RFC 3339 UTC to `resolution`: a time counted to the second is not printed with `.000`.
pub fn timestamp_to(ms: u64, resolution: Resolution) -> String {
    let at = time::OffsetDateTime::UNIX_EPOCH + time::Duration::milliseconds(ms as i64);
    let formatted = match resolution {
        Resolution::Millisecond => at.format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        )),
        Resolution::Second => at.format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
        )),
        Resolution::Minute => at.format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]Z"
        )),
    };
    formatted.unwrap_or_default()
}

thread_local! {
    static SHARD: usize = {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS
    };
}

impl Monitor {
    /// A monitor; opens the error log when one is configured.
    pub fn new(config: MonitorConfig) -> Result<Monitor, ConfigError> {
        for rule in &config.rules {
            rule.check()?;
        }
        let error_log = match &config.error_log {
            Some(log) => {
                Some(
                    ErrorLog::open(log.clone()).map_err(|source| ConfigError::ErrorLog {
                        path: log.path.clone(),
                        source,
                    })?,
                )
            }
            None => None,
        };
        let shards = (0..SHARDS).map(|_| Mutex::new(Shard::new())).collect();
        Ok(Monitor {
            inner: Arc::new(Inner {
                config,
                shards,
                incidents: Mutex::new(BTreeMap::new()),
                error_log,
                started_ms: now_ms(),
                plan_alerts: Mutex::default(),
                shared: std::sync::OnceLock::new(),
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &MonitorConfig {
        &self.inner.config
    }

    /// Records one attempt, now.
    pub fn record(&self, event: &Event<'_>) {
        self.record_at(event, now_ms());
    }

    /// Records one attempt at a given time (Unix ms).
    pub fn record_at(&self, event: &Event<'_>, now_ms: u64) {
        let shard = SHARD.with(|s| *s);
        self.inner.shards[shard]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record(event, now_ms);
        metrics::record(event);
        if event.seen.is_error()
            && let Some(log) = &self.inner.error_log
        {
            log.write(event, now_ms);
        }
    }

    /// The error log, if one is configured.
    pub fn error_log(&self) -> Option<&ErrorLog> {
        self.inner.error_log.as_ref()
    }

    /// Waits until every error-log line recorded so far is written or dropped (at most ten
    /// seconds, for a disk that hangs); what the log has done, if there is one.
    pub fn flush(&self) -> Option<Flushed> {
        self.inner.error_log.as_ref().map(ErrorLog::flush)
    }

    /// The summary, now.
    pub fn summary(&self) -> Summary {
        self.summary_at(now_ms())
    }

    /// The summary at a given time (Unix ms).
    pub fn summary_at(&self, now_ms: u64) -> Summary {
        let mut summary = Summary {
            started_ms: self.inner.started_ms,
            ..Summary::default()
        };
        let (second, minute) = (now_ms / 1000, now_ms / 60_000);
        let mut other_codes: BTreeMap<i64, u64> = BTreeMap::new();
        let mut endpoints: BTreeMap<usize, EndpointSummary> = BTreeMap::new();
        let mut totals = [0u64; OUTCOMES];
        let mut last_minute = [0u64; OUTCOMES];
        let mut last_hour = [0u64; OUTCOMES];
        for shard in &self.inner.shards {
            let shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            for (e, per_outcome) in shard.totals.iter().enumerate() {
                let t = shard.endpoints[e];
                if t.attempts == 0 {
                    continue;
                }
                per_outcome
                    .iter()
                    .enumerate()
                    .for_each(|(o, n)| totals[o] += n);
                let s = endpoints.entry(e).or_default();
                s.since_start.add(t.calls, t.first_try_ok, t.ok);
                s.attempts += t.attempts;
                s.latency_avg_ms += t.latency_sum_ms as f64;
                s.latency_max_ms = s.latency_max_ms.max(t.latency_max_ms);
            }
            for (ring, now, per_outcome, minute_ring) in [
                (&shard.seconds, second, &mut last_minute, false),
                (&shard.minutes, minute, &mut last_hour, true),
            ] {
                for bucket in ring
                    .iter()
                    .filter(|b| b.stamp <= now && now - b.stamp < RING as u64)
                {
                    bucket
                        .outcomes
                        .iter()
                        .enumerate()
                        .for_each(|(o, n)| per_outcome[o] += u64::from(*n));
                    for e in 0..Endpoint::COUNT {
                        if bucket.calls[e] == 0 {
                            continue;
                        }
                        let s = endpoints.entry(e).or_default();
                        let counts = if minute_ring {
                            &mut s.last_hour
                        } else {
                            &mut s.last_minute
                        };
                        counts.add(
                            u64::from(bucket.calls[e]),
                            u64::from(bucket.first_try_ok[e]),
                            u64::from(bucket.ok[e]),
                        );
                    }
                }
            }
            for (code, n) in &shard.other_codes {
                *other_codes.entry(*code).or_default() += n;
            }
        }
        let name = |o: usize| at(o).map_or_else(|| "other".to_string(), Seen::label);
        for (o, n) in totals
            .iter()
            .enumerate()
            .filter(|(o, n)| **n > 0 && at(*o) != Some(Seen::Success))
        {
            if o == OTHER_CODE {
                // Codes outside the catalog are shown one by one as far as they were tracked.
                let tracked: u64 = other_codes.values().sum();
                for (code, count) in &other_codes {
                    summary.error_breakdown.insert(code.to_string(), *count);
                }
                if *n > tracked {
                    summary
                        .error_breakdown
                        .insert("other".to_string(), n - tracked);
                }
            } else {
                // Two slots share a label when a code has an endpoint-specific meaning.
                *summary.error_breakdown.entry(name(o)).or_default() += n;
            }
        }
        for (per_outcome, target) in [
            (&last_minute, &mut summary.errors_last_minute),
            (&last_hour, &mut summary.errors_last_hour),
        ] {
            for (o, n) in per_outcome
                .iter()
                .enumerate()
                .filter(|(o, n)| **n > 0 && at(*o) != Some(Seen::Success))
            {
                *target.entry(name(o)).or_default() += n;
            }
        }
        summary.total_errors = summary.error_breakdown.values().sum();
        let mut top: Vec<(String, u64)> = summary
            .error_breakdown
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        top.truncate(5);
        summary.top_errors = top;
        for (e, mut s) in endpoints {
            if s.attempts > 0 {
                s.latency_avg_ms /= s.attempts as f64;
            }
            for counts in [&mut s.since_start, &mut s.last_minute, &mut s.last_hour] {
                *counts = std::mem::take(counts).finish();
            }
            summary.since_start.add(
                s.since_start.calls,
                s.since_start.ok_first_try,
                s.since_start.ok_first_try + s.since_start.ok_after_retries,
            );
            summary.last_minute.add(
                s.last_minute.calls,
                s.last_minute.ok_first_try,
                s.last_minute.ok_first_try + s.last_minute.ok_after_retries,
            );
            summary.last_hour.add(
                s.last_hour.calls,
                s.last_hour.ok_first_try,
                s.last_hour.ok_first_try + s.last_hour.ok_after_retries,
            );
            let endpoint = Endpoint::all().nth(e).unwrap_or(Endpoint::Other);
            summary.endpoints.insert(endpoint.as_str().to_string(), s);
        }
        for counts in [
            &mut summary.since_start,
            &mut summary.last_minute,
            &mut summary.last_hour,
        ] {
            *counts = std::mem::take(counts).finish();
        }
        summary
    }

    /// Evaluates the rules now; returns the alerts to send (usually none).
    pub fn evaluate(&self) -> Vec<Alert> {
        self.evaluate_at(now_ms())
    }

    /// Evaluates the rules at a given time (Unix ms).
    pub fn evaluate_at(&self, now_ms: u64) -> Vec<Alert> {
        let window = self.window_view(now_ms);
        let counts = self.window_counts(&window);
        self.judge(&counts, &window, now_ms)
    }

    /// Evaluates the rules on the fleet's counts when the monitor shares its incidents
    /// ([`Monitor::share_incidents`]), and keeps the alerts this process is the one to send;
    /// alone (or while the fleet's store cannot be reached), as [`Monitor::evaluate`].
    pub async fn evaluate_in_fleet(&self) -> Vec<Alert> {
        self.evaluate_in_fleet_at(now_ms()).await
    }

    /// [`Monitor::evaluate_in_fleet`] at a given time (Unix ms).
    pub async fn evaluate_in_fleet_at(&self, now_ms: u64) -> Vec<Alert> {
        let Some(shared) = self.inner.shared.get() else {
            return self.evaluate_at(now_ms);
        };
        let window = self.window_view(now_ms);
        let local = self.window_counts(&window);
        let counts = match shared.exchange(local.clone()).await {
            Ok(fleet) if fleet.len() == local.len() => fleet,
            _ => local,
        };
        let mut alerts = Vec::new();
        for alert in self.judge(&counts, &window, now_ms) {
            let open_for = std::time::Duration::from_secs(INCIDENT_KEPT_SECS);
            // Unreachable: better the same alert from two processes than none.
            if shared
                .claim(&alert.incident, alert.status, open_for)
                .await
                .unwrap_or(true)
            {
                alerts.push(alert);
            }
        }
        alerts
    }

    /// Shares the rules' counts and incidents with the other processes of a fleet: counts
    /// are summed over the fleet and each alert is sent by one process.
    pub fn share_incidents(&self, shared: Arc<dyn fleet::SharedIncidents>) {
        if self.inner.shared.set(shared).is_err() {
            tracing::warn!("the monitor already shares its incidents; the new store is ignored");
        }
    }

    /// Every rule's count for each of its incident keys, in the rules' order.
    fn window_counts(&self, window: &WindowView) -> Vec<fleet::RuleCount> {
        let mut counts = Vec::new();
        for rule in &self.inner.config.rules {
            for (g, group) in rule.groups().iter().enumerate() {
                let (count, first_ms, last_ms) = window.count(group, rule.window_secs);
                counts.push(fleet::RuleCount {
                    key: format!("{}#{g}", rule.name),
                    count,
                    first_ms,
                    last_ms,
                });
            }
        }
        counts
    }

    /// Steps every incident with `counts` (from [`Monitor::window_counts`], or the fleet's);
    /// returns the alerts to send.
    fn judge(&self, counts: &[fleet::RuleCount], window: &WindowView, now_ms: u64) -> Vec<Alert> {
        let mut incidents = lock(&self.inner.incidents);
        let mut alerts = Vec::new();
        let mut counts = counts.iter();
        for (r, rule) in self.inner.config.rules.iter().enumerate() {
            for (g, group) in rule.groups().iter().enumerate() {
                let Some(seen) = counts.next() else {
                    break;
                };
                let incident = incidents.entry((r, g)).or_default();
                let span = (seen.first_ms, seen.last_ms);
                let Some(status) = incident.step(rule, seen.count, span, now_ms) else {
                    continue;
                };
                let slots = window.seen_slots(group, rule.window_secs);
                alerts.push(self.alert(rule, group, status, incident, &slots, now_ms));
            }
        }
        drop(incidents);
        alerts.extend(lock(&self.inner.plan_alerts).take());
        alerts
    }

    /// Reads the plan's windows through `client` once and takes them in (what the poller of
    /// [`plan::PlanWatch`] does on each tick).
    pub async fn check_plan(
        &self,
        client: &minimax_guard::MiniMaxClient,
    ) -> Result<(), minimax_guard::GuardError> {
        let reply = client.plan_remains().await?;
        self.record_plan_at(&reply.value, now_ms());
        Ok(())
    }

    /// Takes in the plan's windows as polled at `now_ms` (see [`plan::PlanWatch`]): the
    /// `minimax_plan_remaining_ratio` gauges, and an alert for each threshold a window passed
    /// (sent with the next evaluation).
    pub fn record_plan_at(&self, remains: &minimax_guard::PlanRemains, now_ms: u64) {
        let thresholds = self.inner.config.plan.as_ref().map_or_else(
            || plan::PlanWatch::default().alert_at,
            |p| p.alert_at.clone(),
        );
        lock(&self.inner.plan_alerts).observe(remains, &thresholds, now_ms);
    }

    /// The alert for an incident of `rule` about `group`; `seen` are the slots of the group
    /// with events in the window, and how many.
    fn alert(
        &self,
        rule: &AlertRule,
        group: &[usize],
        status: AlertStatus,
        incident: &Incident,
        seen: &[(usize, u64)],
        now_ms: u64,
    ) -> Alert {
        let slot = match group {
            [only] => Some(*only),
            _ => None,
        };
        let single = slot.and_then(at);
        let code = match (rule.watch, single) {
            (Watch::Code(code), _) | (_, Some(Seen::Code(code))) => Some(code),
            _ => None,
        };
        let category = match rule.watch {
            Watch::Category(category) => Some(category),
            _ => None,
        };
        // The slot's own row: the endpoint-specific meaning where the slot is one.
        let slot_info = slot.and_then(outcome::info_at);
        let (meaning, solution) = match (code, single, category) {
            (Some(code), _, _) => {
                let info = slot_info.unwrap_or_else(|| code.info());
                (
                    text(info.message.zh, info.message.en),
                    text(info.solution.zh, info.solution.en),
                )
            }
            (None, Some(seen @ Seen::Malformed), _) => (
                text(seen.meaning(Lang::Zh), seen.meaning(Lang::En)),
                text(
                    "已自动重试；持续出现时请检查网络与 MiniMax 服务状态",
                    "retried automatically; if it persists, check the network path and MiniMax's status",
                ),
            ),
            (None, Some(seen @ Seen::Transport), _) => (
                text(seen.meaning(Lang::Zh), seen.meaning(Lang::En)),
                text(
                    "已自动重试；持续出现时请检查网络、代理和 base URL",
                    "retried automatically; if it persists, check the network, proxies and the base URL",
                ),
            ),
            (None, _, Some(category)) => {
                // The codes actually seen, each with what it means and what to do about it.
                let (zh, en) = (category.label().zh, category.label().en);
                let seen_codes: Vec<(String, CodeInfo, u64)> = seen
                    .iter()
                    .filter_map(|&(slot, n)| {
                        let info = outcome::info_at(slot)?;
                        Some((info.code.as_i64().to_string(), info, n))
                    })
                    .collect();
                let list = |lang: Lang| {
                    seen_codes
                        .iter()
                        .map(|(code, info, n)| match lang {
                            Lang::Zh => format!("{code} {}（{n} 次）", info.message.zh),
                            Lang::En => format!("{code} {} ({n})", info.message.en),
                        })
                        .collect::<Vec<_>>()
                };
                let solutions = |lang: Lang| {
                    seen_codes
                        .iter()
                        .map(|(code, info, _)| format!("{code}: {}", info.solution.get(lang)))
                        .collect::<Vec<_>>()
                };
                (
                    text(
                        &format!("{zh}类错误：{}", list(Lang::Zh).join("、")),
                        &format!("{en} errors: {}", list(Lang::En).join(", ")),
                    ),
                    text(
                        &solutions(Lang::Zh).join("；"),
                        &solutions(Lang::En).join("; "),
                    ),
                )
            }
            _ => (
                text("MiniMax 调用错误", "MiniMax call errors"),
                text(
                    "查看 mmerr report 的错误分布",
                    "see the breakdown with `mmerr report`",
                ),
            ),
        };
        let mut samples: Vec<(u64, String)> = Vec::new();
        for shard in &self.inner.shards {
            let shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            for &o in group {
                samples.extend(shard.samples[o].iter().cloned());
            }
        }
        samples.sort_by_key(|s| std::cmp::Reverse(s.0));
        samples.dedup_by(|a, b| a.1 == b.1);
        let target = match (code, category) {
            (Some(code), _) => code.as_i64().to_string(),
            (None, Some(category)) => category.to_string(),
            _ => "any".to_string(),
        };
        Alert {
            rule: rule.name.clone(),
            incident: format!("{}:{target}", rule.name),
            status,
            severity: rule.severity_for(slot),
            code: code.map(ErrorCode::as_i64),
            category,
            meaning,
            solution,
            count: incident.peak,
            threshold: rule.threshold,
            window_secs: rule.window_secs,
            first_seen_ms: incident.first_seen_ms,
            last_seen_ms: incident.last_seen_ms,
            sample_trace_ids: samples
                .into_iter()
                .take(5)
                .map(|(_, t)| minimax_errors::scrub::scrub_text(&t).into_owned())
                .collect(),
            at_ms: now_ms,
        }
    }

    /// A merged copy of the rings, for counting windows.
    fn window_view(&self, now_ms: u64) -> WindowView {
        let mut view = WindowView {
            seconds: vec![(0, [0; OUTCOMES]); RING],
            minutes: vec![(0, [0; OUTCOMES]); RING],
        };
        let (now_second, now_minute) = (now_ms / 1000, now_ms / 60_000);
        for shard in &self.inner.shards {
            let shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            for (ring, merged, now) in [
                (&shard.seconds, &mut view.seconds, now_second),
                (&shard.minutes, &mut view.minutes, now_minute),
            ] {
                for bucket in ring
                    .iter()
                    .filter(|b| b.stamp <= now && now - b.stamp < RING as u64)
                {
                    let age = (now - bucket.stamp) as usize;
                    merged[age].0 = bucket.stamp;
                    merged[age]
                        .1
                        .iter_mut()
                        .zip(bucket.outcomes.iter())
                        .for_each(|(m, n)| *m += u64::from(*n));
                }
            }
        }
        view
    }

    /// Starts the background work: evaluating the rules and sending alerts to the configured
    /// sinks (plus `extra` sinks), and serving `/metrics` when `metrics_addr` is set. Needs a
    /// tokio runtime. Alerting does not depend on the metrics: if their address cannot be
    /// served, that is logged once and everything else runs.
    pub fn spawn_alerting(&self, extra: Vec<Arc<dyn sinks::AlertSink>>) -> sinks::Alerting {
        if let Some(addr) = self.inner.config.metrics_addr
            && let Err(error) = metrics::serve(addr)
        {
            tracing::error!(%error, "MiniMax metrics are not served; alerting goes on without them");
        }
        sinks::Alerting::spawn(self.clone(), extra)
    }
}

fn text(zh: &str, en: &str) -> AlertText {
    AlertText {
        zh: zh.to_string(),
        en: en.to_string(),
    }
}

/// Merged window buckets by age: index 0 is the current second (or minute).
struct WindowView {
    seconds: Vec<(u64, [u64; OUTCOMES])>,
    minutes: Vec<(u64, [u64; OUTCOMES])>,
}

impl WindowView {
    /// The slots of `group` with events within the last `window_secs`, and how many.
    fn seen_slots(&self, group: &[usize], window_secs: u64) -> Vec<(usize, u64)> {
        group
            .iter()
            .map(|&slot| (slot, self.count(&[slot], window_secs).0))
            .filter(|&(_, n)| n > 0)
            .collect()
    }

    /// Events of `group` within the last `window_secs`, and when the first and last fell (ms).
    fn count(&self, group: &[usize], window_secs: u64) -> (u64, u64, u64) {
        let (ring, ages, unit_ms) = if window_secs <= RING as u64 {
            (&self.seconds, window_secs as usize, 1000)
        } else {
            (&self.minutes, window_secs.div_ceil(60) as usize, 60_000)
        };
        let mut count = 0;
        let (mut first, mut last) = (0, 0);
        for (stamp, outcomes) in ring.iter().take(ages.min(RING)) {
            let n: u64 = group.iter().map(|&o| outcomes[o]).sum();
            if n > 0 {
                count += n;
                last = last.max(stamp * unit_ms);
                first = if first == 0 {
                    stamp * unit_ms
                } else {
                    first.min(stamp * unit_ms)
                };
            }
        }
        (count, first, last)
    }
}
