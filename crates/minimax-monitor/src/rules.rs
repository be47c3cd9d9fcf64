//! Alert rules: N events of a code (or a category, or any error) within a window. One incident
//! raises one alert and a "resolved" notice follows when it stops (the seed alerted on every
//! error after the tenth, forever). An incident stays open at least `cooldown_secs`, so an error
//! that comes and goes raises one alert per cooldown, not one per window; a new incident after
//! a "resolved" notice alerts at once.

use super::outcome::{OUTCOMES, Seen, at, category_at, info_at};
use crate::error::ConfigError;
use minimax_errors::{Category, ErrorCode, Lang, LogLevel, catalog};
use serde::{Deserialize, Serialize};

/// What a rule counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watch {
    /// Each code on its own: one incident per code.
    EachCode,
    /// This code only.
    Code(ErrorCode),
    /// Every code of this category together (`throttling`, `auth`, …).
    Category(Category),
    /// Every error together.
    AnyError,
}

/// A rule. In TOML it names at most one of `code`, `category` and `each_code = true`; none
/// means any error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RuleToml", into = "RuleToml")]
pub struct AlertRule {
    /// The rule's name, shown in alerts.
    pub name: String,
    /// What the rule counts.
    pub watch: Watch,
    /// Alert when more than this many events fall within the window.
    pub threshold: u64,
    /// The window, in seconds (1 to 3600; above a minute it is counted by the minute).
    pub window_secs: u64,
    /// An incident stays open at least this long after its alert, so an error that comes and
    /// goes does not alert again every window; once resolved, a new incident alerts at once.
    pub cooldown_secs: u64,
    /// The count must stay at or below the threshold this long before "resolved" is sent
    /// (default: the window).
    pub resolve_after_secs: Option<u64>,
    /// Severity (default: the catalog's log level for the code, the highest for a category).
    pub severity: Option<LogLevel>,
}

/// A rule's TOML shape: the targets as separate keys, checked into a [`Watch`].
#[derive(Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RuleToml {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    category: Option<Category>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    each_code: bool,
    threshold: u64,
    window_secs: u64,
    cooldown_secs: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    resolve_after_secs: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    severity: Option<LogLevel>,
}

impl Default for RuleToml {
    fn default() -> RuleToml {
        AlertRule::default().into()
    }
}

impl TryFrom<RuleToml> for AlertRule {
    type Error = String;

    fn try_from(raw: RuleToml) -> Result<AlertRule, String> {
        let watch = match (raw.code, raw.category, raw.each_code) {
            (None, None, true) => Watch::EachCode,
            (Some(code), None, false) => Watch::Code(ErrorCode::new(code)),
            (None, Some(category), false) => Watch::Category(category),
            (None, None, false) => Watch::AnyError,
            _ => {
                return Err(format!(
                    "rule {}: give at most one of code, category and each_code",
                    raw.name
                ));
            }
        };
        let rule = AlertRule {
            name: raw.name,
            watch,
            threshold: raw.threshold,
            window_secs: raw.window_secs,
            cooldown_secs: raw.cooldown_secs,
            resolve_after_secs: raw.resolve_after_secs,
            severity: raw.severity,
        };
        rule.check().map_err(|e| e.to_string())?;
        Ok(rule)
    }
}

impl From<AlertRule> for RuleToml {
    fn from(rule: AlertRule) -> RuleToml {
        let (code, category, each_code) = match rule.watch {
            Watch::EachCode => (None, None, true),
            Watch::Code(code) => (Some(code.as_i64()), None, false),
            Watch::Category(category) => (None, Some(category), false),
            Watch::AnyError => (None, None, false),
        };
        RuleToml {
            name: rule.name,
            code,
            category,
            each_code,
            threshold: rule.threshold,
            window_secs: rule.window_secs,
            cooldown_secs: rule.cooldown_secs,
            resolve_after_secs: rule.resolve_after_secs,
            severity: rule.severity,
        }
    }
}

