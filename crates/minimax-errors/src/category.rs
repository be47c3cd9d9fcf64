//! The small, closed set of categories that decisions are made on (in the manner of
//! `std::io::ErrorKind`), so callers never match long lists of numbers.

use crate::lang::{Lang, Text};
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// What kind of failure a code is. Retry, alerting and reporting decide on this, not on numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// A passing fault on MiniMax's side (timeouts, internal errors, overload): retry with backoff.
    Transient,
    /// The account's request or token rate was exceeded: retry, paced.
    Throttling,
    /// A usage quota for the current window is spent: waiting for the next window is the only fix.
    Quota,
    /// The API key is missing, wrong or does not match: fix the key.
    Auth,
    /// The account's balance is insufficient: top up.
    Billing,
    /// Input or output was flagged by content moderation: change the input.
    Content,
    /// The request itself is wrong (parameters, audio, text): fix the request.
    InvalidRequest,
    /// The account may not do this (feature disabled, someone else's voice, plan limits).
    Permission,
    /// The request collides with something that exists (a duplicate voice id).
    Conflict,
    /// What the request names does not exist (a voice id).
    NotFound,
    /// A code the catalog does not know.
    Unknown,
}

impl Category {
    /// Every category, in declaration order.
    pub const ALL: [Category; 11] = [
        Category::Transient,
        Category::Throttling,
        Category::Quota,
        Category::Auth,
        Category::Billing,
        Category::Content,
        Category::InvalidRequest,
        Category::Permission,
        Category::Conflict,
        Category::NotFound,
        Category::Unknown,
    ];

    /// The machine name used in JSON and on the command line (`invalid_request`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Category::Transient => "transient",
            Category::Throttling => "throttling",
            Category::Quota => "quota",
            Category::Auth => "auth",
            Category::Billing => "billing",
            Category::Content => "content",
            Category::InvalidRequest => "invalid_request",
            Category::Permission => "permission",
            Category::Conflict => "conflict",
            Category::NotFound => "not_found",
            Category::Unknown => "unknown",
        }
    }

    /// A short human label in both languages.
    pub const fn label(self) -> Text {
        let (zh, en) = match self {
            Category::Transient => ("临时故障", "transient"),
            Category::Throttling => ("限流", "throttling"),
            Category::Quota => ("配额用尽", "quota"),
            Category::Auth => ("鉴权", "auth"),
            Category::Billing => ("计费", "billing"),
            Category::Content => ("内容安全", "content"),
            Category::InvalidRequest => ("请求无效", "invalid request"),
            Category::Permission => ("权限", "permission"),
            Category::Conflict => ("冲突", "conflict"),
            Category::NotFound => ("不存在", "not found"),
            Category::Unknown => ("未知", "unknown"),
        };
        Text { zh, en }
    }

    /// The label in `lang`.
    pub const fn label_in(self, lang: Lang) -> &'static str {
        self.label().get(lang)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error returned when a category name is not one of [`Category::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown category {0:?}: expected one of transient, throttling, quota, auth, billing, content, invalid_request, permission, conflict, not_found, unknown"
)]
pub struct UnknownCategory(pub String);

deserialize_from_str!(Category);

impl FromStr for Category {
    type Err = UnknownCategory;

    fn from_str(s: &str) -> Result<Category, UnknownCategory> {
        let wanted = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == wanted)
            .ok_or_else(|| UnknownCategory(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in Category::ALL {
            assert_eq!(c.as_str().parse::<Category>(), Ok(c));
        }
        assert_eq!(
            "invalid-request".parse::<Category>(),
            Ok(Category::InvalidRequest)
        );
        assert!("nonsense".parse::<Category>().is_err());
    }
}
