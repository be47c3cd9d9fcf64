//! The mock's accounts: keys, balances, limits, voices and sensitive words (TOML).

use serde::{Deserialize, Serialize};
use std::path::Path;

/// The key every default configuration accepts.
pub const DEMO_KEY: &str = "mmerr-demo-key";

/// What the mock knows about its accounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MockConfig {
    /// The accepted API keys and each one's limits.
    pub keys: Vec<KeyConfig>,
    /// Words that get a request flagged (1026) or a generated answer flagged (1027).
    pub sensitive: SensitiveWords,
    /// Voices every key may use on T2A without cloning them.
    pub system_voices: Vec<String>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How long a client may take to send a request's headers, in milliseconds; a connection
    /// that sends them slower is closed (a half-sent request must not hold a socket for good).
    pub header_timeout_ms: u64,
    /// How long a connection may stay open with no request in flight, in milliseconds: from
    /// the moment it is accepted (a client that sends nothing) and between requests.
    pub idle_timeout_ms: u64,
    /// Connections open at once (held under what the descriptor limit allows); at the bound
    /// the one idle longest makes room, and when all are busy a new one gets a 503.
    pub max_connections: usize,
    /// How long a client may take to send a request's body, in milliseconds; a slower one gets
    /// 2013 and its connection slot back.
    pub body_timeout_ms: u64,
    /// Answer the plan remains endpoint with its windows under `data`, as some accounts see it.
    pub remains_in_data: bool,
}

impl Default for MockConfig {
    fn default() -> MockConfig {
        MockConfig {
            keys: vec![KeyConfig::default()],
            sensitive: SensitiveWords::default(),
            system_voices: [
                "male-qn-qingse",
                "female-shaonv",
                "presenter_male",
                "audiobook_female_1",
            ]
            .map(String::from)
            .to_vec(),
            max_body_bytes: 32 * 1024 * 1024,
            header_timeout_ms: 10_000,
            idle_timeout_ms: 30_000,
            max_connections: 4096,
            body_timeout_ms: 30_000,
            remains_in_data: false,
        }
    }
}

/// One API key and its account. In a configuration file every limit left out is unlimited;
/// `KeyConfig::default()` is the demo key, with the limits of a real account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default = "KeyConfig::unlimited", deny_unknown_fields)]
pub struct KeyConfig {
    /// The key, as sent in `Authorization: Bearer <key>`.
    pub key: String,
    /// A name for logs and stats (the key itself is never logged).
    pub name: String,
    /// Account balance in calls; each accepted call costs one. `None`: unlimited.
    pub balance: Option<u64>,
    /// Requests per minute (1002). `None`: unlimited.
    pub rpm: Option<u32>,
    /// How the RPM limit is counted (default: a token bucket).
    pub rpm_mode: RpmMode,
    /// The bucket's capacity: requests allowed at once after a quiet spell (default: a whole
    /// minute's worth, `rpm`).
    pub burst: Option<u32>,
    /// The length of a fixed window in seconds (`rpm_mode = "fixed-window"`; default 60): each
    /// window allows `rpm × window_secs / 60` requests.
    pub window_secs: u64,
    /// Start with the bucket or the current window spent, as after another process used it.
    pub start_spent: bool,
    /// T2A characters per minute (1039). `None`: unlimited.
    pub tpm: Option<u64>,
    /// Requests in flight at once (1041). `None`: unlimited.
    pub max_concurrent: Option<u32>,
    /// A subscription plan's calls per 5-hour window (2056). `None`: unlimited.
    pub quota: Option<u64>,
    /// Length of that window in seconds (MiniMax's plans use 5 hours; tests use seconds).
    pub quota_window_secs: u64,
    /// The plan's calls per weekly window (2056). `None`: unlimited.
    pub weekly_quota: Option<u64>,
    /// Length of the weekly window in seconds.
    pub weekly_window_secs: u64,
    /// The plan's name, as 2056 messages and the remains endpoint give it.
    pub plan: String,
    /// Rate growth rule (2045): a window may hold at most this many times the previous one's
    /// requests. `None`: no rule.
    pub growth_factor: Option<f64>,
    /// Length of a rate-growth window in seconds.
    pub growth_window_secs: u64,
    /// Requests a window may always hold, whatever the previous one held.
    pub growth_floor: u64,
    /// Whether the account may clone voices (else 2038: identity not verified).
    pub voice_clone: bool,
}

