//! No part of a key, of any shape MiniMax issues, survives in what classification and the
//! bounded texts give out: every key is cut at every length (as a server, a proxy or a bound of
//! ours may cut it) and put where an answer carries text (trace ids in headers and bodies,
//! messages in both dialects, bodies that are not JSON); no 16 characters of it may be left.

use minimax_errors::ErrorReport;
use minimax_errors::classify::{Outcome, classify};
use minimax_errors::scrub::{scrub_bounded, scrub_text};
use minimax_errors::{Endpoint, classify::bounded};
use proptest::prelude::*;
use std::collections::HashSet;

/// The shortest run of a key's characters that counts as a leak.
const LEAK: usize = 16;

/// The first run of `LEAK` characters of `key` that `output` contains (keys are ASCII).
fn leaked(key: &str, output: &str) -> Option<String> {
    let runs: HashSet<&[u8]> = key.as_bytes().windows(LEAK).collect();
    output
        .as_bytes()
        .windows(LEAK)
        .find(|run| runs.contains(run))
        .map(|run| String::from_utf8_lossy(run).into_owned())
}

fn base64url(length: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(
        proptest::sample::select(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".to_vec(),
        ),
        length,
    )
    .prop_map(|bytes| String::from_utf8(bytes).unwrap_or_default())
}

/// The key shapes MiniMax issues: pay-as-you-go `sk-api-…`, subscription `sk-cp-…`, and the
/// JWT-shaped keys (`eyJ…` header, a payload naming the group, a signature).
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        base64url(90).prop_map(|rest| format!("sk-api-{rest}")),
        base64url(90).prop_map(|rest| format!("sk-cp-{rest}")),
        (base64url(220), base64url(342)).prop_map(|(payload, signature)| format!(
            "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJHcm91cE5hbWUiOi{payload}.{signature}"
        )),
    ]
}

/// Every text that classifying an answer carrying `text` gives out: the outcome's fields (its
/// `Debug`), its `Display`, and the report built from it.
fn outputs(text: &str) -> Vec<String> {
    let quoted = serde_json::to_string(text).unwrap_or_default();
    let bodies = [
        format!(
            r#"{{"trace_id":{quoted},"base_resp":{{"status_code":1002,"status_msg":{quoted}}}}}"#
        ),
        format!(
            r#"{{"type":"error","error":{{"type":"rate_limit_error","message":{quoted}}},"request_id":{quoted}}}"#
        ),
        format!(r#"{{"base_resp":{{"status_code":{quoted}}}}}"#),
        format!("<html><title>502 {text}</title></html>"),
        format!("data: {{\"base_resp\":{{\"status_code\":1002,\"status_msg\":{quoted}}}}}\n\n"),
        text.to_string(),
        format!("[{text}]"),
    ];
    let headers = [("Trace-Id", text)];
    let mut out = vec![scrub_text(text).into_owned(), bounded(text)];
    for max in [8, 16, 60, 128, 500] {
        out.push(scrub_bounded(text, max));
    }
    for body in &bodies {
        for outcome in [
            classify(body.as_bytes(), 200, &headers, Endpoint::Chat),
            classify(body.as_bytes(), 429, &(), Endpoint::ChatCompatible),
        ] {
            out.push(format!("{outcome:?}"));
            match &outcome {
                Outcome::ApiError(error) => {
                    out.push(error.to_string());
                    let report = ErrorReport::from_api_error(error, minimax_errors::Lang::En);
                    out.push(serde_json::to_string(&report).unwrap_or_default());
                }
                Outcome::Malformed(malformed) => out.push(malformed.to_string()),
                _ => {}
            }
        }
    }
    out
}

/// A key cut at `length` and put in text, glued to it or apart.
fn placements(key: &str, length: usize) -> Vec<String> {
    let cut = &key[..length];
    let long = "x".repeat(130);
    vec![
        cut.to_string(),
        format!("invalid api key {cut}"),
        format!("abc{cut}"),
        format!("{cut} (2049)"),
        format!("{long}{cut}"),
        format!("{}{cut}", "y".repeat(490)),
        format!("Bearer {cut}"),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(9))]

    #[test]
    fn no_key_leaks_cut_at_any_length(key in key()) {
        // Every length through the first bounds (128, the longest prefix pattern's reach),
        // then every 13th, and the whole key.
        let lengths = (LEAK..=key.len()).filter(|&l| l <= 160 || l % 13 == 0 || l == key.len());
        for length in lengths {
            // Each length in one placement, each placement at every seventh length.
            let texts = placements(&key, length);
            let text = &texts[length % texts.len()];
            {
                for output in outputs(text) {
                    prop_assert!(
                        leaked(&key, &output).is_none(),
                        "{length} characters of a key, in {text:?}, left {:?} in {output:?}",
                        leaked(&key, &output)
                    );
                }
            }
        }
    }
}

#[test]
fn a_jwt_in_a_long_trace_id_is_gone_whole() {
    // The case that leaked: a trace id longer than the bound, holding a JWT-shaped key.
    let key = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJHcm91cE5hbWUiOiJ0ZXN0LWdyb3VwIiwiVXNlck5hbWUiOiJ0ZXN0LXVzZXIiLCJBY2NvdW50IjoiIiwiU3ViamVjdElEIjoiMTg2MTIzNDU2Nzg5MDEyMzQ1NiIsIlBob25lIjoiIn0.c2lnbmF0dXJlLXRoYXQtaXMtbG9uZy1lbm91Z2gtdG8tbWF0dGVy";
    let headers = [("Trace-Id", format!("trace-{key}"))];
    let outcome = classify(
        br#"{"base_resp":{"status_code":1002,"status_msg":"rate limit"}}"#,
        200,
        &headers,
        Endpoint::Chat,
    );
    let trace = outcome.trace_id().unwrap_or_default();
    assert_eq!(trace, "trace-[REDACTED]");
}

#[test]
fn ordinary_trace_ids_and_messages_are_kept() {
    let headers = [("Trace-Id", "0123456789abcdef0123456789abcdef")];
    let outcome = classify(
        br#"{"base_resp":{"status_code":2013,"status_msg":"invalid params, voice_id MyVoice01"}}"#,
        200,
        &headers,
        Endpoint::T2a,
    );
    let Outcome::ApiError(error) = outcome else {
        panic!("an API error")
    };
    assert_eq!(
        error.trace_id.as_deref(),
        Some("0123456789abcdef0123456789abcdef")
    );
    assert_eq!(error.server_message, "invalid params, voice_id MyVoice01");
    assert_eq!(scrub_bounded("abcdef", 3), "abc…");
    assert_eq!(scrub_bounded("abc", 3), "abc");
}
