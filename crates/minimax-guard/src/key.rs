//! The API key, held so that it cannot leak: `Debug` and `Display` print `[REDACTED]`, and the
//! text is only reachable through `expose_secret`, at the one place a request is signed.

use secrecy::{ExposeSecret, SecretString};
use std::fmt;

/// A MiniMax API key.
///
/// ```
/// use minimax_guard::ApiKey;
/// let key = ApiKey::new("sk-api-very-secret-0123456789");
/// assert_eq!(format!("{key:?}"), "ApiKey([REDACTED])");
/// assert_eq!(key.to_string(), "[REDACTED]");
/// ```
#[derive(Clone)]
pub struct ApiKey(SecretString);

/// What kind of key it is, told by its prefix alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyKind {
    /// `sk-api-…`: pay-as-you-go, spends the account balance.
    PayAsYouGo,
    /// `sk-cp-…`: a subscription key (Token Plan / Coding Plan, prepaid Credits).
    Subscription,
    /// Any other form.
    Unknown,
}

impl KeyKind {
    /// The kind of `key`.
    pub fn of(key: &str) -> KeyKind {
        let key = key.trim();
        if key.starts_with("sk-api-") {
            KeyKind::PayAsYouGo
        } else if key.starts_with("sk-cp-") {
            KeyKind::Subscription
        } else {
            KeyKind::Unknown
        }
    }

    /// What it means, in `lang`.
    pub fn describe(self, lang: minimax_errors::Lang) -> &'static str {
        use minimax_errors::Lang;
        match (self, lang) {
            (KeyKind::PayAsYouGo, Lang::En) => {
                "pay-as-you-go key (sk-api-): spends the account balance"
            }
            (KeyKind::PayAsYouGo, Lang::Zh) => "按量付费 key（sk-api-）：扣账户余额",
            (KeyKind::Subscription, Lang::En) => {
                "subscription key (sk-cp-): Token Plan / Coding Plan and Credits"
            }
            (KeyKind::Subscription, Lang::Zh) => {
                "订阅 key（sk-cp-）：Token Plan / Coding Plan 与 Credits"
            }
            (KeyKind::Unknown, Lang::En) => "key of unknown kind",
            (KeyKind::Unknown, Lang::Zh) => "未知类型的 key",
        }
    }
}

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> ApiKey {
        ApiKey(SecretString::from(key.into()))
    }

    /// Reads the key from `MINIMAX_API_KEY`.
    pub fn from_env() -> Option<ApiKey> {
        std::env::var("MINIMAX_API_KEY")
            .ok()
            .filter(|k| !k.trim().is_empty())
            .map(ApiKey::new)
    }

    /// What kind of key it is (from its prefix; nothing else of it is kept).
    pub fn kind(&self) -> KeyKind {
        KeyKind::of(self.0.expose_secret())
    }

    /// The account the key belongs to, as the pacer knows it: a fingerprint, never the key.
    pub fn account(&self) -> crate::pacer::AccountId {
        crate::pacer::AccountId::of_key(self.0.expose_secret())
    }

    /// The `Authorization` header value, marked sensitive so HTTP debugging never prints it.
    pub fn header_value(&self) -> Result<http::HeaderValue, http::header::InvalidHeaderValue> {
        let mut value =
            http::HeaderValue::from_str(&format!("Bearer {}", self.0.expose_secret().trim()))?;
        value.set_sensitive(true);
        Ok(value)
    }

    /// The key alone as a header value (`x-api-key`, as Anthropic's SDKs send it), marked
    /// sensitive.
    pub fn bare_header_value(&self) -> Result<http::HeaderValue, http::header::InvalidHeaderValue> {
        let mut value = http::HeaderValue::from_str(self.0.expose_secret().trim())?;
        value.set_sensitive(true);
        Ok(value)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([REDACTED])")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}
