//! What the mock answered, per endpoint and outcome, so tests can assert how many calls a
//! client really made (`GET /__mock/stats`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Counts of requests and outcomes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Every request received, including admin ones' absence: only API endpoints count.
    pub requests: u64,
    /// Per endpoint name (`t2a`, `chat-compatible`, …).
    pub endpoints: BTreeMap<String, EndpointStats>,
}

/// Counts for one endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointStats {
    /// Requests received.
    pub requests: u64,
    /// Outcomes by their `minimax_errors::Seen` label: `"success"`, a code (`"1002"`), or a
    /// fault (`"reset"`, `"truncate"`, `"html_502"`).
    pub outcomes: BTreeMap<String, u64>,
}

impl Stats {
    /// How many answers on `endpoint` had `outcome` (`"success"`, `"1002"`, `"reset"`).
    pub fn count(&self, endpoint: &str, outcome: &str) -> u64 {
        self.endpoints
            .get(endpoint)
            .and_then(|e| e.outcomes.get(outcome))
            .copied()
            .unwrap_or(0)
    }

    /// Requests received on `endpoint`.
    pub fn requests_on(&self, endpoint: &str) -> u64 {
        self.endpoints.get(endpoint).map_or(0, |e| e.requests)
    }
}

/// The live counters.
#[derive(Debug, Default)]
pub(crate) struct Recorder(Mutex<Stats>);

impl Recorder {
    pub(crate) fn request(&self, endpoint: &str) {
        let mut stats = self.0.lock().unwrap_or_else(|e| e.into_inner());
        stats.requests += 1;
        stats
            .endpoints
            .entry(endpoint.to_string())
            .or_default()
            .requests += 1;
    }

    pub(crate) fn outcome(&self, endpoint: &str, outcome: &str) {
        let mut stats = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *stats
            .endpoints
            .entry(endpoint.to_string())
            .or_default()
            .outcomes
            .entry(outcome.to_string())
            .or_default() += 1;
    }

    pub(crate) fn snapshot(&self) -> Stats {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn reset(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Stats::default();
    }
}
