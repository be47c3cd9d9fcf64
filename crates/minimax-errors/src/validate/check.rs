//! `Checker`: collects violations, writing each message in both languages from the rule.

use super::{Api, Severity, Target, Validation, Violation};
use crate::code::ErrorCode;
use serde_json::{Value, json};
use std::ops::{Bound, RangeBounds};

/// Collects the violations of one request; each check states its rule once and the checker
/// writes the value, rule and messages for it.
#[derive(Debug)]
pub struct Checker {
    target: Target,
    violations: Vec<Violation>,
}

impl Checker {
    /// A checker for a request to `api`.
    pub fn new(api: Api) -> Checker {
        Checker::for_target(Target::Request(api))
    }

    /// A checker for any target.
    pub fn for_target(target: Target) -> Checker {
        Checker {
            target,
            violations: Vec::new(),
        }
    }

    /// The validation with every violation recorded.
    pub fn finish(self) -> Validation {
        Validation {
            target: self.target,
            violations: self.violations,
        }
    }

    /// Records a violation with its own messages.
    pub fn push(
        &mut self,
        field: &str,
        value: Value,
        rule: String,
        code: ErrorCode,
        zh: String,
        en: String,
    ) {
        self.push_with(Severity::Error, field, value, rule, code, zh, en);
    }

    #[allow(clippy::too_many_arguments)]
    fn push_with(
        &mut self,
        severity: Severity,
        field: &str,
        value: Value,
        rule: String,
        code: ErrorCode,
        message_zh: String,
        message_en: String,
    ) {
        self.violations.push(Violation {
            field: field.to_string(),
            value,
            rule,
            code,
            severity,
            message_zh,
            message_en,
        });
    }

    /// Records a warning (the request is not known to be rejected).
    pub fn warn(&mut self, field: &str, value: Value, rule: String, zh: String, en: String) {
        self.push_with(
            Severity::Warning,
            field,
            value,
            rule,
            ErrorCode::INVALID_PARAMS,
            zh,
            en,
        );
    }

    /// A field of the wrong JSON type.
    pub fn wrong_type(&mut self, field: &str, detail: &str) {
        self.push(
            field,
            Value::Null,
            "type".to_string(),
            ErrorCode::INVALID_PARAMS,
            format!("{field} 的类型错误：{detail}"),
            format!("{field} has the wrong type: {detail}"),
        );
    }

    /// `present` must hold: the field is required.
    pub fn required(&mut self, field: &str, present: bool, code: ErrorCode) {
        if !present {
            self.push(
                field,
                Value::Null,
                "required".to_string(),
                code,
                format!("缺少必填字段 {field}"),
                format!("{field} is required"),
            );
        }
    }

    /// `value` must lie within `bounds`: `0.5..=2.0`, or with an open end
    /// `(Bound::Excluded(0.0), Bound::Included(10.0))`. NaN and infinities fail.
    pub fn range(
        &mut self,
        field: &str,
        value: Option<f64>,
        bounds: impl RangeBounds<f64>,
        code: ErrorCode,
    ) {
        let Some(v) = value else { return };
        if bounds.contains(&v) && v.is_finite() {
            return;
        }
        let end = |bound: Bound<&f64>, unbounded: f64| match bound {
            Bound::Included(x) => (*x, false),
            Bound::Excluded(x) => (*x, true),
            Bound::Unbounded => (unbounded, false),
        };
        let (low, low_open) = end(bounds.start_bound(), f64::NEG_INFINITY);
        let (high, high_open) = end(bounds.end_bound(), f64::INFINITY);
        let (lb, rb) = (
            if low_open { "(" } else { "[" },
            if high_open { ")" } else { "]" },
        );
        let (lz, rz) = (
            if low_open { "大于" } else { "不小于" },
            if high_open { "小于" } else { "不大于" },
        );
        let (le, re) = (
            if low_open { "above" } else { "at least" },
            if high_open { "below" } else { "at most" },
        );
        let rule = format!("range{lb}{low},{high}{rb}");
        let (zh, en) = if low_open || high_open {
            (
                format!("{field} 必须{lz} {low} 且{rz} {high}（当前值 {}）", num(v)),
                format!(
                    "{field} must be {le} {low} and {re} {high} (got {})",
                    num(v)
                ),
            )
        } else {
            (
                format!("{field} 必须在 {low} 到 {high} 之间（当前值 {}）", num(v)),
                format!("{field} must be between {low} and {high} (got {})", num(v)),
            )
        };
        self.push(field, json!(v), rule, code, zh, en);
    }

    /// `value` must be at least `min`.
    pub fn at_least(&mut self, field: &str, value: Option<f64>, min: f64, code: ErrorCode) {
        // NaN (possible from Rust callers) fails too.
        if let Some(v) = value.filter(|v| v.partial_cmp(&min).is_none_or(|o| o.is_lt())) {
            self.push(
                field,
                json!(v),
                format!("min({min})"),
                code,
                format!("{field} 不能小于 {min}（当前值 {}）", num(v)),
                format!("{field} must be at least {min} (got {})", num(v)),
            );
        }
    }

    /// `value` must be a whole number.
    pub fn integer(&mut self, field: &str, value: Option<f64>, code: ErrorCode) {
        if let Some(v) = value.filter(|v| v.fract() != 0.0) {
            self.push(
                field,
                json!(v),
                "integer".to_string(),
                code,
                format!("{field} 必须是整数（当前值 {}）", num(v)),
                format!("{field} must be a whole number (got {})", num(v)),
            );
        }
    }

    /// `text` must have at most `max` characters (Unicode scalar values), or fewer than `max`
    /// when `strictly_below` is set.
    pub fn max_chars(
        &mut self,
        field: &str,
        text: Option<&str>,
        max: usize,
        strictly_below: bool,
        code: ErrorCode,
    ) {
        let Some(text) = text else { return };
        let count = text.chars().count();
        let ok = if strictly_below {
            count < max
        } else {
            count <= max
        };
        if ok {
            return;
        }
        let (rule, zh, en) = if strictly_below {
            (
                format!("chars<{max}"),
                format!("{field} 须少于 {max} 个字符（当前 {count} 个）"),
                format!("{field} must be shorter than {max} characters (has {count})"),
            )
        } else {
            (
                format!("chars<={max}"),
                format!("{field} 最多 {max} 个字符（当前 {count} 个）"),
                format!("{field} must be at most {max} characters (has {count})"),
            )
        };
        self.push(field, json!({ "chars": count }), rule, code, zh, en);
    }

    /// `value` must be one of `allowed`.
    pub fn one_of<T: PartialEq + std::fmt::Display + serde::Serialize>(
        &mut self,
        field: &str,
        value: Option<&T>,
        allowed: &[T],
        code: ErrorCode,
    ) {
        let Some(value) = value else { return };
        if allowed.contains(value) {
            return;
        }
        let list = allowed
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        self.push(
            field,
            json!(value),
            format!("one_of[{list}]"),
            code,
            format!("{field} 必须是以下之一：{list}（当前值 {value}）"),
            format!("{field} must be one of {list} (got {value})"),
        );
    }
}

/// A number as people write it: `3`, not `3.0`.
fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        v.to_string()
    }
}
