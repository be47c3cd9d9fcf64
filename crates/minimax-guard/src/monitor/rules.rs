//! Alert rules: N events of a code (or a category, or any error) within a window. One incident
//! raises one alert, a "resolved" notice follows when it stops, and a cooldown keeps a flapping
//! error from alerting again and again (the seed alerted on every error after the tenth, forever).

use super::outcome::{OUTCOMES, Seen, at, category_at, info_at};
use minimax_errors::{Category, ErrorCode, Lang, LogLevel, catalog};
use serde::{Deserialize, Serialize};

/// A rule as written in TOML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertRule {
    /// The rule's name, shown in alerts.
    pub name: String,
    /// Watch this code only.
    pub code: Option<i64>,
    /// Watch every code of this category together (`throttling`, `auth`, …).
    pub category: Option<String>,
    /// Watch each code on its own (one incident per code).
    pub each_code: bool,
    /// Alert when more than this many events fall within the window.
    pub threshold: u64,
    /// The window, in seconds (up to an hour; above a minute it is counted by the minute).
    pub window_secs: u64,
    /// After an alert, no new alert for the same thing for this long.
    pub cooldown_secs: u64,
    /// The count must stay at or below the threshold this long before "resolved" is sent
    /// (default: the window).
    pub resolve_after_secs: Option<u64>,
    /// Severity (default: the catalog's log level for the code, the highest for a category).
    pub severity: Option<LogLevel>,
}

impl Default for AlertRule {
    fn default() -> AlertRule {
        AlertRule {
            name: "error-burst".to_string(),
            code: None,
            category: None,
            each_code: false,
            threshold: 10,
            window_secs: 60,
            cooldown_secs: 300,
            resolve_after_secs: None,
            severity: None,
        }
    }
}

impl AlertRule {
    /// The default rules: the seed's "more than 10 of a code", but per 60 s window and once per
    /// incident; and any account-level failure (auth, balance, quota) at once.
    pub fn defaults() -> Vec<AlertRule> {
        let account = |name: &str, category: &str| AlertRule {
            name: name.to_string(),
            category: Some(category.to_string()),
            threshold: 0,
            ..AlertRule::default()
        };
        vec![
            AlertRule {
                each_code: true,
                ..AlertRule::default()
            },
            account("auth-failure", "auth"),
            account("balance-exhausted", "billing"),
            account("quota-exhausted", "quota"),
        ]
    }

    /// Checks the rule: a known category, a window within an hour, one target at most.
    pub fn check(&self) -> Result<(), String> {
        if let Some(category) = &self.category {
            category
                .parse::<Category>()
                .map_err(|e| format!("rule {}: {e}", self.name))?;
        }
        let targets = usize::from(self.code.is_some())
            + usize::from(self.category.is_some())
            + usize::from(self.each_code);
        if targets > 1 {
            return Err(format!(
                "rule {}: give at most one of code, category and each_code",
                self.name
            ));
        }
        if self.window_secs == 0 || self.window_secs > 3600 {
            return Err(format!(
                "rule {}: window_secs must be from 1 to 3600",
                self.name
            ));
        }
        Ok(())
    }

    /// The groups of outcome indexes this rule watches, each its own incident.
    pub(crate) fn groups(&self) -> Vec<Vec<usize>> {
        let errors = (0..OUTCOMES).filter(|&i| at(i) != Some(Seen::Success));
        if self.each_code {
            return errors.map(|i| vec![i]).collect();
        }
        let category = self
            .category
            .as_deref()
            .and_then(|c| c.parse::<Category>().ok());
        let wanted: Vec<usize> = errors
            .filter(|&i| match (self.code, category) {
                (Some(code), _) => at(i) == Some(Seen::Code(ErrorCode::new(code))),
                (None, Some(category)) => category_at(i) == Some(category),
                (None, None) => true,
            })
            .collect();
        vec![wanted]
    }

