//! Where the state lives: in the process (the default, nothing to start) or in Redis.

use crate::{RedisOptions, RedisState, StateError};
use serde::{Deserialize, Deserializer};
use std::str::FromStr;

/// Where the guard's pace, breaker and alert incidents live: `state = "in-process"` (the
/// default) or `state = "redis://127.0.0.1:6379/0"`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
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
