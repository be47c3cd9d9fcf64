//! Where the state lives: in the process (the default, nothing to start) or in Redis.

use crate::{RedisOptions, RedisState, StateError};
use serde::{Deserialize, Deserializer};
use std::str::FromStr;

/// Where the guard's pace, breaker and alert incidents live: `state = "in-process"` (the
/// default) or `state = "redis://127.0.0.1:6379/0"`.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum StateBackend {
    /// In this process only.
    #[default]
    InProcess,
    /// In Redis at this URL, shared by every process that names it.
    Redis(String),
}

impl FromStr for StateBackend {
    type Err = StateError;

    fn from_str(text: &str) -> Result<StateBackend, StateError> {
        match text.trim() {
            "" | "in-process" | "memory" => Ok(StateBackend::InProcess),
            url if url.starts_with("redis://")
                || url.starts_with("rediss://")
                || url.starts_with("redis+unix://") =>
            {
                redis::Client::open(url).map_err(|e| StateError {
                    url: crate::redacted(url),
                    reason: e.to_string(),
                })?;
                Ok(StateBackend::Redis(url.to_string()))
            }
            other => Err(StateError {
                url: crate::redacted(other),
                reason: "expected in-process or a redis:// URL".to_string(),
            }),
        }
    }
}

impl<'de> Deserialize<'de> for StateBackend {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<StateBackend, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl StateBackend {
    /// Connects to the store, if it is Redis (an unreachable Redis is not an error: calls go
    /// on alone until it answers).
    pub async fn open(&self, options: RedisOptions) -> Result<Option<RedisState>, StateError> {
        match self {
            StateBackend::InProcess => Ok(None),
            StateBackend::Redis(url) => RedisState::connect(url, options).await.map(Some),
        }
    }
}

/// The URL without its password: configurations are printed with `{:?}`.
impl std::fmt::Debug for StateBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StateBackend::InProcess => f.write_str("InProcess"),
            StateBackend::Redis(url) => write!(f, "Redis({})", crate::redacted(url)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::StateBackend;

    #[test]
    fn parses_the_documented_values_and_never_shows_a_password() {
        assert_eq!(
            "in-process".parse::<StateBackend>().unwrap(),
            StateBackend::InProcess
        );
        let redis: StateBackend = "redis://:hunter2@127.0.0.1:6379/0".parse().unwrap();
        let shown = format!("{redis:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("127.0.0.1:6379/0"), "{shown}");
        let refused = "redis://:hunter2@127.0.0.1:x/0"
            .parse::<StateBackend>()
            .unwrap_err();
        assert!(!refused.to_string().contains("hunter2"), "{refused}");
    }
}
