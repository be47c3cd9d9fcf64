//! What is copied between the client and MiniMax, and what is not: hop-by-hop headers stay on
//! their own connection, the client's credentials are replaced when the proxy holds the keys,
//! and a body's length is the new body's.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use minimax_guard::ApiKey;

/// Headers that belong to one connection (RFC 9110 §7.6.1), plus `host` and the length.
const NOT_FORWARDED: [HeaderName; 10] = [
    header::CONNECTION,
    header::HOST,
    header::CONTENT_LENGTH,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::PROXY_AUTHORIZATION,
    header::PROXY_AUTHENTICATE,
    HeaderName::from_static("keep-alive"),
];

/// The key the client presented: `Authorization: Bearer KEY` or `x-api-key: KEY`.
pub(crate) fn presented_key(headers: &HeaderMap) -> Option<ApiKey> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, key) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| key.trim())
        });
    let api_key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    bearer
        .or(api_key)
        .filter(|k| !k.is_empty())
        .map(ApiKey::new)
}

/// The request headers to send upstream: the client's, less the connection's own; with
/// `key`, the client's credentials are replaced by it, in the form the client used.
pub(crate) fn upstream(client: &HeaderMap, key: Option<&ApiKey>) -> HeaderMap {
    let mut out = forwardable(client);
    if let Some(key) = key {
        let used_api_key = out.remove("x-api-key").is_some();
        out.remove(header::AUTHORIZATION);
        let value = if used_api_key {
            key.bare_header_value()
                .map(|v| (HeaderName::from_static("x-api-key"), v))
        } else {
            key.header_value().map(|v| (header::AUTHORIZATION, v))
        };
        if let Ok((name, value)) = value {
            out.insert(name, value);
        }
    }
    out
}

/// The answer's headers to send back, less the connection's own.
pub(crate) fn downstream(upstream: &HeaderMap) -> HeaderMap {
    forwardable(upstream)
}

fn forwardable(headers: &HeaderMap) -> HeaderMap {
    let mut out = headers.clone();
    // Headers the `Connection` header names are the connection's too.
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in NOT_FORWARDED.iter().chain(&named) {
        out.remove(name);
    }
    out
}

/// `x-mmerr-attempts` and `x-mmerr-waited-ms`: what the guard did for this request.
pub(crate) fn report(headers: &mut HeaderMap, attempts: u32, waited: std::time::Duration) {
    headers.insert("x-mmerr-attempts", HeaderValue::from(attempts));
    headers.insert(
        "x-mmerr-waited-ms",
        HeaderValue::from(waited.as_millis().min(u128::from(u64::MAX)) as u64),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_and_replaced_credentials() {
        let mut client = HeaderMap::new();
        client.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, x-secret-hop"),
        );
        client.insert("x-secret-hop", HeaderValue::from_static("1"));
        client.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        client.insert("x-api-key", HeaderValue::from_static("proxy-token"));
        client.insert("anthropic-version", HeaderValue::from_static("2023-06-01"));
        let key = ApiKey::new("sk-api-upstream");
        let out = upstream(&client, Some(&key));
        assert!(out.get(header::CONNECTION).is_none());
        assert!(out.get("x-secret-hop").is_none());
        assert!(out.get(header::HOST).is_none());
        assert_eq!(out.get("x-api-key").unwrap(), "sk-api-upstream");
        assert!(out.get("x-api-key").unwrap().is_sensitive());
        assert!(out.get(header::AUTHORIZATION).is_none());
        assert_eq!(out.get("anthropic-version").unwrap(), "2023-06-01");
        assert!(presented_key(&client).is_some());
        client.remove("x-api-key");
        assert!(presented_key(&client).is_none());
        client.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer   "));
        assert!(presented_key(&client).is_none());
    }
}
