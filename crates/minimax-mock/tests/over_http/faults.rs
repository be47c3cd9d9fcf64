//! Injected faults: codes, gateway pages, cut-off and stalled answers.

use super::*;

#[tokio::test]
async fn sequence_then_success_and_admin_counts() {
    let rate = Action::Code(ErrorCode::RATE_LIMIT);
    let scenario = Scenario::new(5).with(EndpointFaults::on(Some(Endpoint::T2a)).sequence([
        rate,
        rate,
        Action::Ok,
    ]));
    let server = start(config(), scenario).await;
    let mut codes = Vec::new();
    for _ in 0..4 {
        codes.push(
            post(
                &server,
                Endpoint::T2a,
                Some(DEMO_KEY),
                &t2a_body("female-shaonv"),
            )
            .await
            .code(),
        );
    }
    assert_eq!(codes, vec![Some(1002), Some(1002), Some(0), Some(0)]);
    let stats: Value = reqwest::get(format!("{}/__mock/stats", server.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["endpoints"]["t2a"]["requests"], 4);
    assert_eq!(stats["endpoints"]["t2a"]["outcomes"]["1002"], 2);
    assert_eq!(stats["endpoints"]["t2a"]["outcomes"]["success"], 2);
    let reset = reqwest::Client::new()
        .post(format!("{}/__mock/reset", server.url()))
        .send()
        .await
        .unwrap();
    assert!(reset.status().is_success());
    assert_eq!(server.stats().requests, 0);
    assert_eq!(
        post(
            &server,
            Endpoint::T2a,
            Some(DEMO_KEY),
            &t2a_body("female-shaonv")
        )
        .await
        .code(),
        Some(1002),
        "sequence restarts"
    );
}

#[tokio::test]
async fn broken_answers() {
    let faults = EndpointFaults::on(Some(Endpoint::Chat)).sequence([
        Action::Truncate,
        Action::Html502,
        Action::Reset,
        Action::Overloaded,
    ]);
    let compatible =
        EndpointFaults::on(Some(Endpoint::ChatCompatible)).sequence([Action::Overloaded]);
    let server = start(config(), Scenario::new(9).with(faults).with(compatible)).await;

    let truncated = post(&server, Endpoint::Chat, Some(DEMO_KEY), &chat_body()).await;
    let Outcome::Malformed(m) = &truncated.outcome else {
        panic!("{:?}", truncated.outcome)
    };
    assert_eq!(m.kind, MalformedKind::Truncated);
    assert!(m.is_retryable());

    let page = post(&server, Endpoint::Chat, Some(DEMO_KEY), &chat_body()).await;
    let Outcome::Malformed(m) = &page.outcome else {
        panic!()
    };
    assert_eq!((page.status, m.kind), (502, MalformedKind::Html));

    let reset = reqwest::Client::new()
        .post(format!("{}/v1/text/chatcompletion_v2", server.url()))
        .bearer_auth(DEMO_KEY)
        .json(&chat_body())
        .send()
        .await;
    // The connection drops before a complete answer: either the head or the body fails.
    let delivered = match reset {
        Ok(response) => response.bytes().await.is_ok(),
        Err(error) => !(error.is_request() || error.is_body()),
    };
    assert!(!delivered, "no complete answer arrives");

    let native = post(&server, Endpoint::Chat, Some(DEMO_KEY), &chat_body()).await;
    assert_eq!((native.status, native.code()), (200, Some(2064)));
    let overloaded = post(
        &server,
        Endpoint::ChatCompatible,
        Some(DEMO_KEY),
        &chat_body(),
    )
    .await;
    assert_eq!((overloaded.status, overloaded.code()), (529, Some(2064)));
    assert_eq!(overloaded.json()["error"]["type"], "overloaded_error");

    let stats = server.stats();
    for outcome in ["truncate", "html_502", "reset", "2064"] {
        assert_eq!(stats.count("chat", outcome), 1, "{outcome}");
    }
}

#[tokio::test]
async fn stalls_outlast_a_client_timeout() {
    let scenario = Scenario::new(2).with(
        EndpointFaults::on(Some(Endpoint::Chat))
            .sequence([Action::Stall])
            .stall_ms(2_000),
    );
    let server = start(config(), scenario).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let error = client
        .post(format!("{}/v1/text/chatcompletion_v2", server.url()))
        .bearer_auth(DEMO_KEY)
        .json(&chat_body())
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout());
}

