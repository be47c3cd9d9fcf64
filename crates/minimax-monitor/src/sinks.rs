//! Where alerts go: the tracing log, a JSON-lines file, webhooks (a generic JSON receiver,
//! DingTalk, Feishu/Lark, WeCom, Slack; signed robots too) and email over SMTP. Each sink has
//! its own outbox and task: a failing sink is retried in the background, with a backoff capped
//! at `max_retry_ms`, for as long as it takes, and never blocks or breaks the caller. Each send
//! has a time limit, so a receiver that accepts and stays silent is a failed attempt, not a
//! stuck sink. An outbox holds the latest state of each incident only (a "resolved" replaces
//! the "firing" still waiting), so a receiver back from an outage gets where things stand; when
//! it is full the oldest alert is dropped, logged and counted.

use super::Monitor;
use super::rules::{Alert, AlertStatus};
use crate::error::SendError;
use minimax_errors::{Lang, LogLevel};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::task::JoinHandle;

/// The sinks of a monitor (TOML).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SinksConfig {
    /// Log alerts with `tracing` (on by default).
    pub log: bool,
    /// Append alerts to this JSON-lines file.
    pub jsonl: Option<PathBuf>,
    /// Post alerts to these webhooks.
    pub webhooks: Vec<WebhookConfig>,
    /// Mail alerts.
    pub email: Option<EmailConfig>,
    /// Wait before the first retry, in milliseconds; doubles each time...
    pub retry_ms: u64,
    /// ... up to this, in milliseconds: a failing sink is tried at least this often.
    pub max_retry_ms: u64,
    /// How long one attempt to deliver may take, in milliseconds.
    pub send_timeout_ms: u64,
}

impl Default for SinksConfig {
    fn default() -> SinksConfig {
        SinksConfig {
            log: true,
            jsonl: None,
            webhooks: Vec::new(),
            email: None,
            retry_ms: 1000,
            max_retry_ms: 60_000,
            send_timeout_ms: 15_000,
        }
    }
}

/// A webhook's payload shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// The alert as JSON.
    Generic,
    /// DingTalk custom robot (`msgtype: markdown`).
    Dingtalk,
    /// Feishu / Lark custom bot (`msg_type: text`).
    Feishu,
    /// WeCom group robot (`msgtype: markdown`).
    Wecom,
    /// Slack incoming webhook (`text`).
    Slack,
}

/// One webhook.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// The URL (it often holds a token: it is never logged).
    pub url: String,
    /// The payload shape (default generic).
    #[serde(default = "generic")]
    pub format: WebhookFormat,
    /// The robot's signing secret (DingTalk, Feishu), if it has one; never logged.
    #[serde(default)]
    pub secret: Option<String>,
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("url", &"[REDACTED]")
            .field("format", &self.format)
            .field("secret", &self.secret.as_ref().map(|_| "[REDACTED]"))
            .finish()
    }
}

fn generic() -> WebhookFormat {
    WebhookFormat::Generic
}

/// Email over SMTP.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// The SMTP server.
    pub host: String,
    /// Its port (default 587 with TLS, 25 without).
    pub port: Option<u16>,
    /// Use STARTTLS (default true); off only for a local relay.
    #[serde(default = "yes")]
    pub tls: bool,
    /// Login, if the server wants one.
    pub username: Option<String>,
    /// Password (never logged).
    pub password: Option<String>,
    /// The sender.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
}

fn yes() -> bool {
    true
}

impl std::fmt::Debug for EmailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[REDACTED]"))
            .field("from", &self.from)
            .field("to", &self.to)
            .finish()
    }
}

/// Somewhere alerts can be sent.
#[async_trait::async_trait]
pub trait AlertSink: Send + Sync + 'static {
    /// A name for logs (never a URL or a credential).
    fn name(&self) -> String;
    /// Sends one alert.
    async fn send(&self, alert: &Alert) -> Result<(), SendError>;
}

/// Logs alerts with `tracing`, at the alert's severity.
pub struct TracingSink {
    lang: Lang,
}

#[async_trait::async_trait]
impl AlertSink for TracingSink {
    fn name(&self) -> String {
        "log".to_string()
    }

    async fn send(&self, alert: &Alert) -> Result<(), SendError> {
        let text = alert.text(self.lang).replace('\n', " | ");
        match (alert.status, alert.severity) {
            (AlertStatus::Resolved, _) | (_, LogLevel::Info) => {
                tracing::info!(rule = %alert.rule, code = alert.code, "{text}")
            }
            (_, LogLevel::Warn) => tracing::warn!(rule = %alert.rule, code = alert.code, "{text}"),
            (_, LogLevel::Error) => {
                tracing::error!(rule = %alert.rule, code = alert.code, "{text}")
            }
        }
        Ok(())
    }
}

