//! What the server says about retrying: `retry-after-ms`, `retry-after` (seconds or an HTTP
//! date) and `x-should-retry: true|false`, as the OpenAI SDK honours them.

use http::HeaderMap;
use std::time::{Duration, SystemTime};

/// The server's retry hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ServerHints {
    /// How long the server asks to wait.
    pub retry_after: Option<Duration>,
    /// `x-should-retry`: the server's own verdict, which overrides the catalog.
    pub should_retry: Option<bool>,
}

impl ServerHints {
    /// Reads the hints from response headers, as of `now`.
    pub fn from_headers(headers: &HeaderMap, now: SystemTime) -> ServerHints {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        };
        let millis = text("retry-after-ms")
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|ms| ms.is_finite() && *ms >= 0.0);
        let retry_after = millis
            .map(|ms| Duration::from_secs_f64(ms / 1000.0))
            .or_else(|| {
                let value = text("retry-after")?;
                match value.parse::<f64>() {
                    Ok(secs) if secs.is_finite() && secs >= 0.0 => {
                        Some(Duration::from_secs_f64(secs))
                    }
                    Ok(_) => None,
                    Err(_) => httpdate::parse_http_date(value)
                        .ok()
                        .map(|at| at.duration_since(now).unwrap_or(Duration::ZERO)),
                }
            });
        let should_retry = match text("x-should-retry")
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => None,
        };
        ServerHints {
            retry_after,
            should_retry,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (http::HeaderName::from_static(k), v.parse().unwrap()))
            .collect()
    }

    #[test]
    fn reads_every_form() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            ServerHints::from_headers(&headers(&[("retry-after-ms", "1500")]), now).retry_after,
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            ServerHints::from_headers(&headers(&[("retry-after", "3")]), now).retry_after,
            Some(Duration::from_secs(3))
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(
            ServerHints::from_headers(&headers(&[("retry-after", &date)]), now).retry_after,
            Some(Duration::from_secs(7))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(
            ServerHints::from_headers(&headers(&[("retry-after", &past)]), now).retry_after,
            Some(Duration::ZERO)
        );
        assert_eq!(
            ServerHints::from_headers(&headers(&[("retry-after", "soon")]), now).retry_after,
            None
        );
        assert_eq!(
            ServerHints::from_headers(&headers(&[("retry-after", "-1")]), now).retry_after,
            None
        );
        // The millisecond header wins.
        let both = headers(&[("retry-after-ms", "250"), ("retry-after", "9")]);
        assert_eq!(
            ServerHints::from_headers(&both, now).retry_after,
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            ServerHints::from_headers(&headers(&[("x-should-retry", "FALSE")]), now).should_retry,
            Some(false)
        );
        assert_eq!(
            ServerHints::from_headers(&headers(&[("x-should-retry", "true")]), now).should_retry,
            Some(true)
        );
        assert_eq!(
            ServerHints::from_headers(&HeaderMap::new(), now),
            ServerHints::default()
        );
    }
}