#[tokio::test]
async fn retry_after_goes_only_with_answers_worth_a_retry() {
    let scenario = Scenario::new(3).with(EndpointFaults {
        retry_after_ms: Some(250),
        ..EndpointFaults::on(Some(Endpoint::ChatCompatible)).sequence([
            Action::Code(ErrorCode::UNAUTHORIZED),
            Action::Code(ErrorCode::INPUT_SENSITIVE),
            Action::Code(ErrorCode::RATE_LIMIT),
            Action::Overloaded,
            Action::Html502,
        ])
    });
    let server = start(config(), scenario).await;
    let client = reqwest::Client::new();
    let mut hinted = Vec::new();
    for _ in 0..5 {
        let response = client
            .post(format!("{}/v1/chat/completions", server.url()))
            .bearer_auth(DEMO_KEY)
            .json(&json!({"model": "MiniMax-M2", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap();
        hinted.push(response.headers().contains_key("retry-after-ms"));
    }
    assert_eq!(hinted, [false, false, true, true, true]);
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_json_with_a_trace_id() {
    let server = start(config(), Scenario::default()).await;
    let client = reqwest::Client::new();
    for request in [
        client.get(format!("{}/v1/nothing-here", server.url())),
        client.post(format!("{}/", server.url())),
        client.get(format!("{}/v1/t2a_v2", server.url())),
    ] {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        assert!(matches!(status, 404 | 405), "{status}");
        let trace = response.headers().get("trace-id").cloned();
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["base_resp"]["status_code"], 2013);
        assert_eq!(trace.unwrap().to_str().unwrap(), body["trace_id"]);
    }
}

#[tokio::test]
async fn same_seed_replays_identically() {
    let scenario = || {
        Scenario::new(1234).with(
            EndpointFaults::on(None)
                .random(Action::Code(ErrorCode::RATE_LIMIT), 0.3)
                .random(Action::Code(ErrorCode::TIMEOUT), 0.2)
                .random(Action::Html502, 0.1),
        )
    };
    let mut runs = Vec::new();
    for _ in 0..2 {
        let server = start(config(), scenario()).await;
        let mut outcomes = Vec::new();
        for _ in 0..40 {
            let a = post(&server, Endpoint::Chat, Some(DEMO_KEY), &chat_body()).await;
            outcomes.push((a.status, a.code()));
        }
        runs.push(outcomes);
    }
    assert_eq!(runs[0], runs[1]);
    let failures = runs[0].iter().filter(|(_, c)| *c != Some(0)).count();
    assert!(
        (10..=35).contains(&failures),
        "about 60 % injected: {failures}"
    );
}

#[tokio::test]
async fn every_catalog_code_round_trips_through_both_dialects() {
    let codes: Vec<ErrorCode> = catalog::entries().map(|info| info.code).collect();
    let actions = codes.iter().map(|c| Action::Code(*c));
    let scenario = Scenario::new(0)
        .with(EndpointFaults::on(Some(Endpoint::T2a)).sequence(actions.clone()))
        .with(EndpointFaults::on(Some(Endpoint::ChatCompatible)).sequence(actions));
    let server = start(config(), scenario).await;
    for code in &codes {
        let native = post(
            &server,
            Endpoint::T2a,
            Some(DEMO_KEY),
            &t2a_body("female-shaonv"),
        )
        .await;
        assert_eq!((native.status, native.code()), (200, Some(code.as_i64())));
        assert!(native.json()["trace_id"].is_string());
        let compatible = post(
            &server,
            Endpoint::ChatCompatible,
            Some(DEMO_KEY),
            &chat_body(),
        )
        .await;
        assert_eq!(
            compatible.code(),
            Some(code.as_i64()),
            "{}",
            String::from_utf8_lossy(&compatible.body)
        );
        assert!(compatible.status >= 400);
    }
}

#[tokio::test]
async fn a_streamed_answer_is_spread_over_its_duration_after_its_first_event() {
    use futures_util::StreamExt as _;
    let scenario = Scenario::new(3).with(EndpointFaults {
        stream: minimax_mock::Latency::fixed(Duration::from_millis(1_200)),
        ..EndpointFaults::on(Some(Endpoint::ChatCompatible))
    });
    let server = start(config(), scenario).await;
    let mut body = chat_body();
    body["stream"] = json!(true);
    body["messages"][0]["content"] = json!("one two three four five six seven");
    let started = std::time::Instant::now();
    let response = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", server.url()))
        .bearer_auth(DEMO_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    let mut chunks = response.bytes_stream();
    let first = chunks.next().await.unwrap().unwrap();
    let first_at = started.elapsed();
    let mut text = String::from_utf8_lossy(&first).into_owned();
    while let Some(chunk) = chunks.next().await {
        text.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
    }
    assert!(
        text.starts_with("data: ") && text.ends_with("data: [DONE]\n\n"),
        "{text}"
    );
    assert!(
        first_at < Duration::from_millis(600),
        "first event after {first_at:?}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(1_200),
        "the events were spread: {:?}",
        started.elapsed()
    );
}