/// Appends each alert as one JSON line.
pub struct JsonLinesSink {
    path: PathBuf,
}

#[async_trait::async_trait]
impl AlertSink for JsonLinesSink {
    fn name(&self) -> String {
        format!("jsonl {}", self.path.display())
    }

    async fn send(&self, alert: &Alert) -> Result<(), SendError> {
        let mut line = serde_json::to_vec(alert).map_err(SendError::other)?;
        line.push(b'\n');
        let path = self.path.clone();
        // One write call per line on a file opened for appending: lines do not interleave.
        tokio::task::spawn_blocking(move || {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .and_then(|mut f| f.write_all(&line))
                .map_err(|source| SendError::Write { path, source })
        })
        .await
        .map_err(SendError::other)?
    }
}

/// Posts alerts to a webhook.
pub struct WebhookSink {
    url: String,
    format: WebhookFormat,
    secret: Option<String>,
    lang: Lang,
    http: reqwest::Client,
}

impl WebhookSink {
    /// A webhook sink.
    pub fn new(config: &WebhookConfig, lang: Lang) -> WebhookSink {
        WebhookSink {
            url: config.url.clone(),
            format: config.format,
            secret: config.secret.clone(),
            lang,
            http: reqwest::Client::new(),
        }
    }
}

/// HMAC-SHA256 of `message` under `key`, in base64: how DingTalk and Feishu robots sign.
fn hmac_base64(key: &[u8], message: &[u8]) -> String {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(message);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// A signed robot's request: DingTalk signs `"{ms}\n{secret}"` with the secret and takes
/// `timestamp` and `sign` in the URL; Feishu signs nothing with the key `"{s}\n{secret}"` and
/// takes `timestamp` and `sign` in the body.
pub fn sign(
    format: WebhookFormat,
    url: &str,
    payload: &mut Value,
    secret: &str,
    now_ms: u64,
) -> String {
    match format {
        WebhookFormat::Dingtalk => {
            let sign = hmac_base64(secret.as_bytes(), format!("{now_ms}\n{secret}").as_bytes());
            match reqwest::Url::parse(url) {
                Ok(mut url) => {
                    url.query_pairs_mut()
                        .append_pair("timestamp", &now_ms.to_string())
                        .append_pair("sign", &sign);
                    url.to_string()
                }
                Err(_) => url.to_string(),
            }
        }
        WebhookFormat::Feishu => {
            let secs = now_ms / 1000;
            let sign = hmac_base64(format!("{secs}\n{secret}").as_bytes(), b"");
            payload["timestamp"] = json!(secs.to_string());
            payload["sign"] = json!(sign);
            url.to_string()
        }
        _ => url.to_string(),
    }
}

/// The payload for one alert in a webhook's shape.
pub fn webhook_payload(alert: &Alert, format: WebhookFormat, lang: Lang) -> Value {
    let title = alert.title(lang);
    let text = alert.text(lang);
    let markdown = format!(
        "### {title}\n\n{}",
        text.lines().skip(1).collect::<Vec<_>>().join("\n\n")
    );
    match format {
        WebhookFormat::Generic => json!({ "alert": alert, "title": title, "text": text }),
        WebhookFormat::Dingtalk => {
            json!({ "msgtype": "markdown", "markdown": { "title": title, "text": markdown } })
        }
        WebhookFormat::Feishu => json!({ "msg_type": "text", "content": { "text": text } }),
        WebhookFormat::Wecom => {
            json!({ "msgtype": "markdown", "markdown": { "content": markdown } })
        }
        WebhookFormat::Slack => json!({ "text": text }),
    }
}

#[async_trait::async_trait]
impl AlertSink for WebhookSink {
    fn name(&self) -> String {
        format!("webhook ({:?})", self.format).to_lowercase()
    }

    async fn send(&self, alert: &Alert) -> Result<(), SendError> {
        let mut payload = webhook_payload(alert, self.format, self.lang);
        let url = match &self.secret {
            Some(secret) => sign(
                self.format,
                &self.url,
                &mut payload,
                secret,
                super::now_ms(),
            ),
            None => self.url.clone(),
        };
        let response = self
            .http
            .post(&url)
            .json(&payload)
            .send()
            .await
            .map_err(|e| minimax_guard::transport::TransportFailure::from_reqwest(&e))?;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        // Chat robots answer HTTP 200 with their own error codes ("errcode" / "code" ≠ 0).
        let robot_error = serde_json::from_str::<Value>(&body).ok().and_then(|v| {
            let code = v
                .get("errcode")
                .or_else(|| v.get("code"))
                .or_else(|| v.get("StatusCode"))?
                .as_i64()?;
            (code != 0).then(|| SendError::Refused {
                code,
                message: v
                    .get("errmsg")
                    .or_else(|| v.get("msg"))
                    .and_then(Value::as_str)
                    .map(minimax_errors::classify::bounded)
                    .unwrap_or_default(),
            })
        });
        match (status.is_success(), robot_error) {
            (true, None) => Ok(()),
            (true, Some(error)) => Err(error),
            (false, _) => Err(SendError::Status(status.as_u16())),
        }
    }
}

/// Background alerting: a task that evaluates the rules, and one outbox and task per sink. The
/// tasks stop when it is dropped (or stopped).
pub struct Alerting {
    evaluator: JoinHandle<()>,
    /// Failed attempts to deliver (all sinks together); each is retried.
    pub failures: Arc<AtomicU64>,
    /// Alerts dropped because a sink's outbox was full.
    pub dropped: Arc<AtomicU64>,
    workers: Vec<JoinHandle<()>>,
}

/// Alerts an outbox holds (one per incident) before the oldest is dropped.
const OUTBOX: usize = 256;

impl Alerting {
    pub(crate) fn spawn(monitor: Monitor, extra: Vec<Arc<dyn AlertSink>>) -> Alerting {
        let config = monitor.config().clone();
        let mut sinks: Vec<Arc<dyn AlertSink>> = Vec::new();
        if config.sinks.log {
            sinks.push(Arc::new(TracingSink { lang: config.lang }));
        }
        if let Some(path) = &config.sinks.jsonl {
            sinks.push(Arc::new(JsonLinesSink { path: path.clone() }));
        }
        for webhook in &config.sinks.webhooks {
            sinks.push(Arc::new(WebhookSink::new(webhook, config.lang)));
        }
        if let Some(email) = &config.sinks.email {
            #[cfg(feature = "email")]
            match crate::email::EmailSink::new(email.clone(), config.lang) {
                Ok(sink) => sinks.push(Arc::new(sink)),
                Err(error) => tracing::error!(%error, "the email alert sink is not usable"),
            }
            #[cfg(not(feature = "email"))]
            tracing::error!(host = %email.host, "email alerts need minimax-monitor's `email` feature; none will be sent");
        }
        sinks.extend(extra);
        let failures = Arc::new(AtomicU64::new(0));
        let dropped = Arc::new(AtomicU64::new(0));
        let timing = Timing {
            first_wait: Duration::from_millis(config.sinks.retry_ms.max(1)),
            max_wait: Duration::from_millis(
                config.sinks.max_retry_ms.max(config.sinks.retry_ms).max(1),
            ),
            send_timeout: Duration::from_millis(config.sinks.send_timeout_ms.max(1)),
        };
        let mut outboxes = Vec::new();
        let mut workers = Vec::new();
        for sink in sinks {
            let outbox = Arc::new(Outbox::new(sink.name(), Arc::clone(&dropped)));
            outboxes.push(Arc::clone(&outbox));
            workers.push(tokio::spawn(deliver(
                sink,
                outbox,
                timing,
                Arc::clone(&failures),
            )));
        }
        if let Some(watch) = config.plan.clone() {
            workers.push(tokio::spawn(poll_plan(monitor.clone(), watch)));
        }
        let every = Duration::from_millis(config.evaluate_every_ms.max(10));
        let evaluator = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tick.tick().await;
                for alert in monitor.evaluate_in_fleet().await {
                    for outbox in &outboxes {
                        outbox.push(alert.clone());
                    }
                }
            }
        });
        Alerting {
            evaluator,
            failures,
            dropped,
            workers,
        }
    }

    /// Stops evaluating and sending.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for Alerting {
    fn drop(&mut self) {
        self.evaluator.abort();
        for worker in &self.workers {
            worker.abort();
        }
    }
}