    /// The severity of an alert about `slot` (one outcome) or about the rule's whole group.
    pub(crate) fn severity_for(&self, slot: Option<usize>) -> LogLevel {
        if let Some(severity) = self.severity {
            return severity;
        }
        match (
            slot.and_then(info_at),
            self.category
                .as_deref()
                .and_then(|c| c.parse::<Category>().ok()),
        ) {
            (Some(info), _) => info.log_level,
            (_, Some(category)) => catalog::entries()
                .filter(|i| i.category == category)
                .map(|i| i.log_level)
                .max()
                .unwrap_or(LogLevel::Error),
            _ => LogLevel::Error,
        }
    }
}

/// Whether an alert opens or closes an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// The threshold was passed.
    Firing,
    /// The count stayed at or below the threshold for the resolve time.
    Resolved,
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// The rule's name.
    pub rule: String,
    /// Firing or resolved.
    pub status: AlertStatus,
    /// From the catalog's log level (or the rule).
    pub severity: LogLevel,
    /// The code, when the incident is about one code.
    pub code: Option<i64>,
    /// The category, when the incident is about a category.
    pub category: Option<String>,
    /// What it means, in both languages.
    pub meaning: AlertText,
    /// What to do, in both languages.
    pub solution: AlertText,
    /// Events within the window when the alert was raised.
    pub count: u64,
    /// The rule's threshold.
    pub threshold: u64,
    /// The rule's window, in seconds.
    pub window_secs: u64,
    /// When the first counted event of the window happened (Unix ms).
    pub first_seen_ms: u64,
    /// When the last one happened (Unix ms).
    pub last_seen_ms: u64,
    /// A few trace ids of recent events, for MiniMax support.
    pub sample_trace_ids: Vec<String>,
    /// When the alert was raised (Unix ms).
    pub at_ms: u64,
}

/// Text in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertText {
    /// Chinese.
    pub zh: String,
    /// English.
    pub en: String,
}

impl Alert {
    /// The alert as a few lines of text, for chat webhooks, email and logs.
    pub fn text(&self, lang: Lang) -> String {
        let what = match (self.code, &self.category) {
            (Some(code), _) => code.to_string(),
            (None, Some(category)) => category.clone(),
            _ => "errors".to_string(),
        };
        let seen = |ms: u64| super::timestamp(ms);
        let traces = if self.sample_trace_ids.is_empty() {
            "-".to_string()
        } else {
            self.sample_trace_ids.join(", ")
        };
        match (lang, self.status) {
            (Lang::En, AlertStatus::Firing) => format!(
                "[{}] MiniMax {what}: {} — {} events in {} s (threshold {})\nWhat to do: {}\nFirst seen {}, last seen {}\nTrace ids: {traces}\nRule: {}",
                self.severity,
                self.meaning.en,
                self.count,
                self.window_secs,
                self.threshold,
                self.solution.en,
                seen(self.first_seen_ms),
                seen(self.last_seen_ms),
                self.rule
            ),
            (Lang::En, AlertStatus::Resolved) => format!(
                "[resolved] MiniMax {what}: {} — back at or below {} events in {} s\nLast seen {}\nRule: {}",
                self.meaning.en,
                self.threshold,
                self.window_secs,
                seen(self.last_seen_ms),
                self.rule
            ),
            (Lang::Zh, AlertStatus::Firing) => format!(
                "[{}] MiniMax {what}：{} —— {} 秒内 {} 次（阈值 {}）\n解决方法：{}\n首次出现 {}，最近出现 {}\nTrace-Id：{traces}\n规则：{}",
                self.severity,
                self.meaning.zh,
                self.window_secs,
                self.count,
                self.threshold,
                self.solution.zh,
                seen(self.first_seen_ms),
                seen(self.last_seen_ms),
                self.rule
            ),
            (Lang::Zh, AlertStatus::Resolved) => format!(
                "[已恢复] MiniMax {what}：{} —— {} 秒内已不超过 {} 次\n最近出现 {}\n规则：{}",
                self.meaning.zh,
                self.window_secs,
                self.threshold,
                seen(self.last_seen_ms),
                self.rule
            ),
        }
    }

