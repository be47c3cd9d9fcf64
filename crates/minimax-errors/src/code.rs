//! `ErrorCode`: a MiniMax status code, in the manner of `http::StatusCode`.
//!
//! A small newtype over a number: named constants for every known code (generated from the
//! catalog's one table, so they cannot drift), conversion from any integer, and an unknown code is
//! still a value with a meaning ("unknown error code", not retried).
//!
//! ```
//! use minimax_errors::{Category, ErrorCode, Lang};
//!
//! let code = ErrorCode::from(1002);
//! assert_eq!(code, ErrorCode::RATE_LIMIT);
//! assert_eq!(code, 1002);
//! assert_eq!(format!("{code:?}"), "1002");
//! assert_eq!(code.to_string(), "1002 rate limit");
//! assert_eq!(code.localized(Lang::Zh).to_string(), "1002 请求频率超限");
//! assert_eq!(code.info().category, Category::Throttling);
//!
//! let odd: ErrorCode = "4242".parse().unwrap();
//! assert!(!odd.is_known());
//! assert_eq!(odd.info().category, Category::Unknown);
//! ```

use crate::catalog::{self, CodeInfo};
use crate::endpoint::Endpoint;
use crate::lang::Lang;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A MiniMax status code (`base_resp.status_code`, or the number at the end of a compatible
/// endpoint's error message). Known or not, every value is usable.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ErrorCode(i64);

impl ErrorCode {
    /// The success code, `0`.
    pub const SUCCESS: ErrorCode = ErrorCode(0);

    /// Wraps any integer.
    pub const fn new(code: i64) -> ErrorCode {
        ErrorCode(code)
    }

    /// The number.
    pub const fn as_i64(self) -> i64 {
        self.0
    }

    /// Whether the catalog knows this code.
    pub fn is_known(self) -> bool {
        catalog::lookup(self).is_some()
    }

    /// What the catalog says about this code, in its default meaning. An unknown code gets the
    /// catalog's answer for unknown codes: category unknown, not retried.
    pub fn info(self) -> CodeInfo {
        catalog::lookup(self).unwrap_or_else(|| catalog::unknown(self))
    }

    /// What this code means on `endpoint`: the endpoint's own meaning where the catalog has one
    /// (1039 on T2A is a throttle), the default meaning otherwise.
    pub fn info_on(self, endpoint: Endpoint) -> CodeInfo {
        catalog::lookup_on(self, endpoint).unwrap_or_else(|| self.info())
    }

    /// A value whose `Display` is "CODE message" in `lang`.
    pub fn localized(self, lang: Lang) -> Localized {
        Localized { code: self, lang }
    }

    /// The code as text (`"1002"`) without allocating, for codes the catalog knows.
    pub fn label(self) -> Option<&'static str> {
        catalog::lookup(self).map(|info| info.label)
    }

    /// Looks a code up by its constant name (`RATE_LIMIT`, case-insensitive).
    pub fn from_name(name: &str) -> Option<ErrorCode> {
        catalog::entries()
            .find(|info| info.name.eq_ignore_ascii_case(name.trim()))
            .map(|info| info.code)
    }
}

impl fmt::Debug for ErrorCode {
    /// The bare number, like `http::StatusCode`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for ErrorCode {
    /// "1002 rate limit" (English; see [`ErrorCode::localized`] for Chinese).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.localized(Lang::En).fmt(f)
    }
}

/// An [`ErrorCode`] displayed with its message in one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Localized {
    code: ErrorCode,
    lang: Lang,
}

impl fmt::Display for Localized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}",
            self.code.0,
            self.code.info().message.get(self.lang)
        )
    }
}

impl From<i64> for ErrorCode {
    fn from(code: i64) -> ErrorCode {
        ErrorCode(code)
    }
}

impl From<ErrorCode> for i64 {
    fn from(code: ErrorCode) -> i64 {
        code.0
    }
}

impl PartialEq<i64> for ErrorCode {
    fn eq(&self, other: &i64) -> bool {
        self.0 == *other
    }
}

impl PartialEq<ErrorCode> for i64 {
    fn eq(&self, other: &ErrorCode) -> bool {
        *self == other.0
    }
}

/// The error returned when a string is neither a number nor a known code name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an error code: {0:?} (expected a number such as 1002 or a name such as RATE_LIMIT)")]
pub struct InvalidErrorCode(pub String);

impl FromStr for ErrorCode {
    type Err = InvalidErrorCode;

    /// Parses a number (`"1002"`) or a constant name (`"RATE_LIMIT"`).
    fn from_str(s: &str) -> Result<ErrorCode, InvalidErrorCode> {
        let trimmed = s.trim();
        trimmed
            .parse::<i64>()
            .ok()
            .map(ErrorCode)
            .or_else(|| ErrorCode::from_name(trimmed))
            .ok_or_else(|| InvalidErrorCode(s.to_string()))
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.0)
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ErrorCode, D::Error> {
        i64::deserialize(deserializer).map(ErrorCode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::category::Category;

    #[test]
    fn unknown_codes_are_values_with_the_unknown_meaning() {
        let code = ErrorCode::from(99_999);
        assert!(!code.is_known());
        let info = code.info();
        assert_eq!(info.code, code);
        assert_eq!(info.category, Category::Unknown);
        assert!(info.retry.is_none());
        assert_eq!(code.to_string(), "99999 unknown error code");
        assert_eq!(code.localized(Lang::Zh).to_string(), "99999 未知错误码");
    }

    #[test]
    fn parses_numbers_and_names() {
        assert_eq!("1002".parse::<ErrorCode>(), Ok(ErrorCode::RATE_LIMIT));
        assert_eq!(
            " rate_limit ".parse::<ErrorCode>(),
            Ok(ErrorCode::RATE_LIMIT)
        );
        assert_eq!("-5".parse::<ErrorCode>(), Ok(ErrorCode::new(-5)));
        assert!("ten".parse::<ErrorCode>().is_err());
        assert!("".parse::<ErrorCode>().is_err());
    }

    #[test]
    fn serializes_as_a_bare_number() {
        assert_eq!(
            serde_json::to_string(&ErrorCode::INVALID_API_KEY).unwrap(),
            "2049"
        );
        let back: ErrorCode = serde_json::from_str("2049").unwrap();
        assert_eq!(back, ErrorCode::INVALID_API_KEY);
    }
}
