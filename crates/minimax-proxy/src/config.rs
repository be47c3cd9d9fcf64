//! The proxy's configuration: TOML, with environment variables for what differs per machine.

use minimax_fleet::StateBackend;
use minimax_guard::ApiKey;
use minimax_monitor::MonitorConfig;
use serde::{Deserialize, Deserializer};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// Where requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upstream {
    /// `https://api.minimax.io`, the international site.
    Intl,
    /// `https://api.minimaxi.com`, the China site.
    China,
    /// Any base URL (a mock, another gateway).
    Url(String),
}

impl Upstream {
    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        match self {
            Upstream::Intl => "https://api.minimax.io",
            Upstream::China => "https://api.minimaxi.com",
            Upstream::Url(url) => url.trim_end_matches('/'),
        }
    }
}

impl std::str::FromStr for Upstream {
    type Err = ConfigError;

    fn from_str(text: &str) -> Result<Upstream, ConfigError> {
        match text.trim() {
            "intl" => Ok(Upstream::Intl),
            "china" => Ok(Upstream::China),
            url if url.starts_with("http://") || url.starts_with("https://") => {
                reqwest::Url::parse(url)
                    .map_err(|e| ConfigError::Invalid(format!("upstream {url:?}: {e}")))?;
                Ok(Upstream::Url(url.to_string()))
            }
            other => Err(ConfigError::Invalid(format!(
                "upstream {other:?}: expected intl, china or an http(s) URL"
            ))),
        }
    }
}

impl<'de> Deserialize<'de> for Upstream {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Upstream, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A token clients present instead of a MiniMax key, and the key the proxy sends for it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VirtualKey {
    /// What clients send (`Authorization: Bearer TOKEN` or `x-api-key: TOKEN`).
    #[serde(deserialize_with = "secret")]
    pub token: ApiKey,
    /// The MiniMax key sent upstream, written out...
    #[serde(default, deserialize_with = "optional_secret")]
    pub key: Option<ApiKey>,
    /// ... or read from this environment variable.
    #[serde(default)]
    pub key_env: Option<String>,
}

fn secret<'de, D: Deserializer<'de>>(deserializer: D) -> Result<ApiKey, D::Error> {
    String::deserialize(deserializer).map(ApiKey::new)
}

fn optional_secret<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<ApiKey>, D::Error> {
    Option::<String>::deserialize(deserializer).map(|k| k.map(ApiKey::new))
}

/// Everything the proxy is told.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProxyConfig {
    /// Where it listens (port 0 picks a free port).
    pub addr: SocketAddr,
    /// Where requests go.
    pub upstream: Upstream,
    /// The largest request body accepted (an audio upload is up to 20 MB).
    pub max_body_bytes: usize,
    /// How long a client may take to send its body, in seconds.
    pub body_timeout_secs: u64,
    /// How long a client connection may stay open with no request in flight, in seconds: from
    /// the moment it is accepted (a client that sends nothing) and between requests.
    pub idle_timeout_secs: u64,
    /// Client connections open at once (held under what the descriptor limit allows). At the
    /// bound the connection idle longest makes room; when every one has a request in flight, a
    /// new one gets a 503.
    pub max_connections: usize,
    /// HTTP/2 streams one client connection may have open at once.
    pub max_streams_per_connection: u32,
    /// How long one request may take, retries and pacing included, until its answer (or its
    /// stream's first event) is on its way, in seconds.
    pub deadline_secs: u64,
    /// Check requests before sending them, and answer locally in the client's dialect with the
    /// code MiniMax would give.
    pub validate: bool,
    /// Tokens clients present instead of MiniMax keys. Empty: clients send their own keys.
    pub keys: Vec<VirtualKey>,
    /// The monitor: alert rules, error log, `/metrics`.
    pub monitor: Option<MonitorConfig>,
    /// Where the pace, the account breakers and the alert incidents live: `"in-process"`
    /// (default) or `"redis://127.0.0.1:6379/0"`, shared by every proxy that names it.
    pub state: StateBackend,
}

impl Default for ProxyConfig {
    fn default() -> ProxyConfig {
        ProxyConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            upstream: Upstream::Intl,
            max_body_bytes: 64 << 20,
            body_timeout_secs: 30,
            idle_timeout_secs: 30,
            max_connections: 1024,
            max_streams_per_connection: 128,
            deadline_secs: 300,
            validate: true,
            keys: Vec::new(),
            monitor: None,
            state: StateBackend::InProcess,
        }
    }
}

/// Why a configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is malformed or names something unknown.
    #[error("{0}")]
    Toml(String),
    /// A value is out of bounds or missing.
    #[error("{0}")]
    Invalid(String),
}

impl ProxyConfig {
    /// Parses a configuration; `MMERR_PROXY_ADDR`, `MMERR_PROXY_UPSTREAM` and `MMERR_STATE`
    /// override it.
    pub fn from_toml(text: &str) -> Result<ProxyConfig, ConfigError> {
        let mut config: ProxyConfig = toml::from_str(text)
            .map_err(|e| ConfigError::Toml(minimax_monitor::toml_error_text(&e, text)))?;
        config.apply_env()?;
        config.check()?;
        Ok(config)
    }

    /// Loads a configuration file.
    pub fn load(path: &Path) -> Result<ProxyConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        ProxyConfig::from_toml(&text)
    }

    fn apply_env(&mut self) -> Result<(), ConfigError> {
        if let Ok(addr) = std::env::var("MMERR_PROXY_ADDR") {
            self.addr = addr
                .parse()
                .map_err(|e| ConfigError::Invalid(format!("MMERR_PROXY_ADDR {addr:?}: {e}")))?;
        }
        if let Ok(upstream) = std::env::var("MMERR_PROXY_UPSTREAM") {
            self.upstream = upstream.parse()?;
        }
        if let Ok(state) = std::env::var("MMERR_STATE") {
            self.state = state
                .parse()
                .map_err(|e: minimax_fleet::StateError| ConfigError::Invalid(e.to_string()))?;
        }
        Ok(())
    }

    /// Checks bounds and that every virtual key has its MiniMax key.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.max_body_bytes == 0
            || self.deadline_secs == 0
            || self.body_timeout_secs == 0
            || self.idle_timeout_secs == 0
            || self.max_connections == 0
            || self.max_streams_per_connection == 0
        {
            return Err(ConfigError::Invalid(
                "max_body_bytes, body_timeout_secs, idle_timeout_secs, deadline_secs, max_connections and max_streams_per_connection must be above 0".to_string(),
            ));
        }
        for (i, key) in self.keys.iter().enumerate() {
            key.upstream_key().ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "keys[{i}]: give key, or key_env naming a set environment variable"
                ))
            })?;
        }
        Ok(())
    }

    /// The limits client connections are held to.
    pub(crate) fn connection_limits(&self) -> minimax_serve::Limits {
        minimax_serve::Limits {
            idle: Duration::from_secs(self.idle_timeout_secs),
            headers: Duration::from_secs(self.body_timeout_secs),
            max_connections: self.max_connections,
            max_streams: self.max_streams_per_connection,
            ..minimax_serve::Limits::default()
        }
    }

    pub(crate) fn deadline(&self) -> Duration {
        Duration::from_secs(self.deadline_secs)
    }
}

impl VirtualKey {
    /// The MiniMax key this token stands for.
    pub fn upstream_key(&self) -> Option<ApiKey> {
        self.key.clone().or_else(|| {
            let name = self.key_env.as_deref()?;
            std::env::var(name)
                .ok()
                .filter(|k| !k.trim().is_empty())
                .map(ApiKey::new)
        })
    }
}