impl Default for KeyConfig {
    fn default() -> KeyConfig {
        KeyConfig {
            key: DEMO_KEY.to_string(),
            name: "demo".to_string(),
            balance: None,
            rpm: Some(500),
            rpm_mode: RpmMode::Bucket,
            burst: None,
            window_secs: 60,
            start_spent: false,
            tpm: Some(20_000),
            max_concurrent: Some(32),
            quota: None,
            quota_window_secs: 5 * 3600,
            weekly_quota: None,
            weekly_window_secs: 7 * 86_400,
            plan: "Token Plan Starter".to_string(),
            growth_factor: None,
            growth_window_secs: 10,
            growth_floor: 20,
            voice_clone: true,
        }
    }
}

impl KeyConfig {
    /// A key with no limits at all (and no key text yet).
    pub fn unlimited() -> KeyConfig {
        KeyConfig {
            key: String::new(),
            name: String::new(),
            rpm: None,
            tpm: None,
            max_concurrent: None,
            ..KeyConfig::default()
        }
    }

    /// `key`, named "broke", on an account with no balance left: every paid call is 1008.
    pub fn broke(key: &str) -> KeyConfig {
        KeyConfig {
            key: key.to_string(),
            name: "broke".to_string(),
            balance: Some(0),
            ..KeyConfig::default()
        }
    }
}

/// How a key's requests per minute are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RpmMode {
    /// A token bucket refilled at `rpm / 60` per second, holding at most `burst`.
    #[default]
    Bucket,
    /// Fixed windows of `window_secs`, each allowing `rpm × window_secs / 60` requests.
    FixedWindow,
}

/// Sensitive words.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SensitiveWords {
    /// In the input: 1026.
    pub input: Vec<String>,
    /// In the generated output: 1027.
    pub output: Vec<String>,
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML of the expected shape.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong, with the line.
        message: String,
    },
}

impl MockConfig {
    /// Parses a configuration from TOML text; every key needs a non-empty, unique `key`.
    pub fn from_toml(text: &str) -> Result<MockConfig, toml::de::Error> {
        let mut config: MockConfig = toml::from_str(text)?;
        let mut seen = std::collections::HashSet::new();
        for (i, key) in config.keys.iter_mut().enumerate() {
            if key.key.trim().is_empty() {
                return Err(serde::de::Error::custom(format!("keys[{i}] has no `key`")));
            }
            if !seen.insert(key.key.clone()) {
                return Err(serde::de::Error::custom(format!("keys[{i}] repeats a key")));
            }
            if key.name.is_empty() {
                key.name = format!("key{}", i + 1);
            }
        }
        Ok(config)
    }

    /// Loads a configuration file.
    pub fn load(path: &Path) -> Result<MockConfig, ConfigError> {
        load_toml(path, MockConfig::from_toml)
    }

    /// The key configuration for `key`, if it is accepted.
    pub fn key(&self, key: &str) -> Option<&KeyConfig> {
        self.keys.iter().find(|k| k.key == key)
    }
}

/// Reads and parses a TOML file, with the path in every error.
pub(crate) fn load_toml<T>(
    path: &Path,
    parse: fn(&str) -> Result<T, toml::de::Error>,
) -> Result<T, ConfigError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: shown.clone(),
        source,
    })?;
    parse(&text).map_err(|e| ConfigError::Parse {
        path: shown,
        message: e.to_string().replace('\n', " "),
    })
}
