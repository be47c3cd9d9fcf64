//! What a plan's usage-limit error (2056) says: which window of which plan ran out, and when it
//! resets. MiniMax writes it in the message, the same way in every dialect:
//! `usage limit exceeded, 5-hour usage limit reached for Token Plan Starter (0/0 used), resets
//! at 2026-05-15T15:00:00Z (2056)`.
//!
//! ```
//! use minimax_errors::quota::{Exhausted, Window};
//! let text = "usage limit exceeded, 5-hour usage limit reached for Token Plan Starter (0/0 used), resets at 2026-05-15T15:00:00Z (2056)";
//! let exhausted = Exhausted::read(text).unwrap();
//! assert_eq!(exhausted.window, Some(Window::Hours(5)));
//! assert_eq!(exhausted.plan.as_deref(), Some("Token Plan Starter"));
//! assert_eq!(exhausted.resets_at, Some(1_778_857_200));
//! ```

use crate::lang::Lang;
use regex::Regex;
use std::sync::LazyLock;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Which window ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// A rolling window of this many hours (the plans' 5-hour window).
    Hours(u32),
    /// The weekly window.
    Weekly,
}

/// A spent plan window, as the error message tells it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Exhausted {
    /// The window, when named.
    pub window: Option<Window>,
    /// The plan, when named (`Token Plan Starter`).
    pub plan: Option<String>,
    /// When the window resets, in Unix seconds.
    pub resets_at: Option<i64>,
}

static RESETS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)resets? at\s+(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)")
        .unwrap_or_else(|_| unreachable!("a constant pattern"))
});
static HOURS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(\d{1,3})[- ]hours?\b")
        .unwrap_or_else(|_| unreachable!("a constant pattern"))
});
static PLAN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\breached for ([^()\n,]{1,60}?)\s*(?:\(|,|$)")
        .unwrap_or_else(|_| unreachable!("a constant pattern"))
});

impl Exhausted {
    /// Reads a 2056 message; `None` when it says nothing of a window, a plan or a reset.
    pub fn read(message: &str) -> Option<Exhausted> {
        let resets_at = RESETS
            .captures(message)
            .and_then(|c| parse_time(c.get(1)?.as_str()));
        let window = if message.to_ascii_lowercase().contains("weekly") {
            Some(Window::Weekly)
        } else {
            HOURS
                .captures(message)
                .and_then(|c| c.get(1)?.as_str().parse().ok())
                .map(Window::Hours)
        };
        let plan = PLAN
            .captures(message)
            .and_then(|c| Some(c.get(1)?.as_str().trim().to_string()))
            .filter(|p| !p.is_empty());
        (resets_at.is_some() || window.is_some() || plan.is_some()).then_some(Exhausted {
            window,
            plan,
            resets_at,
        })
    }

    /// "resets at 2026-05-15 15:00 UTC, in 3 h 12 min" (or in Chinese), seen from `now`
    /// (Unix seconds); `None` without a reset time.
    pub fn resets_text(&self, now: i64, lang: Lang) -> Option<String> {
        self.resets_at.map(|at| resets_text(at, now, lang))
    }
}

/// A Unix time as MiniMax writes it in a 2056 message: `2026-05-15T15:00:00Z`.
pub fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| unix.to_string())
}

/// Now, in Unix seconds (0 if the system clock is before 1970).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// "resets at 2026-05-15 15:00 UTC, in 3 h 12 min", or "已于 … 重置" when it has passed.
pub fn resets_text(at: i64, now: i64, lang: Lang) -> String {
    let when = OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_else(|| at.to_string());
    let left = at - now;
    match (lang, left > 0) {
        (Lang::En, true) => format!("resets at {when}, in {}", duration_text(left, lang)),
        (Lang::Zh, true) => format!("{when} 重置，还有 {}", duration_text(left, lang)),
        (Lang::En, false) => format!("reset at {when}"),
        (Lang::Zh, false) => format!("已于 {when} 重置"),
    }
}

/// A time to wait, roughly: "3 h 12 min", "2 d 4 h", "45 s" (or in Chinese).
pub fn duration_text(seconds: i64, lang: Lang) -> String {
    let (d, h, m) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
    );
    let (dl, hl, ml, sl) = match lang {
        Lang::En => ("d", "h", "min", "s"),
        Lang::Zh => (" 天", " 小时", " 分钟", " 秒"),
    };
    match (d, h, m) {
        (0, 0, 0) => format!("{seconds}{}{sl}", if lang == Lang::En { " " } else { "" }),
        (0, 0, m) => format!("{m}{}{ml}", sep(lang)),
        (0, h, m) => format!("{h}{}{hl} {m}{}{ml}", sep(lang), sep(lang)),
        (d, h, _) => format!("{d}{}{dl} {h}{}{hl}", sep(lang), sep(lang)),
    }
}

fn sep(lang: Lang) -> &'static str {
    match lang {
        Lang::En => " ",
        Lang::Zh => "",
    }
}

/// RFC 3339, or the same with a space for the `T` and without a zone (UTC).
fn parse_time(text: &str) -> Option<i64> {
    let normal = text.replacen(' ', "T", 1);
    let with_zone = match normal.rfind(['Z', '+']).or_else(|| {
        // A '-' after the time part is a zone offset.
        normal
            .get(19..)
            .and_then(|rest| rest.find('-').map(|i| i + 19))
    }) {
        Some(_) => normal,
        None if normal.len() == 16 => format!("{normal}:00Z"),
        None => format!("{normal}Z"),
    };
    OffsetDateTime::parse(&with_zone, &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_form_seen() {
        let five = "usage limit exceeded, 5-hour usage limit reached for Token Plan Starter (0/0 used), resets at 2026-05-15T15:00:00Z (2056)";
        let e = Exhausted::read(five).unwrap();
        assert_eq!(e.window, Some(Window::Hours(5)));
        assert_eq!(e.plan.as_deref(), Some("Token Plan Starter"));
        assert_eq!(e.resets_at, Some(1_778_857_200));
        let weekly =
            "weekly usage limit reached for Coding Plan Max, resets at 2026-05-18 00:00:00 (2056)";
        let e = Exhausted::read(weekly).unwrap();
        assert_eq!(e.window, Some(Window::Weekly));
        assert_eq!(e.plan.as_deref(), Some("Coding Plan Max"));
        assert_eq!(e.resets_at, Some(1_779_062_400));
        let zoned = "usage limit exceeded, resets at 2026-05-15T23:00:00+08:00";
        assert_eq!(
            Exhausted::read(zoned).unwrap().resets_at,
            Some(1_778_857_200)
        );
        assert_eq!(Exhausted::read("usage limit exceeded (2056)"), None);
        assert_eq!(
            Exhausted::read("resets at tomorrow").map(|e| e.resets_at),
            None
        );
    }

    #[test]
    fn says_when_in_both_languages() {
        let at = 1_778_857_200;
        let now = at - (3 * 3600 + 12 * 60);
        assert_eq!(
            resets_text(at, now, Lang::En),
            "resets at 2026-05-15 15:00 UTC, in 3 h 12 min"
        );
        assert_eq!(
            resets_text(at, now, Lang::Zh),
            "2026-05-15 15:00 UTC 重置，还有 3 小时 12 分钟"
        );
        assert_eq!(
            resets_text(at, at + 5, Lang::En),
            "reset at 2026-05-15 15:00 UTC"
        );
        assert_eq!(
            resets_text(at, at - 2 * 86_400 - 3600, Lang::En)
                .split(", in ")
                .nth(1),
            Some("2 d 1 h")
        );
    }
}
