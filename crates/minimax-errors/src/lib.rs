//! # minimax-errors
//!
//! Every MiniMax API error code, what it means and what to do about it (in Chinese and English),
//! whether and how to retry it, and a classifier that reads any MiniMax response (both error
//! dialects and event streams) into an outcome. Pure and synchronous: no I/O, no async runtime.
//!
//! ```
//! use minimax_errors::classify::{classify, Outcome};
//! use minimax_errors::{Category, Endpoint, ErrorCode, ErrorReport, Lang};
//!
//! let body = br#"{"base_resp":{"status_code":2049,"status_msg":"invalid api key"}}"#;
//! let outcome = classify(body, 200, &[("Trace-Id", "0a1b2c")], Endpoint::T2a);
//! let Outcome::ApiError(error) = outcome else { panic!("expected an API error") };
//! assert_eq!(error.code, ErrorCode::INVALID_API_KEY);
//! assert_eq!(error.info().category, Category::Auth);
//!
//! let report = ErrorReport::from_api_error(&error, Lang::En);
//! assert_eq!(report.solution, "Check the API key (and that it belongs to this region's host).");
//! assert!(!report.retry);
//! assert_eq!(report.trace_id.as_deref(), Some("0a1b2c"));
//! ```

#![warn(missing_docs)]

/// `Deserialize` for a type read from its name with `FromStr` (categories, endpoints, …).
macro_rules! deserialize_from_str {
    ($ty:ty) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<$ty, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

pub mod catalog;
mod category;
pub mod classify;
mod code;
mod endpoint;
mod lang;
mod limits;
pub mod policy;
pub mod quota;
mod report;
pub mod scrub;
mod seen;
pub mod sse;
pub mod validate;
pub mod wire;

pub use catalog::{CodeInfo, LogLevel, Requirement, RetryPolicy, Source};
pub use category::{Category, UnknownCategory};
pub use classify::{Outcome, classify};
pub use code::{ErrorCode, InvalidErrorCode, Localized};
pub use endpoint::{Dialect, Endpoint, UnknownEndpoint};
pub use lang::{Lang, Text, UnknownLang};
pub use limits::{DocumentedLimits, LimitGroup, UnknownLimitGroup};
pub use report::{ErrorReport, RequirementReport, handle_error};
pub use seen::{Seen, UnknownLabel};