/// How deliveries are timed.
#[derive(Debug, Clone, Copy)]
struct Timing {
    first_wait: Duration,
    max_wait: Duration,
    send_timeout: Duration,
}

/// The alerts waiting for one sink: the latest state of each incident, oldest first.
struct Outbox {
    sink: String,
    alerts: std::sync::Mutex<std::collections::VecDeque<Alert>>,
    ready: tokio::sync::Notify,
    dropped: Arc<AtomicU64>,
}

impl Outbox {
    fn new(sink: String, dropped: Arc<AtomicU64>) -> Outbox {
        Outbox {
            sink,
            alerts: std::sync::Mutex::new(std::collections::VecDeque::new()),
            ready: tokio::sync::Notify::new(),
            dropped,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::VecDeque<Alert>> {
        self.alerts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `alert`, replacing an older state of its incident; drops the oldest when full.
    fn push(&self, alert: Alert) {
        let mut alerts = self.lock();
        if let Some(older) = alerts.iter_mut().find(|a| a.incident == alert.incident) {
            *older = alert;
        } else {
            if alerts.len() >= OUTBOX
                && let Some(oldest) = alerts.pop_front()
            {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("minimax_alerts_dropped_total", "sink" => self.sink.clone())
                    .increment(1);
                tracing::warn!(sink = %self.sink, rule = %oldest.rule, "alert dropped: the sink's outbox is full");
            }
            alerts.push_back(alert);
        }
        drop(alerts);
        self.ready.notify_one();
    }

    /// The oldest alert waiting, left in place until it is delivered.
    async fn front(&self) -> Alert {
        loop {
            let notified = self.ready.notified();
            if let Some(alert) = self.lock().front().cloned() {
                return alert;
            }
            notified.await;
        }
    }

    /// `sent` was delivered: it leaves, unless a newer state of its incident replaced it.
    fn delivered(&self, sent: &Alert) {
        let mut alerts = self.lock();
        if alerts.front() == Some(sent) {
            alerts.pop_front();
        }
    }
}

/// Delivers a sink's outbox, oldest first, retrying each alert with doubling waits (capped)
/// until it is delivered or replaced by a newer state of its incident.
/// Polls the plan's windows for as long as alerting runs.
async fn poll_plan(monitor: Monitor, watch: crate::plan::PlanWatch) {
    let key = std::env::var(&watch.key_env)
        .ok()
        .filter(|k| !k.trim().is_empty());
    let Some(key) = key else {
        tracing::error!(key_env = %watch.key_env, "the plan is not watched: the key's environment variable is not set");
        return;
    };
    let client = minimax_guard::MiniMaxClient::builder()
        .base_url(&watch.base_url)
        .api_key(minimax_guard::ApiKey::new(key))
        .build();
    let client = match client {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "the plan is not watched");
            return;
        }
    };
    let mut tick = tokio::time::interval(watch.every());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        if let Err(error) = monitor.check_plan(&client).await {
            tracing::warn!(%error, "the plan's windows could not be read");
        }
    }
}

