use super::*;

fn api_error(outcome: Outcome) -> ApiError {
    match outcome {
        Outcome::ApiError(e) => e,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn malformed(outcome: Outcome) -> Malformed {
    match outcome {
        Outcome::Malformed(m) => m,
        other => panic!("expected a malformed response, got {other:?}"),
    }
}

#[test]
fn native_success_and_error() {
    let ok = br#"{"id":"chat-1","choices":[{"message":{"content":"hi"}}],"base_resp":{"status_code":0,"status_msg":""}}"#;
    let outcome = classify(ok, 200, &(), Endpoint::Chat);
    assert!(outcome.is_success());
    assert_eq!(outcome.trace_id(), Some("chat-1"));

    let err =
        br#"{"choices":null,"base_resp":{"status_code":1008,"status_msg":"insufficient balance"}}"#;
    let e = api_error(classify(err, 200, &(), Endpoint::Chat));
    assert_eq!(e.code, ErrorCode::INSUFFICIENT_BALANCE);
    assert_eq!(e.server_message, "insufficient balance");
    assert_eq!(e.dialect, Dialect::Native);
    assert_eq!(e.code_origin, CodeOrigin::BaseResp);
    assert_eq!(e.http_status, 200);
}

#[test]
fn status_code_as_string_is_read() {
    let e = api_error(classify(
        br#"{"base_resp":{"status_code":"2013","status_msg":"x"}}"#,
        200,
        &(),
        Endpoint::T2a,
    ));
    assert_eq!(e.code, ErrorCode::INVALID_PARAMS);
}

#[test]
fn endpoint_changes_retry_of_1039() {
    let body = br#"{"base_resp":{"status_code":1039,"status_msg":"token limit"}}"#;
    assert!(!classify(body, 200, &(), Endpoint::Chat).is_retryable());
    assert!(classify(body, 200, &(), Endpoint::T2a).is_retryable());
}

#[test]
fn compatible_envelope_code_from_message() {
    let body = br#"{"type":"error","error":{"type":"rate_limit_error","message":"rate limit exceeded(RPM) (1002)","http_code":"429"},"request_id":"req-9"}"#;
    let e = api_error(classify(body, 429, &(), Endpoint::ChatCompatible));
    assert_eq!(e.code, ErrorCode::RATE_LIMIT);
    assert_eq!(e.code_origin, CodeOrigin::Message);
    assert_eq!(e.error_type.as_deref(), Some("rate_limit_error"));
    assert_eq!(e.trace_id.as_deref(), Some("req-9"));
    assert_eq!(e.dialect, Dialect::Compatible);
}

#[test]
fn compatible_envelope_without_code_uses_type_then_status() {
    let body = br#"{"type":"error","error":{"type":"overloaded_error","message":"busy"}}"#;
    let e = api_error(classify(body, 529, &(), Endpoint::Anthropic));
    assert_eq!(
        (e.code, e.code_origin),
        (ErrorCode::SERVER_OVERLOADED, CodeOrigin::ErrorType)
    );

    let body = br#"{"error":{"type":"mystery","message":"nope"}}"#;
    let e = api_error(classify(body, 401, &(), Endpoint::ChatCompatible));
    assert_eq!(
        (e.code, e.code_origin),
        (ErrorCode::UNAUTHORIZED, CodeOrigin::HttpStatus)
    );

    let m = malformed(classify(body, 418, &(), Endpoint::ChatCompatible));
    assert_eq!(m.kind, MalformedKind::UnexpectedShape);
    assert!(m.detail.contains("mystery"), "{}", m.detail);
}

#[test]
fn error_inside_http_200_is_still_an_error() {
    let body = br#"{"error":{"message":"invalid params (2013)"}}"#;
    assert_eq!(
        api_error(classify(body, 200, &(), Endpoint::Other)).code,
        ErrorCode::INVALID_PARAMS
    );
    let body = br#"{"error":"quota gone (2056)"}"#;
    assert_eq!(
        api_error(classify(body, 200, &(), Endpoint::Other)).code,
        ErrorCode::USAGE_LIMIT_EXCEEDED
    );
    // `"error": null` is not an error.
    assert!(classify(br#"{"error":null,"data":1}"#, 200, &(), Endpoint::Other).is_success());
}

#[test]
fn code_in_message_variants() {
    assert_eq!(code_in_message("bad (2013)"), Some(2013));
    assert_eq!(code_in_message("bad (2013). "), Some(2013));
    assert_eq!(code_in_message("rate(RPM) limit"), None);
    assert_eq!(code_in_message("(abc)"), None);
    assert_eq!(code_in_message("()"), None);
    assert_eq!(code_in_message("x (12345678901)"), None);
}

#[test]
fn trace_id_prefers_header_then_body() {
    let body = br#"{"trace_id":"body-trace","base_resp":{"status_code":1001,"status_msg":""}}"#;
    let headers = vec![("trace-id".to_string(), "header-trace".to_string())];
    assert_eq!(
        classify(body, 200, &headers, Endpoint::T2a).trace_id(),
        Some("header-trace")
    );
    assert_eq!(
        classify(body, 200, &(), Endpoint::T2a).trace_id(),
        Some("body-trace")
    );
    let mut map = http::HeaderMap::new();
    map.insert("x-mm-request-id", http::HeaderValue::from_static("mm-1"));
    assert_eq!(
        classify(b"{}", 200, &map, Endpoint::T2a).trace_id(),
        Some("mm-1")
    );
    // A numeric id is still an id; control characters are dropped.
    assert_eq!(
        classify(br#"{"id":42}"#, 200, &(), Endpoint::Image).trace_id(),
        Some("42")
    );
    assert_eq!(
        classify(br#"{"trace_id":"a\nb"}"#, 200, &(), Endpoint::T2a).trace_id(),
        Some("ab")
    );
}

#[test]
fn malformed_bodies_are_described() {
    let m = malformed(classify(b"", 200, &(), Endpoint::Chat));
    assert_eq!(m.kind, MalformedKind::Empty);
    assert!(m.is_retryable());

    let html = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
    let m = malformed(classify(html, 502, &[("Trace-Id", "t-1")], Endpoint::Chat));
    assert_eq!(m.kind, MalformedKind::Html);
    assert_eq!(m.detail, "HTML page instead of JSON: 502 Bad Gateway");
    assert_eq!(m.trace_id.as_deref(), Some("t-1"));
    assert!(m.is_retryable());

    let m = malformed(classify(
        br#"{"base_resp":{"status_code":0,"status_msg":"ok"},"data":{"audio":"abcd"#,
        200,
        &(),
        Endpoint::T2a,
    ));
    assert_eq!(m.kind, MalformedKind::Truncated);
    assert!(m.is_retryable());

    let m = malformed(classify(b"Internal Server Error", 500, &(), Endpoint::Chat));
    assert_eq!(m.kind, MalformedKind::NotJson);
    assert!(m.detail.contains("Internal Server Error"), "{}", m.detail);

    let m = malformed(classify(b"[1,2]", 200, &(), Endpoint::Chat));
    assert_eq!(m.kind, MalformedKind::UnexpectedShape);
    assert!(!m.is_retryable());

    let m = malformed(classify(
        br#"{"base_resp":{"status_msg":"?"}}"#,
        200,
        &(),
        Endpoint::Chat,
    ));
    assert_eq!(m.kind, MalformedKind::UnexpectedShape);

    let m = malformed(classify(br#"{"detail":"x"}"#, 503, &(), Endpoint::Chat));
    assert_eq!(m.kind, MalformedKind::UnexpectedStatus);
    assert!(m.is_retryable());

    let m = malformed(classify(b"\xff\xfe\x00garbage", 200, &(), Endpoint::Chat));
    assert_eq!(m.kind, MalformedKind::NotJson);
}

#[test]
fn byte_order_mark_and_whitespace_are_skipped() {
    let body = b"\xEF\xBB\xBF \n{\"base_resp\":{\"status_code\":2049,\"status_msg\":\"\"}}\n";
    assert_eq!(
        api_error(classify(body, 200, &(), Endpoint::Chat)).code,
        ErrorCode::INVALID_API_KEY
    );
}

#[test]
fn large_t2a_body_is_classified() {
    let hex = "ab".repeat(2 * 1024 * 1024);
    let body = format!(
        r#"{{"data":{{"audio":"{hex}","status":2}},"extra_info":{{"audio_length":1000}},"trace_id":"t2a-1","base_resp":{{"status_code":0,"status_msg":"success"}}}}"#
    );
    let outcome = classify(body.as_bytes(), 200, &(), Endpoint::T2a);
    assert!(outcome.is_success());
    assert_eq!(outcome.trace_id(), Some("t2a-1"));
}

mod streams {
    use super::*;

    const SSE: &[(&str, &str)] = &[("content-type", "text/event-stream")];

    #[test]
    fn clean_t2a_stream_is_success() {
        let body = concat!(
            "data: {\"data\":{\"audio\":\"aa\",\"status\":1},\"trace_id\":\"s-1\",\"base_resp\":{\"status_code\":0,\"status_msg\":\"\"}}\n\n",
            "data: {\"data\":{\"audio\":\"bb\",\"status\":1},\"trace_id\":\"s-1\",\"base_resp\":{\"status_code\":0,\"status_msg\":\"\"}}\n\n",
            "data: {\"data\":{\"audio\":\"\",\"status\":2},\"extra_info\":{},\"trace_id\":\"s-1\",\"base_resp\":{\"status_code\":0,\"status_msg\":\"success\"}}\n\n",
        );
        let Outcome::Success(s) = classify(body.as_bytes(), 200, SSE, Endpoint::T2a) else {
            panic!()
        };
        assert_eq!(
            s.stream,
            Some(StreamSummary {
                data_events: 3,
                done_marker: false,
                finished: true,
            })
        );
        assert_eq!(s.trace_id.as_deref(), Some("s-1"));
    }

    #[test]
    fn error_after_some_chunks() {
        let body = concat!(
            "data: {\"data\":{\"audio\":\"aa\",\"status\":1},\"base_resp\":{\"status_code\":0}}\r\n\r\n",
            ": keep-alive\r\n\r\n",
            "data: {\"data\":{\"audio\":\"bb\",\"status\":1},\"base_resp\":{\"status_code\":0}}\r\n\r\n",
            "data: {\"data\":null,\"trace_id\":\"s-2\",\"base_resp\":{\"status_code\":2054,\"status_msg\":\"voice id not exist\"}}\r\n\r\n",
        );
        let e = api_error(classify(body.as_bytes(), 200, &(), Endpoint::T2a));
        assert_eq!(e.code, ErrorCode::VOICE_NOT_FOUND);
        assert_eq!(
            e.stream,
            Some(StreamSummary {
                data_events: 2,
                done_marker: false,
                finished: false,
            })
        );
        assert_eq!(e.trace_id.as_deref(), Some("s-2"));
    }

    #[test]
    fn error_before_any_data() {
        let body = "data: {\"base_resp\":{\"status_code\":1002,\"status_msg\":\"rate limit\"}}\n\n";
        let e = api_error(classify(body.as_bytes(), 200, SSE, Endpoint::Chat));
        assert_eq!(e.code, ErrorCode::RATE_LIMIT);
        assert_eq!(e.stream.map(|s| s.data_events), Some(0));
    }

    #[test]
    fn anthropic_error_event() {
        let body = concat!(
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m1\"}}\n\n",
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"high load (2064)\"}}\n\n",
        );
        let e = api_error(classify(body.as_bytes(), 200, SSE, Endpoint::Anthropic));
        assert_eq!(e.code, ErrorCode::SERVER_OVERLOADED);
        assert_eq!(e.stream.map(|s| s.data_events), Some(1));
    }

    #[test]
    fn error_event_without_a_code_is_not_success() {
        let body = "event: error\ndata: {\"note\":\"something\"}\n\n";
        assert_eq!(
            malformed(classify(body.as_bytes(), 200, SSE, Endpoint::Anthropic)).kind,
            MalformedKind::UnexpectedShape
        );
    }

    #[test]
    fn chat_stream_with_done_marker() {
        let body = concat!(
            "data: {\"id\":\"c-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n",
            "data: {\"id\":\"c-1\",\"choices\":[],\"usage\":{\"total_tokens\":3},\"base_resp\":{\"status_code\":0,\"status_msg\":\"\"}}\n\n",
            "data: [DONE]\n\n",
        );
        let Outcome::Success(s) = classify(body.as_bytes(), 200, SSE, Endpoint::ChatCompatible)
        else {
            panic!()
        };
        assert_eq!(
            s.stream,
            Some(StreamSummary {
                data_events: 2,
                done_marker: true,
                finished: true,
            })
        );
        assert_eq!(s.trace_id.as_deref(), Some("c-1"));
    }

    #[test]
    fn a_stream_that_stops_between_events_without_its_end_marker_was_cut_off() {
        let chunk = |word: &str| {
            format!("data: {{\"choices\":[{{\"delta\":{{\"content\":\"{word}\"}}}}]}}\n\n")
        };
        let cut = format!("{}{}", chunk("one "), chunk("two "));
        for endpoint in [Endpoint::Chat, Endpoint::ChatCompatible, Endpoint::Other] {
            let m = malformed(classify(cut.as_bytes(), 200, SSE, endpoint));
            assert_eq!(m.kind, MalformedKind::Truncated, "{endpoint}");
            assert!(m.detail.contains("after 2 data events"), "{}", m.detail);
            assert!(m.is_retryable());
        }
        let finished = format!(
            "{cut}data: {{\"choices\":[{{\"delta\":{{}},\"finish_reason\":\"stop\"}}]}}\n\n"
        );
        assert!(classify(finished.as_bytes(), 200, SSE, Endpoint::Chat).is_success());
        let t2a_cut = "data: {\"data\":{\"audio\":\"aa\",\"status\":1},\"base_resp\":{\"status_code\":0}}\n\n";
        assert_eq!(
            malformed(classify(t2a_cut.as_bytes(), 200, SSE, Endpoint::T2a)).kind,
            MalformedKind::Truncated
        );
        let anthropic = "event: message_start\ndata: {\"type\":\"message_start\"}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
        assert!(classify(anthropic.as_bytes(), 200, SSE, Endpoint::Anthropic).is_success());
    }

    #[test]
    fn multi_line_data_is_joined() {
        let body = "data: {\"base_resp\":\ndata: {\"status_code\":1001,\"status_msg\":\"t\"}}\n\n";
        assert_eq!(
            api_error(classify(body.as_bytes(), 200, SSE, Endpoint::Chat)).code,
            ErrorCode::TIMEOUT
        );
    }

    #[test]
    fn cut_stream_is_truncated() {
        let body = "data: {\"data\":{\"audio\":\"aa\"},\"base_resp\":{\"status_code\":0}}\n\ndata: {\"data\":{\"audio\":\"bb";
        let m = malformed(classify(body.as_bytes(), 200, SSE, Endpoint::T2a));
        assert_eq!(m.kind, MalformedKind::Truncated);
        assert!(m.detail.contains("after 1 data events"), "{}", m.detail);
    }

    #[test]
    fn last_event_without_blank_line_still_counts() {
        let body = "data: {\"base_resp\":{\"status_code\":1027,\"status_msg\":\"\"}}";
        assert_eq!(
            api_error(classify(body.as_bytes(), 200, SSE, Endpoint::VideoQuery))
                .info()
                .message
                .en,
            "generated video flagged as sensitive"
        );
    }

    #[test]
    fn garbage_events_and_empty_streams() {
        assert_eq!(
            malformed(classify(b"data: not json\n\n", 200, SSE, Endpoint::Chat)).kind,
            MalformedKind::NotJson
        );
        assert_eq!(
            malformed(classify(b": only a comment\n\n", 200, SSE, Endpoint::Chat)).kind,
            MalformedKind::Empty
        );
    }

    #[test]
    fn stream_answered_with_plain_json() {
        let body = br#"{"base_resp":{"status_code":1004,"status_msg":"auth"}}"#;
        assert_eq!(
            api_error(classify(body, 200, SSE, Endpoint::Chat)).code,
            ErrorCode::UNAUTHORIZED
        );
    }
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    fn fragments() -> impl Strategy<Value = Vec<u8>> {
        let pieces = prop::sample::select(vec![
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "\"",
            "\\",
            "base_resp",
            "status_code",
            "status_msg",
            "error",
            "message",
            "type",
            "trace_id",
            "(1002)",
            "0",
            "-1",
            "99999999999999999999",
            "null",
            "data: ",
            "event: error\n",
            "\n",
            "\r\n",
            "\n\n",
            "[DONE]",
            "<title>",
            "</title>",
            "<",
            "\u{FEFF}",
            "é",
            "\u{200B}",
        ]);
        prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat().into_bytes())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..512), status in any::<u16>()) {
            let outcome = classify(&body, status, &(), Endpoint::Other);
            prop_assert_eq!(outcome.http_status(), status);
        }

        #[test]
        fn json_and_sse_shaped_fragments(body in fragments(), status in prop::sample::select(vec![200u16, 400, 429, 500, 529])) {
            let headers = [("content-type", "text/event-stream")];
            let _ = classify(&body, status, &headers, Endpoint::T2a);
            let outcome = classify(&body, status, &(), Endpoint::Chat);
            // Whatever happens, a described failure never has an empty description.
            if let Outcome::Malformed(m) = outcome {
                prop_assert!(!m.detail.is_empty());
            }
        }

        #[test]
        fn any_native_code_round_trips(code in any::<i64>(), msg in "\\PC{0,40}") {
            let body = serde_json::json!({"base_resp": {"status_code": code, "status_msg": msg}}).to_string();
            let outcome = classify(body.as_bytes(), 200, &(), Endpoint::Chat);
            if code == 0 {
                prop_assert!(outcome.is_success());
            } else {
                let Outcome::ApiError(e) = outcome else { panic!("expected error") };
                prop_assert_eq!(e.code.as_i64(), code);
            }
        }
    }
}

#[test]
fn nothing_taken_from_an_answer_keeps_a_key() {
    let key = "sk-api-0123456789abcdefABCDEF0123";
    let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJHcm91cE5hbWUiOiJ4In0.c2lnbmF0dXJlMTIz";
    let body =
        format!(r#"{{"base_resp":{{"status_code":1004,"status_msg":"bad key {key} / {jwt}"}}}}"#);
    let e = api_error(classify(
        body.as_bytes(),
        200,
        &[("Trace-Id", key)],
        Endpoint::Chat,
    ));
    assert!(!e.server_message.contains(key) && !e.server_message.contains(jwt));
    assert!(
        e.server_message.contains("[REDACTED]"),
        "{}",
        e.server_message
    );
    assert_eq!(e.trace_id.as_deref(), Some("[REDACTED]"));
    let envelope = format!(r#"{{"error":{{"type":"authorized_error","message":"{key} (1004)"}}}}"#);
    let e = api_error(classify(
        envelope.as_bytes(),
        401,
        &(),
        Endpoint::ChatCompatible,
    ));
    assert!(!e.server_message.contains(key), "{}", e.server_message);
    // Excerpts of unreadable answers, even when the key sits where the excerpt is cut.
    for padding in 0..40 {
        let text = format!(
            "{}{key} trailing text that is long enough",
            "x".repeat(padding)
        );
        let m = malformed(classify(text.as_bytes(), 500, &(), Endpoint::Other));
        assert!(!m.detail.contains(&key[..20]), "{}", m.detail);
    }
    let page = format!("<html><title>{key}</title></html>");
    assert!(
        !malformed(classify(page.as_bytes(), 502, &(), Endpoint::Other))
            .detail
            .contains(key)
    );
}

mod new_user_reports {
    use super::*;

    #[test]
    fn the_minimax_code_wins_over_a_trailing_http_status() {
        let body = br#"{"type":"error","error":{"type":"overloaded_error","message":"server cluster under high load (2064) (529)"}}"#;
        let e = api_error(classify(body, 529, &(), Endpoint::Anthropic));
        assert_eq!(e.code, ErrorCode::SERVER_OVERLOADED);
        assert!(classify(body, 529, &(), Endpoint::Anthropic).is_retryable());
        // Only an unknown number: error.type decides.
        let body =
            br#"{"type":"error","error":{"type":"overloaded_error","message":"busy (529)"}}"#;
        let e = api_error(classify(body, 529, &(), Endpoint::Anthropic));
        assert_eq!(
            (e.code, e.code_origin),
            (ErrorCode::SERVER_OVERLOADED, CodeOrigin::ErrorType)
        );
        // The code is the last known number in parentheses, not the first number.
        let body = br#"{"error":{"type":"api_error","message":"unknown error, 999 (1000)"}}"#;
        assert_eq!(
            api_error(classify(body, 500, &(), Endpoint::Anthropic)).code,
            ErrorCode::UNKNOWN_ERROR
        );
    }

    #[test]
    fn an_empty_body_or_an_error_beside_status_0_is_not_a_success() {
        for body in [&b"{}"[..], br#"{"base_resp":null,"data":null}"#] {
            assert_eq!(
                malformed(classify(body, 200, &(), Endpoint::Chat)).kind,
                MalformedKind::UnexpectedShape
            );
        }
        let body = br#"{"base_resp":{"status_code":0},"error":{"message":"rate limit (1002)"}}"#;
        assert_eq!(
            api_error(classify(body, 200, &(), Endpoint::Chat)).code,
            ErrorCode::RATE_LIMIT
        );
        // Still successes: status 0 alone, and any content.
        assert!(
            classify(
                br#"{"base_resp":{"status_code":0,"status_msg":"ok"}}"#,
                200,
                &(),
                Endpoint::VoiceClone
            )
            .is_success()
        );
        assert!(
            classify(
                br#"{"id":"c1","choices":[]}"#,
                200,
                &(),
                Endpoint::ChatCompatible
            )
            .is_success()
        );
    }

    #[test]
    fn integral_float_codes_are_codes_and_huge_ones_are_quoted_as_sent() {
        let body = br#"{"base_resp":{"status_code":1002.0,"status_msg":"rate limit"}}"#;
        assert_eq!(
            api_error(classify(body, 200, &(), Endpoint::Chat)).code,
            ErrorCode::RATE_LIMIT
        );
        let body = br#"{"base_resp":{"status_code":1e20}}"#;
        let m = malformed(classify(body, 200, &(), Endpoint::Chat));
        assert!(
            m.detail.contains("1e20") && !m.detail.contains("1e+20"),
            "{}",
            m.detail
        );
        let body = br#"{"base_resp":{"status_code":1002.5}}"#;
        assert_eq!(
            malformed(classify(body, 200, &(), Endpoint::Chat)).kind,
            MalformedKind::UnexpectedShape
        );
    }

    #[test]
    fn a_gateway_page_naming_502_is_worth_a_retry_whatever_status_came_with_it() {
        let page = b"<html><head><title>502 Bad Gateway</title></head></html>";
        let m = malformed(classify(page, 200, &(), Endpoint::Other));
        assert_eq!(m.http_status, 502);
        assert!(m.is_retryable());
        let plain = b"<html><title>Welcome</title></html>";
        assert!(!malformed(classify(plain, 200, &(), Endpoint::Other)).is_retryable());
    }
}
