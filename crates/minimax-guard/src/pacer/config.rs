//! What the pacer is told: limits known in advance, per group, and MiniMax's documented plans.

use minimax_errors::LimitGroup;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Limits of a group known in advance. Each one given is both where pacing starts and a
/// ceiling it never passes; throttles can still lower the pace (another process may share the
/// account). Each one left out starts at the documented figure and is learned.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GroupLimits {
    /// Requests per minute.
    pub rpm: Option<f64>,
    /// T2A characters per minute.
    pub tpm: Option<u64>,
    /// Requests in flight at once.
    pub max_in_flight: Option<u32>,
}

/// Documented limits of MiniMax's plans, to start from when they are known to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Plan {
    /// A paying international account: text 500 RPM, T2A 60 RPM and 20,000 characters per
    /// minute, voice cloning 60, video 5, image 10, music 120 (started from, then learned).
    Documented,
    /// The China site's free tier: text 20 RPM, T2A 10 RPM (ceilings).
    ChinaFree,
    /// The China site's paid T2A: 20 RPM (a ceiling); the rest as documented.
    ChinaPaid,
}

/// How calls are paced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PacingConfig {
    /// Pace calls (on by default). Off, throttled calls are retried with backoff and the
    /// catalog's attempt limits, as a plain retry layer would.
    pub enabled: bool,
    /// Limits known in advance, per group.
    pub limits: BTreeMap<LimitGroup, GroupLimits>,
}

impl Default for PacingConfig {
    fn default() -> PacingConfig {
        PacingConfig {
            enabled: true,
            limits: BTreeMap::new(),
        }
    }
}

impl PacingConfig {
    /// The documented limits of `plan`.
    pub fn plan(plan: Plan) -> PacingConfig {
        let rpm = |rpm: f64| GroupLimits {
            rpm: Some(rpm),
            ..GroupLimits::default()
        };
        let limits = match plan {
            Plan::Documented => BTreeMap::new(),
            Plan::ChinaFree => [
                (LimitGroup::Text, rpm(20.0)),
                (LimitGroup::Speech, rpm(10.0)),
            ]
            .into_iter()
            .collect(),
            Plan::ChinaPaid => [(LimitGroup::Speech, rpm(20.0))].into_iter().collect(),
        };
        PacingConfig {
            enabled: true,
            limits,
        }
    }

    /// No pacing.
    pub fn off() -> PacingConfig {
        PacingConfig {
            enabled: false,
            ..PacingConfig::default()
        }
    }

    /// With `limits` known for `group`.
    pub fn with_limits(mut self, group: LimitGroup, limits: GroupLimits) -> PacingConfig {
        self.limits.insert(group, limits);
        self
    }
}
