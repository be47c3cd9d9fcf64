//! The handler report: what the seed's `handle_error` returns, as a serializable type, with the
//! category, source, trace id and endpoint added.

use crate::catalog::{LogLevel, Requirement, RetryPolicy, Source};
use crate::category::Category;
use crate::classify::ApiError;
use crate::code::ErrorCode;
use crate::endpoint::Endpoint;
use crate::lang::Lang;
use crate::scrub;
use serde::Serialize;
use serde_json::{Map, Value};

/// Everything a user needs to act on one error: what it means, what to do, whether it is retried.
///
/// ```
/// use minimax_errors::{ErrorCode, ErrorReport, Lang};
///
/// let report = ErrorReport::new(ErrorCode::INSUFFICIENT_BALANCE, Lang::Zh);
/// assert_eq!(report.message, "余额不足");
/// assert_eq!(report.action.as_deref(), Some("请充值账户余额"));
/// assert!(!report.retry);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorReport {
    /// The code.
    pub error_code: ErrorCode,
    /// Its constant name (`RATE_LIMIT`), or `UNKNOWN_CODE`.
    pub name: &'static str,
    /// Whether the catalog knows the code.
    pub known: bool,
    /// What it means, in the report's language.
    pub message: String,
    /// What to do, in the report's language.
    pub solution: String,
    /// Whether a retry can help.
    pub retry: bool,
    /// How it is retried, when it is.
    pub retry_config: Option<RetryPolicy>,
    /// Caller-supplied context, with secrets scrubbed.
    pub context: Map<String, Value>,
    /// The seed's extra for 1008: what to do about the balance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The seed's extra for 1026: how to change the input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    /// The seed's extra for 2037 (and 2048, 1042): the measurable requirement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requirements: Option<RequirementReport>,
    /// What kind of failure it is.
    pub category: Category,
    /// Where the catalog's facts come from.
    pub source: Source,
    /// The level it is logged at.
    pub log_level: LogLevel,
    /// The endpoint whose meaning was taken.
    pub endpoint: Endpoint,
    /// Whether the code means something else on other endpoints.
    pub endpoint_dependent: bool,
    /// The trace id to give MiniMax support.
    pub trace_id: Option<String>,
    /// The server's own message, when there was a response.
    pub server_message: Option<String>,
    /// For a spent plan window (2056): which window, which plan and when it resets, as the
    /// message tells.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_window: Option<crate::quota::Exhausted>,
    /// The HTTP status, when there was a response.
    pub http_status: Option<u16>,
    /// The language of `message`, `solution` and the extras.
    pub lang: Lang,
}

/// A requirement with its description.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequirementReport {
    /// The requirement, structured.
    #[serde(flatten)]
    pub requirement: Requirement,
    /// The requirement in words, in the report's language.
    pub description: String,
}

impl ErrorReport {
    /// The report for `code` in its default meaning.
    pub fn new(code: ErrorCode, lang: Lang) -> ErrorReport {
        ErrorReport::on(code, Endpoint::Other, lang)
    }

    /// The report for `code` as meant on `endpoint`.
    pub fn on(code: ErrorCode, endpoint: Endpoint, lang: Lang) -> ErrorReport {
        let info = code.info_on(endpoint);
        let known = code.is_known();
        let message = if known {
            info.message.get(lang).to_string()
        } else {
            // As the seed does: the message names the unknown code.
            match lang {
                Lang::Zh => format!("未知错误码: {}", code.as_i64()),
                Lang::En => format!("unknown error code: {}", code.as_i64()),
            }
        };
        ErrorReport {
            error_code: code,
            name: info.name,
            known,
            message,
            solution: info.solution.get(lang).to_string(),
            retry: info.is_retryable(),
            retry_config: info.retry,
            context: Map::new(),
            action: info.action.map(|t| t.get(lang).to_string()),
            suggestion: info.suggestion.map(|t| t.get(lang).to_string()),
            requirements: info.requirement.map(|requirement| RequirementReport {
                requirement,
                description: requirement.describe(lang),
            }),
            category: info.category,
            source: info.source,
            log_level: info.log_level,
            endpoint,
            endpoint_dependent: info.endpoint_dependent,
            trace_id: None,
            server_message: None,
            plan_window: None,
            http_status: None,
            lang,
        }
    }