impl Default for AlertRule {
    fn default() -> AlertRule {
        AlertRule {
            name: "error-burst".to_string(),
            watch: Watch::AnyError,
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
        let account = |name: &str, category: Category| AlertRule {
            name: name.to_string(),
            watch: Watch::Category(category),
            threshold: 0,
            ..AlertRule::default()
        };
        vec![
            AlertRule {
                watch: Watch::EachCode,
                ..AlertRule::default()
            },
            account("auth-failure", Category::Auth),
            account("balance-exhausted", Category::Billing),
            account("quota-exhausted", Category::Quota),
        ]
    }

    /// Checks the rule: a window within an hour.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.window_secs == 0 || self.window_secs > 3600 {
            return Err(ConfigError::Rule(format!(
                "rule {}: window_secs must be from 1 to 3600",
                self.name
            )));
        }
        Ok(())
    }

    /// The groups of outcome indexes this rule watches, each its own incident.
    pub(crate) fn groups(&self) -> Vec<Vec<usize>> {
        let errors = (0..OUTCOMES).filter(|&i| at(i) != Some(Seen::Success));
        match self.watch {
            Watch::EachCode => errors.map(|i| vec![i]).collect(),
            Watch::Code(code) => vec![
                errors
                    .filter(|&i| at(i) == Some(Seen::Code(code)))
                    .collect(),
            ],
            Watch::Category(category) => {
                vec![
                    errors
                        .filter(|&i| category_at(i) == Some(category))
                        .collect(),
                ]
            }
            Watch::AnyError => vec![errors.collect()],
        }
    }

    /// The severity of an alert about `slot` (one outcome) or about the rule's whole group.
    pub(crate) fn severity_for(&self, slot: Option<usize>) -> LogLevel {
        if let Some(severity) = self.severity {
            return severity;
        }
        match (slot.and_then(info_at), self.watch) {
            (Some(info), _) => info.log_level,
            (_, Watch::Category(category)) => catalog::entries()
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
    /// What the alert is about (the rule, and the code for a rule that watches each code): a
    /// later alert with the same incident supersedes this one.
    pub incident: String,
    /// Firing or resolved.
    pub status: AlertStatus,
    /// From the catalog's log level (or the rule).
    pub severity: LogLevel,
    /// The code, when the incident is about one code.
    pub code: Option<i64>,
    /// The category, when the incident is about a category.
    pub category: Option<Category>,
    /// What it means, in both languages.
    pub meaning: AlertText,
    /// What to do, in both languages.
    pub solution: AlertText,
    /// Events within the window when the alert was raised (for "resolved": the most the
    /// incident counted in a window).
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
        let what = match (self.code, self.category) {
            (Some(code), _) => code.to_string(),
            (None, Some(category)) => category.label_in(lang).to_string(),
            _ => "errors".to_string(),
        };
        // Times are counted to the second (windows up to a minute) or to the minute.
        let seen = |ms: u64| {
            if self.window_secs > 60 {
                super::timestamp_to(ms, super::Resolution::Minute)
            } else {
                super::timestamp_to(ms, super::Resolution::Second)
            }
        };
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
                "[resolved] MiniMax {what}: {} — back at or below {} events in {} s (at most {} in {} s while it lasted)\nFirst seen {}, last seen {}\nRule: {}",
                self.meaning.en,
                self.threshold,
                self.window_secs,
                self.count,
                self.window_secs,
                seen(self.first_seen_ms),
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
                "[已恢复] MiniMax {what}：{} —— {} 秒内已不超过 {} 次（持续期间 {} 秒内最多 {} 次）\n首次出现 {}，最近出现 {}\n规则：{}",
                self.meaning.zh,
                self.window_secs,
                self.threshold,
                self.window_secs,
                self.count,
                seen(self.first_seen_ms),
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
    pub fired_ms: u64,
    pub last_above_ms: u64,
    /// While firing: the most counted in a window, and when events were first and last seen.
    pub peak: u64,
    pub first_seen_ms: u64,
    pub last_seen_ms: u64,
}

impl Incident {
    /// Advances the state with the window's count (and when its events were first and last
    /// seen); says whether to alert, and how.
    pub(crate) fn step(
        &mut self,
        rule: &AlertRule,
        count: u64,
        (first, last): (u64, u64),
        now_ms: u64,
    ) -> Option<AlertStatus> {
        let above = count > rule.threshold;
        if self.firing {
            self.peak = self.peak.max(count);
            if count > 0 {
                self.last_seen_ms = self.last_seen_ms.max(last);
            }
            let resolve_after = rule.resolve_after_secs.unwrap_or(rule.window_secs) * 1000;
            let open_long_enough =
                now_ms.saturating_sub(self.fired_ms) >= rule.cooldown_secs * 1000;
            if above {
                self.last_above_ms = now_ms;
            } else if open_long_enough && now_ms.saturating_sub(self.last_above_ms) >= resolve_after
            {
                self.firing = false;
                return Some(AlertStatus::Resolved);
            }
            return None;
        }
        if above {
            *self = Incident {
                firing: true,
                fired_ms: now_ms,
                last_above_ms: now_ms,
                peak: count,
                first_seen_ms: first,
                last_seen_ms: last,
            };
            return Some(AlertStatus::Firing);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_incident_one_alert_then_resolved_and_a_new_incident_alerts_at_once() {
        let rule = AlertRule {
            threshold: 10,
            window_secs: 60,
            cooldown_secs: 120,
            ..AlertRule::default()
        };
        let mut incident = Incident::default();
        let s = 1000;
        let seen = |t: u64| (t * s, t * s);
        assert_eq!(
            incident.step(&rule, 10, seen(0), 0),
            None,
            "10 is not more than 10"
        );
        assert_eq!(
            incident.step(&rule, 11, seen(1), s),
            Some(AlertStatus::Firing)
        );
        for t in 2..100 {
            assert_eq!(
                incident.step(&rule, 50, seen(t), t * s),
                None,
                "still the same incident"
            );
        }
        assert_eq!(incident.peak, 50);
        assert_eq!(
            incident.step(&rule, 0, (0, 0), 120 * s),
            None,
            "quiet for less than the window"
        );
        assert_eq!(
            incident.step(&rule, 0, (0, 0), 160 * s),
            Some(AlertStatus::Resolved)
        );
        assert_eq!(
            (incident.first_seen_ms, incident.last_seen_ms),
            (s, 99 * s),
            "kept for the notice"
        );
        assert_eq!(
            incident.step(&rule, 20, seen(170), 170 * s),
            Some(AlertStatus::Firing),
            "a new incident after the notice alerts at once"
        );
        // An incident stays open at least the cooldown: quiet then busy again within it is
        // the same incident.
        assert_eq!(incident.step(&rule, 0, (0, 0), 240 * s), None);
        assert_eq!(incident.step(&rule, 30, seen(250), 250 * s), None);
    }

    #[test]
    fn groups_follow_the_target() {
        let code = AlertRule {
            watch: Watch::Code(ErrorCode::RATE_LIMIT),
            ..AlertRule::default()
        };
        assert_eq!(code.groups().len(), 1);
        assert_eq!(code.groups()[0].len(), 1);
        let each = AlertRule {
            watch: Watch::EachCode,
            ..AlertRule::default()
        };
        assert_eq!(each.groups().len(), OUTCOMES - 1);
        let throttling = AlertRule {
            watch: Watch::Category(Category::Throttling),
            ..AlertRule::default()
        };
        let seen: Vec<_> = throttling.groups()[0].iter().map(|&i| at(i)).collect();
        assert!(seen.contains(&Some(Seen::Code(ErrorCode::RATE_LIMIT))));
        assert!(!seen.contains(&Some(Seen::Code(ErrorCode::INVALID_API_KEY))));
        assert_eq!(throttling.severity_for(None), LogLevel::Warn);
        let auth = AlertRule {
            watch: Watch::Category(Category::Auth),
            ..AlertRule::default()
        };
        assert_eq!(auth.severity_for(None), LogLevel::Error);
        let read = |text: &str| toml::from_str::<AlertRule>(text);
        assert!(read("name = \"w\"\ncategory = \"weather\"").is_err());
        assert!(read("name = \"w\"\ncode = 1\neach_code = true").is_err());
        assert!(read("name = \"w\"\nwindow_secs = 0").is_err());
        let rule = read("name = \"t\"\ncategory = \"throttling\"\nthreshold = 3").unwrap();
        assert_eq!(rule.watch, Watch::Category(Category::Throttling));
        assert_eq!(rule.window_secs, 60);
        let back = toml::to_string(&rule).unwrap();
        assert_eq!(read(&back).unwrap(), rule);
    }
}
