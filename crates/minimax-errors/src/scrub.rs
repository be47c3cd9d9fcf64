//! Removing secrets from text and JSON before it is shown, logged, reported or alerted on.
//!
//! The seed logs `str(args)` and `str(kwargs)`, which writes the API key to disk. Everything this
//! toolkit records passes through here first: values of fields whose name says they hold a secret,
//! `Authorization` header values, bearer tokens, and strings shaped like MiniMax keys (JWTs and
//! `sk-…` keys) become `[REDACTED]`.
//!
//! Keys are recognised by their start, not only by their whole shape: a text cut anywhere (by a
//! server, a proxy, or a bound of ours) still has its key's prefix redacted once 16 characters of
//! it are left. Bounding a text from outside goes through [`scrub_bounded`], which scrubs before
//! it cuts, so a cut never turns a key into a fragment the patterns no longer see.
//!
//! ```
//! use minimax_errors::scrub::scrub_text;
//! let line = "curl -H 'Authorization: Bearer sk-api-AbCdEf0123456789xyzXYZ' https://api.minimax.io";
//! assert_eq!(scrub_text(line), "curl -H 'Authorization: Bearer [REDACTED]' https://api.minimax.io");
//! ```

use regex::Regex;
use serde_json::Value;
use std::borrow::Cow;
use std::sync::LazyLock;

/// What a secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Key-shaped strings: bearer credentials, `sk-` style keys, JWTs (MiniMax's longer keys), and
/// `api_key=…` / `"token": "…"` style assignments in free text. Each key shape matches from 16
/// characters of its start on, so a key cut short is still found.
static SECRET_PATTERNS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)(?P<keep>\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}",
        r"|\bsk-[A-Za-z0-9_-]{13,}",
        // MiniMax's own prefixes, even glued to the text before them.
        r"|sk-(?:api|cp)-[A-Za-z0-9_-]{8,}",
        // A JWT starts with base64 of `{"`: its header alone is enough, even glued to text
        // before it, with as much of the payload and signature as follows.
        r"|eyJ[A-Za-z0-9_-]{13,}(?:\.[A-Za-z0-9_-]*){0,2}",
        r#"|(?P<keep2>\b(?:api[_-]?key|secret|token|password|authorization|x-api-key)\b["']?\s*[:=]\s*["']?(?:bearer\s+)?)[^\s"',;&}]{6,}"#,
    ))
    .unwrap_or_else(|error| unreachable!("the secret pattern is a valid regex: {error}"))
});

/// `text` with every key-shaped substring replaced by [`REDACTED`]. Borrows when nothing matched.
pub fn scrub_text(text: &str) -> Cow<'_, str> {
    SECRET_PATTERNS.replace_all(text, |caps: &regex::Captures<'_>| {
        let keep = caps
            .name("keep")
            .or_else(|| caps.name("keep2"))
            .map_or("", |m| m.as_str());
        format!("{keep}{REDACTED}")
    })
}

/// `text` scrubbed, then cut to at most `max_chars` characters (with `…` when cut). Scrubbing
/// comes first, so a key at the cut leaves no fragment; a text far longer than the bound is cut
/// to a few times the bound first, which the prefix patterns make safe.
pub fn scrub_bounded(text: &str, max_chars: usize) -> String {
    let head = match text
        .char_indices()
        .nth(max_chars.saturating_mul(4).max(4096))
    {
        Some((end, _)) => &text[..end],
        None => text,
    };
    let clean = scrub_text(head);
    match clean.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &clean[..end]),
        None if head.len() < text.len() => format!("{clean}…"),
        None => clean.into_owned(),
    }
}

/// Whether a field with this name holds a secret (`api_key`, `Authorization`, `access_token`, …).
pub fn is_secret_field(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["key", "token", "secret", "password", "authorization", "credential", "cookie"]
        .iter()
        .any(|word| lower.contains(word))
        // Names that contain "key" but hold no secret.
        && !matches!(lower.as_str(), "keys" | "key_count" | "monkey" | "hotkey")
}

/// Scrubs a JSON value in place: secret fields are replaced whatever their value, and every
/// string anywhere is passed through [`scrub_text`].
pub fn scrub_json(value: &mut Value) {
    match value {
        Value::String(s) => {
            if let Cow::Owned(clean) = scrub_text(s) {
                *s = clean;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(scrub_json),
        Value::Object(map) => {
            for (name, field) in map.iter_mut() {
                if is_secret_field(name) && !field.is_null() {
                    *field = Value::String(REDACTED.to_string());
                } else {
                    scrub_json(field);
                }
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn redacts_key_shapes_in_text() {
        let jwt = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJHcm91cE5hbWUiOiJ0ZXN0In0.c2lnbmF0dXJl";
        for secret in [
            jwt,
            "sk-api-0123456789abcdefABCDEF",
            "sk-cp-ZZZZZZZZZZZZZZZZZZZZ",
        ] {
            let line = format!("calling with {secret} now");
            let clean = scrub_text(&line);
            assert!(!clean.contains(secret), "{clean}");
            assert_eq!(clean, format!("calling with {REDACTED} now"));
        }
        assert_eq!(
            scrub_text("api_key=abcdef123456&x=1"),
            "api_key=[REDACTED]&x=1"
        );
        assert_eq!(
            scrub_text(r#"{"token": "abcdefgh12"}"#),
            r#"{"token": "[REDACTED]"}"#
        );
        assert_eq!(
            scrub_text("Authorization: Bearer abcdefghijk"),
            "Authorization: Bearer [REDACTED]"
        );
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        let text = "trace 0123456789abcdef0123456789abcdef: rate limit (1002), voice_id MyVoice01";
        assert!(matches!(scrub_text(text), Cow::Borrowed(_)));
    }

    #[test]
    fn redacts_secret_fields_in_json() {
        let mut value = json!({
            "api_key": "anything",
            "headers": {"Authorization": "Bearer x", "Content-Type": "application/json"},
            "args": ["prompt", "sk-live-0123456789abcdefghij"],
            "keys": 3,
            "access_token": null
        });
        scrub_json(&mut value);
        assert_eq!(
            value,
            json!({
                "api_key": REDACTED,
                "headers": {"Authorization": REDACTED, "Content-Type": "application/json"},
                "args": ["prompt", REDACTED],
                "keys": 3,
                "access_token": null
            })
        );
    }
}