async fn deliver(
    sink: Arc<dyn AlertSink>,
    outbox: Arc<Outbox>,
    timing: Timing,
    failures: Arc<AtomicU64>,
) {
    let mut wait = timing.first_wait;
    loop {
        let alert = outbox.front().await;
        let sent = match tokio::time::timeout(timing.send_timeout, sink.send(&alert)).await {
            Ok(result) => result,
            Err(_) => Err(SendError::Timeout(timing.send_timeout.as_secs_f64())),
        };
        match sent {
            Ok(()) => {
                outbox.delivered(&alert);
                wait = timing.first_wait;
            }
            Err(error) => {
                let failed = failures.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::warn!(sink = %sink.name(), rule = %alert.rule, failed, retry_in_ms = wait.as_millis() as u64, %error, "alert not delivered; it will be retried");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(timing.max_wait);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::AlertText;

    fn alert(incident: &str, status: AlertStatus) -> Alert {
        let text = AlertText {
            zh: String::new(),
            en: String::new(),
        };
        Alert {
            rule: "r".into(),
            incident: incident.into(),
            status,
            severity: LogLevel::Warn,
            code: None,
            category: None,
            meaning: text.clone(),
            solution: text,
            count: 1,
            threshold: 0,
            window_secs: 60,
            first_seen_ms: 0,
            last_seen_ms: 0,
            sample_trace_ids: vec![],
            at_ms: 0,
        }
    }

    #[tokio::test]
    async fn an_outbox_keeps_each_incidents_latest_state_and_drops_the_oldest_when_full() {
        let dropped = Arc::new(AtomicU64::new(0));
        let outbox = Outbox::new("test".into(), Arc::clone(&dropped));
        outbox.push(alert("a", AlertStatus::Firing));
        outbox.push(alert("b", AlertStatus::Firing));
        outbox.push(alert("a", AlertStatus::Resolved));
        assert_eq!(outbox.lock().len(), 2);
        let front = outbox.front().await;
        assert_eq!(
            (front.incident.as_str(), front.status),
            ("a", AlertStatus::Resolved)
        );
        // Replaced while in flight: the delivered one leaves only if it is still the latest.
        outbox.push(alert("a", AlertStatus::Firing));
        outbox.delivered(&front);
        assert_eq!(outbox.lock().len(), 2, "the newer state of a stays");
        for i in 0..OUTBOX {
            outbox.push(alert(&format!("n{i}"), AlertStatus::Firing));
        }
        assert_eq!(outbox.lock().len(), OUTBOX);
        assert_eq!(
            dropped.load(Ordering::Relaxed),
            2,
            "a and b, the oldest, were dropped"
        );
        assert_eq!(outbox.front().await.incident, "n0");
    }
}