    /// A one-line title.
    pub fn title(&self, lang: Lang) -> String {
        self.text(lang)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    }
}

/// The state of one incident key (a rule and, for `each_code`, one code).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Incident {
    pub firing: bool,
    pub last_fired_ms: Option<u64>,
    pub last_above_ms: u64,
}

impl Incident {
    /// Advances the state with the window's count; says whether to alert, and how.
    pub(crate) fn step(
        &mut self,
        rule: &AlertRule,
        count: u64,
        now_ms: u64,
    ) -> Option<AlertStatus> {
        let above = count > rule.threshold;
        let resolve_after = rule.resolve_after_secs.unwrap_or(rule.window_secs) * 1000;
        if self.firing {
            if above {
                self.last_above_ms = now_ms;
            } else if now_ms.saturating_sub(self.last_above_ms) >= resolve_after {
                self.firing = false;
                return Some(AlertStatus::Resolved);
            }
            return None;
        }
        let cooled = self
            .last_fired_ms
            .is_none_or(|at| now_ms.saturating_sub(at) >= rule.cooldown_secs * 1000);
        if above && cooled {
            self.firing = true;
            self.last_fired_ms = Some(now_ms);
            self.last_above_ms = now_ms;
            return Some(AlertStatus::Firing);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_incident_one_alert_then_resolved_then_cooldown() {
        let rule = AlertRule {
            threshold: 10,
            window_secs: 60,
            cooldown_secs: 300,
            ..AlertRule::default()
        };
        let mut incident = Incident::default();
        let s = 1000;
        assert_eq!(incident.step(&rule, 10, 0), None, "10 is not more than 10");
        assert_eq!(incident.step(&rule, 11, s), Some(AlertStatus::Firing));
        for t in 2..100 {
            assert_eq!(
                incident.step(&rule, 50, t * s),
                None,
                "still the same incident"
            );
        }
        assert_eq!(
            incident.step(&rule, 0, 120 * s),
            None,
            "quiet for less than the window"
        );
        assert_eq!(
            incident.step(&rule, 0, 160 * s),
            Some(AlertStatus::Resolved)
        );
        assert_eq!(
            incident.step(&rule, 20, 200 * s),
            None,
            "within the cooldown of the last alert"
        );
        assert_eq!(incident.step(&rule, 20, 302 * s), Some(AlertStatus::Firing));
    }

    #[test]
    fn groups_follow_the_target() {
        let code = AlertRule {
            code: Some(1002),
            ..AlertRule::default()
        };
        assert_eq!(code.groups().len(), 1);
        assert_eq!(code.groups()[0].len(), 1);
        let each = AlertRule {
            each_code: true,
            ..AlertRule::default()
        };
        assert_eq!(each.groups().len(), OUTCOMES - 1);
        let throttling = AlertRule {
            category: Some("throttling".into()),
            ..AlertRule::default()
        };
        let seen: Vec<_> = throttling.groups()[0].iter().map(|&i| at(i)).collect();
        assert!(seen.contains(&Some(Seen::Code(ErrorCode::RATE_LIMIT))));
        assert!(!seen.contains(&Some(Seen::Code(ErrorCode::INVALID_API_KEY))));
        assert_eq!(throttling.severity_for(None), LogLevel::Warn);
        let auth = AlertRule {
            category: Some("auth".into()),
            ..AlertRule::default()
        };
        assert_eq!(auth.severity_for(None), LogLevel::Error);
        assert!(
            AlertRule {
                category: Some("weather".into()),
                ..AlertRule::default()
            }
            .check()
            .is_err()
        );
        assert!(
            AlertRule {
                code: Some(1),
                each_code: true,
                ..AlertRule::default()
            }
            .check()
            .is_err()
        );
    }
}
