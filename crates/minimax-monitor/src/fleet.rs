//! Alert rules over a fleet: every process adds its window counts to the fleet's, every
//! process judges the rules on the fleet's totals, and one process of the fleet sends each
//! alert (the one that claims it first). `minimax-fleet` keeps this in Redis; without it each
//! process alerts on its own counts.

use crate::rules::AlertStatus;
use async_trait::async_trait;
pub use minimax_guard::shared::Unshared;
use std::fmt;
use std::time::Duration;

/// One rule's count for one of its incident keys, over the rule's window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCount {
    /// The incident key (the rule's name, and the code for a rule that watches each code): the
    /// same in every process with the same rules.
    pub key: String,
    /// Events within the window.
    pub count: u64,
    /// When the first of them fell (Unix ms; 0 when none).
    pub first_ms: u64,
    /// When the last of them fell (Unix ms; 0 when none).
    pub last_ms: u64,
}

/// Where the fleet's alert state lives.
#[async_trait]
pub trait SharedIncidents: Send + Sync + fmt::Debug {
    /// Puts this process's counts in the fleet's and returns the fleet's totals, in the same
    /// order.
    async fn exchange(&self, counts: Vec<RuleCount>) -> Result<Vec<RuleCount>, Unshared>;
    /// Whether this process sends `status` for `incident`: true for exactly one process of the
    /// fleet per incident opened or closed. `open_for` bounds how long an incident is kept
    /// open in the store if no process closes it.
    async fn claim(
        &self,
        incident: &str,
        status: AlertStatus,
        open_for: Duration,
    ) -> Result<bool, Unshared>;
}
