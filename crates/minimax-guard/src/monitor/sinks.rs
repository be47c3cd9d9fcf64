//! Where alerts go: the tracing log, a JSON-lines file, webhooks (a generic JSON receiver,
//! DingTalk, Feishu/Lark, WeCom, Slack) and email over SMTP. Each sink has its own queue and
//! task: a failing sink is retried in the background and never blocks or breaks the caller.

use super::Monitor;
use super::rules::{Alert, AlertStatus};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use minimax_errors::{Lang, LogLevel};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
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
    /// Attempts per alert and sink before it is given up (with a warning in the log).
    pub attempts: u32,
    /// Wait before the first retry, in milliseconds; doubles each time.
    pub retry_ms: u64,
}

impl Default for SinksConfig {
    fn default() -> SinksConfig {
        SinksConfig {
            log: true,
            jsonl: None,
            webhooks: Vec::new(),
            email: None,
            attempts: 5,
            retry_ms: 1000,
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// The URL (it often holds a token: it is never logged).
    pub url: String,
    /// The payload shape (default generic).
    #[serde(default = "generic")]
    pub format: WebhookFormat,
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
    async fn send(&self, alert: &Alert) -> Result<(), String>;
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

    async fn send(&self, alert: &Alert) -> Result<(), String> {
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

    async fn send(&self, alert: &Alert) -> Result<(), String> {
        let mut line = serde_json::to_vec(alert).map_err(|e| e.to_string())?;
        line.push(b'\n');
        let path = self.path.clone();
        // One write call per line on a file opened for appending: lines do not interleave.
        tokio::task::spawn_blocking(move || {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .and_then(|mut f| f.write_all(&line))
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
    }
}

/// Posts alerts to a webhook.
pub struct WebhookSink {
    url: String,
    format: WebhookFormat,
    lang: Lang,
    http: reqwest::Client,
}

impl WebhookSink {
    /// A webhook sink.
    pub fn new(config: &WebhookConfig, lang: Lang) -> WebhookSink {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        WebhookSink {
            url: config.url.clone(),
            format: config.format,
            lang,
            http,
        }
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

    async fn send(&self, alert: &Alert) -> Result<(), String> {
        let payload = webhook_payload(alert, self.format, self.lang);
        let response = self
            .http
            .post(&self.url)
            .json(&payload)
            .send()
            .await
            .map_err(|e| crate::transport::TransportFailure::from_reqwest(&e).to_string())?;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        // Chat robots answer HTTP 200 with their own error codes ("errcode" / "code" ≠ 0).
        let robot_error = serde_json::from_str::<Value>(&body).ok().and_then(|v| {
            let code = v
                .get("errcode")
                .or_else(|| v.get("code"))
                .or_else(|| v.get("StatusCode"))?
                .as_i64()?;
            (code != 0).then(|| {
                format!(
                    "the receiver answered code {code}: {}",
                    v.get("errmsg")
                        .or_else(|| v.get("msg"))
                        .and_then(Value::as_str)
                        .unwrap_or("")
                )
            })
        });
        match (status.is_success(), robot_error) {
            (true, None) => Ok(()),
            (true, Some(error)) => Err(error),
            (false, _) => Err(format!("the receiver answered HTTP {status}")),
        }
    }
}

/// Mails alerts.
pub struct EmailSink {
    config: EmailConfig,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    lang: Lang,
}

impl EmailSink {
    /// An email sink; checks the addresses and sets up the SMTP transport.
    pub fn new(config: EmailConfig, lang: Lang) -> Result<EmailSink, String> {
        config
            .from
            .parse::<Mailbox>()
            .map_err(|e| format!("email from {:?}: {e}", config.from))?;
        for to in &config.to {
            to.parse::<Mailbox>()
                .map_err(|e| format!("email to {to:?}: {e}"))?;
        }
        let builder = if config.tls {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)
                .map_err(|e| format!("SMTP server {}: {e}", config.host))?
        } else {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
        };
        let mut builder = builder
            .port(config.port.unwrap_or(if config.tls { 587 } else { 25 }))
            .timeout(Some(Duration::from_secs(15)));
        if let (Some(user), Some(password)) = (&config.username, &config.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(EmailSink {
            transport: builder.build(),
            config,
            lang,
        })
    }
}

#[async_trait::async_trait]
impl AlertSink for EmailSink {
    fn name(&self) -> String {
        format!("email via {}", self.config.host)
    }

    async fn send(&self, alert: &Alert) -> Result<(), String> {
        let mut message = Message::builder()
            .from(
                self.config
                    .from
                    .parse::<Mailbox>()
                    .map_err(|e| e.to_string())?,
            )
            .subject(alert.title(self.lang));
        for to in &self.config.to {
            message = message.to(to.parse::<Mailbox>().map_err(|e| e.to_string())?);
        }
        let message = message
            .body(alert.text(self.lang))
            .map_err(|e| e.to_string())?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| minimax_errors::scrub::scrub_text(&e.to_string()).into_owned())
    }
}

/// Background alerting: a task that evaluates the rules, and one queue and task per sink.
pub struct Alerting {
    evaluator: JoinHandle<()>,
    /// Deliveries given up after every attempt (all sinks together).
    pub failures: Arc<AtomicU64>,
    /// Alerts dropped because a sink's queue was full.
    pub dropped: Arc<AtomicU64>,
    workers: Vec<JoinHandle<()>>,
}

/// Alerts queued per sink before new ones are dropped (counted).
const SINK_QUEUE: usize = 256;

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
            match EmailSink::new(email.clone(), config.lang) {
                Ok(sink) => sinks.push(Arc::new(sink)),
                Err(error) => tracing::error!(%error, "the email alert sink is not usable"),
            }
        }
        sinks.extend(extra);
        let failures = Arc::new(AtomicU64::new(0));
        let dropped = Arc::new(AtomicU64::new(0));
        let mut queues = Vec::new();
        let mut workers = Vec::new();
        for sink in sinks {
            let (queue, alerts) = mpsc::channel::<Alert>(SINK_QUEUE);
            queues.push(queue);
            workers.push(tokio::spawn(deliver(
                sink,
                alerts,
                config.sinks.attempts.max(1),
                Duration::from_millis(config.sinks.retry_ms),
                Arc::clone(&failures),
            )));
        }
        let every = Duration::from_millis(config.evaluate_every_ms.max(10));
        let dropped_count = Arc::clone(&dropped);
        let evaluator = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tick.tick().await;
                for alert in monitor.evaluate() {
                    for queue in &queues {
                        if queue.try_send(alert.clone()).is_err() {
                            dropped_count.fetch_add(1, Ordering::Relaxed);
                        }
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
        self.evaluator.abort();
        for worker in self.workers {
            worker.abort();
        }
    }
}

/// Sends each alert, retrying with doubling waits; a sink that keeps failing only costs its task.
async fn deliver(
    sink: Arc<dyn AlertSink>,
    mut alerts: mpsc::Receiver<Alert>,
    attempts: u32,
    first_wait: Duration,
    failures: Arc<AtomicU64>,
) {
    while let Some(alert) = alerts.recv().await {
        let mut wait = first_wait;
        for attempt in 1..=attempts {
            match sink.send(&alert).await {
                Ok(()) => break,
                Err(error) if attempt == attempts => {
                    failures.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(sink = %sink.name(), rule = %alert.rule, %error, "alert not delivered; giving up");
                }
                Err(error) => {
                    tracing::debug!(sink = %sink.name(), attempt, %error, "alert not delivered; retrying");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
            }
        }
    }
}
