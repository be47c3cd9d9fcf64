//! What one attempt ended with, as everyone names it: the executor's observer and its log, the
//! monitor's counters and metrics, the mock's counts, `mmerr demo` and `mmerr report` all use
//! these labels and meanings.
//!
//! ```
//! use minimax_errors::{ErrorCode, Lang, Seen};
//! assert_eq!(Seen::Code(ErrorCode::RATE_LIMIT).label(), "1002");
//! assert_eq!("html_502".parse::<Seen>(), Ok(Seen::GatewayPage));
//! assert_eq!(Seen::Transport.meaning(Lang::Zh), "网络故障（连接失败、超时、连接中断）");
//! ```

use crate::code::ErrorCode;
use crate::lang::Lang;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// What an attempt ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Seen {
    /// A successful answer.
    Success,
    /// MiniMax answered with this code.
    Code(ErrorCode),
    /// An answer that could not be read (gateway page, cut off, …).
    Malformed,
    /// No complete answer (connect error, timeout, connection lost).
    Transport,
    /// Not sent: an account-level failure was met recently (the breaker is open).
    FailingFast,
    /// Not sent: its turn under the account's pace would have come after its deadline.
    PacedPastDeadline,
    /// The caller went away before the end: a client that disconnected (or code that dropped
    /// the call) while it waited for its turn, while MiniMax answered, or mid-stream. Not a
    /// MiniMax error, and never a success.
    ClientGone,
    /// A fault answered on purpose (the mock): the connection dropped before the answer.
    Reset,
    /// A fault answered on purpose (the mock): the answer cut off halfway.
    Truncate,
    /// A fault answered on purpose (the mock): a gateway's HTML error page (HTTP 502).
    GatewayPage,
}

/// The fixed labels, in one table with their meanings.
const FIXED: [(Seen, &str, &str, &str); 9] = [
    (Seen::Success, "success", "成功", "success"),
    (
        Seen::Malformed,
        "malformed",
        "无法解析的响应（网关错误页、截断等）",
        "unreadable answer (gateway page, cut-off body)",
    ),
    (
        Seen::Transport,
        "transport",
        "网络故障（连接失败、超时、连接中断）",
        "transport failure (connect error, timeout, connection lost)",
    ),
    (
        Seen::FailingFast,
        "failing_fast",
        "未发送：近期出现账户级错误，快速失败",
        "not sent: an account-level failure was met recently",
    ),
    (
        Seen::PacedPastDeadline,
        "paced_past_deadline",
        "未发送：排队等待会超过截止时间",
        "not sent: its turn would have come after its deadline",
    ),
    (
        Seen::ClientGone,
        "client_gone",
        "调用方中途离开（客户端断开或不再读取）",
        "the caller went away before the end (disconnected or stopped reading)",
    ),
    (Seen::Reset, "reset", "连接中断", "connection dropped"),
    (Seen::Truncate, "truncate", "响应被截断", "answer cut off"),
    (
        Seen::GatewayPage,
        "html_502",
        "网关错误页（HTTP 502）",
        "gateway error page (HTTP 502)",
    ),
];

impl Seen {
    /// The label in counters, logs and metrics: `success`, `1002`, `malformed`, `transport`,
    /// `failing_fast`, `paced_past_deadline`, `client_gone`, `reset`, `truncate`, `html_502`.
    pub fn label(self) -> String {
        match self.static_label() {
            Some(label) => label.to_string(),
            None => match self {
                Seen::Code(code) => code.as_i64().to_string(),
                _ => String::new(),
            },
        }
    }

    /// The label without allocating, for everything but codes outside the catalog.
    pub fn static_label(self) -> Option<&'static str> {
        match self {
            Seen::Code(code) => code.label(),
            fixed => FIXED.iter().find(|row| row.0 == fixed).map(|row| row.1),
        }
    }

    /// What it means, in `lang` (for a code: the catalog's meaning).
    pub fn meaning(self, lang: Lang) -> &'static str {
        match self {
            Seen::Code(code) => code.info().message.get(lang),
            fixed => FIXED
                .iter()
                .find(|row| row.0 == fixed)
                .map_or("", |row| match lang {
                    Lang::Zh => row.2,
                    Lang::En => row.3,
                }),
        }
    }

    /// Whether it is an error.
    pub fn is_error(self) -> bool {
        self != Seen::Success
    }
}

impl fmt::Display for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// The error returned when a string is no label.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown outcome label {0:?}")]
pub struct UnknownLabel(pub String);

impl FromStr for Seen {
    type Err = UnknownLabel;

    /// A label as [`Seen::label`] writes it (a number is a code); `0` is success.
    fn from_str(s: &str) -> Result<Seen, UnknownLabel> {
        let s = s.trim();
        if let Some(row) = FIXED.iter().find(|row| row.1 == s) {
            return Ok(row.0);
        }
        match s.parse::<i64>() {
            Ok(0) => Ok(Seen::Success),
            Ok(code) => Ok(Seen::Code(ErrorCode::new(code))),
            Err(_) => Err(UnknownLabel(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_read_back_and_mean_something_in_both_languages() {
        for row in FIXED {
            assert_eq!(row.1.parse::<Seen>(), Ok(row.0));
            assert_eq!(row.0.label(), row.1);
            assert!(!row.0.meaning(Lang::Zh).is_empty() && !row.0.meaning(Lang::En).is_empty());
        }
        let code = Seen::Code(ErrorCode::INVALID_API_KEY);
        assert_eq!(code.label().parse::<Seen>(), Ok(code));
        assert_eq!(code.meaning(Lang::En), "invalid API key");
        assert_eq!(Seen::Code(ErrorCode::new(777)).static_label(), None);
        assert!("nonsense".parse::<Seen>().is_err());
    }
}