    /// The report for an error read from a response: server message, trace id and status filled in.
    pub fn from_api_error(error: &ApiError, lang: Lang) -> ErrorReport {
        let mut report = ErrorReport::on(error.code, error.endpoint, lang)
            .with_server_message(&error.server_message);
        report.trace_id = error.trace_id.clone();
        report.http_status = Some(error.http_status);
        report
    }

    /// Adds context (function name, attempt, …). Secrets in it are scrubbed first, so a context
    /// that carries the API key never shows it.
    pub fn with_context(mut self, context: Map<String, Value>) -> ErrorReport {
        let mut value = Value::Object(context);
        scrub::scrub_json(&mut value);
        if let Value::Object(clean) = value {
            self.context.extend(clean);
        }
        self
    }

    /// Adds a trace id.
    pub fn with_trace_id(mut self, trace_id: impl Into<String>) -> ErrorReport {
        self.trace_id = Some(trace_id.into());
        self
    }

    /// Adds the server's own message (scrubbed).
    pub fn with_server_message(mut self, message: &str) -> ErrorReport {
        self.server_message =
            (!message.is_empty()).then(|| scrub::scrub_text(message).into_owned());
        self.plan_window = (self.error_code == ErrorCode::USAGE_LIMIT_EXCEEDED)
            .then(|| crate::quota::Exhausted::read(message))
            .flatten();
        self
    }
}

/// The seed's `handle_error(error_code, error_msg, context)`: a report in `lang`.
pub fn handle_error(
    code: ErrorCode,
    error_msg: &str,
    context: Option<Map<String, Value>>,
    lang: Lang,
) -> ErrorReport {
    ErrorReport::new(code, lang)
        .with_server_message(error_msg)
        .with_context(context.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn seed_extras_are_present() {
        let r = ErrorReport::new(ErrorCode::INPUT_SENSITIVE, Lang::Zh);
        assert_eq!(
            r.suggestion.as_deref(),
            Some("尝试调整输入内容，避免敏感词汇")
        );
        let r = ErrorReport::new(ErrorCode::VOICE_DURATION, Lang::En);
        let req = serde_json::to_value(&r.requirements).unwrap();
        assert_eq!(
            req,
            json!({"kind":"duration_between","min_secs":10.0,"max_secs":300.0,
            "description":"audio duration between 10 s and 5 min"})
        );
    }

    #[test]
    fn unknown_code_follows_the_seed() {
        let r = handle_error(ErrorCode::new(31337), "", None, Lang::Zh);
        assert_eq!(r.message, "未知错误码: 31337");
        assert_eq!(r.solution, "请联系技术支持");
        assert!(!r.retry && !r.known);
        assert_eq!(r.category, Category::Unknown);
    }

    #[test]
    fn context_is_scrubbed_of_keys() {
        let key = "sk-api-verysecretkey0123456789";
        let context =
            json!({"function":"t2a","kwargs":format!("{{'api_key': '{key}'}}"),"api_key":key});
        let Value::Object(context) = context else {
            unreachable!()
        };
        let r = handle_error(
            ErrorCode::RATE_LIMIT,
            &format!("bad key {key}"),
            Some(context),
            Lang::En,
        );
        let text = serde_json::to_string(&r).unwrap();
        assert!(!text.contains(key), "{text}");
        assert_eq!(r.context["function"], "t2a");
        assert_eq!(r.retry_config.map(|c| c.max_retries), Some(5));
    }

    #[test]
    fn endpoint_meaning_is_reported() {
        let r = ErrorReport::on(ErrorCode::TOKEN_LIMIT, Endpoint::T2a, Lang::En);
        assert!(r.retry && r.endpoint_dependent);
        assert_eq!(r.category, Category::Throttling);
    }
}
