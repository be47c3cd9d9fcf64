//! A MiniMax gateway: point any client's base URL at it (the `openai` and `anthropic` SDKs,
//! coding agents through `ANTHROPIC_BASE_URL`, plain HTTP) and every request gets what
//! `minimax-guard` does: body-aware retries of what is worth retrying, one pace per account
//! shared by every client, fail-fast on account errors, checks before sending, the monitor.
//! Answers and streams come back as MiniMax sent them, with `x-mmerr-attempts` and
//! `x-mmerr-waited-ms` added.
//!
//! ```no_run
//! use minimax_proxy::{ProxyConfig, ProxyServer, Upstream};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = ProxyConfig {
//!     addr: "127.0.0.1:0".parse()?,
//!     upstream: Upstream::Intl,
//!     ..ProxyConfig::default()
//! };
//! let proxy = ProxyServer::start(config).await?;
//! println!("point your SDK at {}/v1 or {}/anthropic", proxy.url(), proxy.url());
//! proxy.stop().await;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod config;
mod forward;
mod headers;

pub use config::{ConfigError, ProxyConfig, Upstream, VirtualKey};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use minimax_fleet::RedisOptions;
use minimax_guard::pacer::AccountId;
use minimax_guard::{ApiKey, Executor, RetryConfig};
use minimax_monitor::{Monitor, sinks::Alerting};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// What every request shares.
pub(crate) struct Shared {
    config: ProxyConfig,
    http: reqwest::Client,
    executor: Executor,
    /// Virtual keys: the token's fingerprint → the MiniMax key.
    keys: HashMap<AccountId, ApiKey>,
    ready: AtomicBool,
    next_local: AtomicU64,
}

impl Shared {
    fn body_timeout(&self) -> Duration {
        Duration::from_secs(self.config.body_timeout_secs)
    }

    fn local_trace_id(&self) -> String {
        format!(
            "mmerr-proxy-{:016x}",
            self.next_local.fetch_add(1, Ordering::Relaxed)
        )
    }
}

/// Why the proxy could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The configuration is not usable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The monitor's configuration is not usable.
    #[error(transparent)]
    Monitor(#[from] minimax_monitor::ConfigError),
    /// The address cannot be listened on.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The HTTP client could not be built.
    #[error("cannot set up the upstream client: {0}")]
    Client(String),
}

/// A running proxy.
pub struct ProxyServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    monitor: Option<Monitor>,
    _alerting: Option<Alerting>,
}

impl ProxyServer {
    /// Checks the configuration, listens, and serves until [`ProxyServer::stop`].
    pub async fn start(config: ProxyConfig) -> Result<ProxyServer, StartError> {
        config.check()?;
        let mut keys = HashMap::new();
        for key in &config.keys {
            if let Some(upstream) = key.upstream_key() {
                keys.insert(key.token.account(), upstream);
            }
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            // Between two chunks of an answer; a whole call is bounded by the deadline.
            .read_timeout(Duration::from_secs(300))
            .pool_max_idle_per_host(256)
            .build()
            .map_err(|e| StartError::Client(e.to_string()))?;
        let retry = RetryConfig {
            deadline: Some(config.deadline()),
            ..RetryConfig::default()
        };
        let mut executor = Executor::new(retry);
        let fleet = config
            .state
            .open(RedisOptions::default())
            .await
            .map_err(|e| StartError::Config(ConfigError::Invalid(e.to_string())))?;
        if let Some(fleet) = &fleet {
            executor = executor.with_shared(fleet.as_shared_state());
        }
        let mut alerting = None;
        let mut monitor = None;
        if let Some(monitor_config) = &config.monitor {
            let watching = Monitor::new(monitor_config.clone())?;
            if let Some(fleet) = &fleet {
                watching.share_incidents(fleet.as_shared_incidents());
            }
            executor = executor.with_observer(watching.as_observer());
            alerting = Some(watching.spawn_alerting(Vec::new()));
            monitor = Some(watching);
        }
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .map_err(|source| StartError::Listen {
                addr: config.addr,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Listen {
            addr: config.addr,
            source,
        })?;
        let shared = Arc::new(Shared {
            config,
            http,
            executor,
            keys,
            ready: AtomicBool::new(true),
            next_local: AtomicU64::new(0),
        });
        let router = Router::new()
            .route("/healthz", axum::routing::get(healthz))
            .route("/readyz", axum::routing::get(readyz))
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let (shutdown, mut stopping) = tokio::sync::watch::channel(false);
        let stop = async move {
            let _ = stopping.wait_for(|stop| *stop).await;
        };
        let limits = shared.config.connection_limits();
        let task = tokio::spawn(minimax_serve::serve(listener, router, limits, stop));
        Ok(ProxyServer {
            addr,
            shared,
            shutdown,
            task,
            monitor,
            _alerting: alerting,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The executor every request goes through (its pacer, budget and breaker).
    pub fn executor(&self) -> &Executor {
        &self.shared.executor
    }

    /// The monitor, when the configuration has one.
    pub fn monitor(&self) -> Option<&Monitor> {
        self.monitor.as_ref()
    }

    /// Stops taking connections and waits for the requests in flight, up to `drain`.
    pub async fn stop_within(self, drain: Duration) {
        self.shared.ready.store(false, Ordering::Relaxed);
        self.shutdown.send_replace(true);
        let mut task = self.task;
        if tokio::time::timeout(drain, &mut task).await.is_err() {
            tracing::warn!(
                drain_s = drain.as_secs(),
                "requests still in flight after the drain time; stopping anyway"
            );
            task.abort();
        }
    }

    /// Stops, waiting up to 30 seconds for the requests in flight.
    pub async fn stop(self) {
        self.stop_within(Duration::from_secs(30)).await;
    }
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(shared): State<Arc<Shared>>) -> Response {
    if shared.ready.load(Ordering::Relaxed) {
        "ready\n".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "stopping\n").into_response()
    }
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let started = std::time::Instant::now();
    let method = parts.method.clone();
    let path = parts.uri.path().to_string();
    let incoming = forward::Incoming {
        method: parts.method,
        path_and_query: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_string(), |p| p.as_str().to_string()),
        headers: parts.headers,
        body,
    };
    let response = forward::forward(shared, incoming).await;
    // One line per request: never a key, never a body.
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_string()
    };
    tracing::info!(
        method = %method,
        path = %minimax_errors::scrub::scrub_bounded(&path, 256),
        status = response.status().as_u16(),
        attempts = %header("x-mmerr-attempts"),
        waited_ms = %header("x-mmerr-waited-ms"),
        local = response.headers().contains_key("x-mmerr-local"),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}
