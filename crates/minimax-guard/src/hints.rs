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
        // A server may send anything: huge, negative, fractional or not a number at all. Every
        // value goes through `seconds`, which never panics and caps at a day (callers cap again).
        let retry_after = text("retry-after-ms")
            .and_then(|v| seconds(v, 1000.0))
            .or_else(|| {
                let value = text("retry-after")?;
                match value.parse::<f64>() {
                    Ok(_) => seconds(value, 1.0),
                    Err(_) => httpdate::parse_http_date(value).ok().map(|at| {
                        at.duration_since(now)
                            .unwrap_or(Duration::ZERO)
                            .min(LONGEST)
                    }),
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

/// The longest wait a hint is read as; anything longer is a server's mistake.
const LONGEST: Duration = Duration::from_secs(24 * 3600);

/// A non-negative finite number of `units` per second, as a duration of at most [`LONGEST`].
fn seconds(value: &str, units: f64) -> Option<Duration> {
    let number = value.parse::<f64>().ok()?;
    if !number.is_finite() || number < 0.0 {
        return None;
    }
    Some(Duration::try_from_secs_f64(number / units).map_or(LONGEST, |d| d.min(LONGEST)))
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

    #[test]
    fn huge_values_are_capped_not_a_panic() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        for (name, value) in [
            ("retry-after", "1e20"),
            ("retry-after", "1e308"),
            ("retry-after-ms", "1e300"),
            ("retry-after-ms", "18446744073709551616000"),
            ("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT"),
        ] {
            assert_eq!(
                ServerHints::from_headers(&headers(&[(name, value)]), now).retry_after,
                Some(LONGEST),
                "{name}: {value}"
            );
        }
        for value in ["NaN", "inf", "-0.5", "-1e20"] {
            assert_eq!(
                ServerHints::from_headers(&headers(&[("retry-after", value)]), now).retry_after,
                None,
                "{value}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn any_header_value_is_read_without_panicking(
            value in proptest::collection::vec(proptest::num::u8::ANY, 0..40),
            name in proptest::sample::select(vec!["retry-after", "retry-after-ms", "x-should-retry"]),
        ) {
            if let Ok(value) = http::HeaderValue::from_bytes(&value) {
                let mut map = HeaderMap::new();
                map.insert(name, value);
                let hints = ServerHints::from_headers(&map, SystemTime::now());
                proptest::prop_assert!(hints.retry_after.is_none_or(|d| d <= LONGEST));
            }
        }

        #[test]
        fn any_number_is_read_without_panicking(number in proptest::num::f64::ANY) {
            let mut map = HeaderMap::new();
            map.insert("retry-after", http::HeaderValue::from_str(&number.to_string()).unwrap());
            map.insert("retry-after-ms", http::HeaderValue::from_str(&format!("{number:e}")).unwrap());
            let _ = ServerHints::from_headers(&map, SystemTime::now());
        }
    }
}
