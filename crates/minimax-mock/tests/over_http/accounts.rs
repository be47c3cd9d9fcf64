//! Keys, balances, rate and token limits per account.

use super::*;

#[tokio::test]
async fn keys() {
    let server = start(config(), Scenario::default()).await;
    let missing = post(&server, Endpoint::T2a, None, &t2a_body("female-shaonv")).await;
    assert_eq!((missing.status, missing.code()), (200, Some(1004)));
    let Outcome::ApiError(e) = &missing.outcome else {
        panic!()
    };
    assert!(
        e.server_message.contains("Authorization"),
        "{}",
        e.server_message
    );
    let unknown = post(&server, Endpoint::Chat, Some("no-such-key"), &chat_body()).await;
    assert_eq!(unknown.code(), Some(2049));
    let compatible = post(
        &server,
        Endpoint::ChatCompatible,
        Some("no-such-key"),
        &chat_body(),
    )
    .await;
    assert_eq!((compatible.status, compatible.code()), (401, Some(2049)));
    assert_eq!(compatible.json()["error"]["type"], "authorized_error");
}

#[tokio::test]
async fn rate_limits() {
    let mut config = config();
    config.keys[0].rpm = Some(3);
    let server = start(config, Scenario::default()).await;
    for _ in 0..3 {
        assert_eq!(chat_code(&server, DEMO_KEY).await, Some(0));
    }
    assert_eq!(chat_code(&server, DEMO_KEY).await, Some(1002));
    let compatible = post(
        &server,
        Endpoint::ChatCompatible,
        Some(DEMO_KEY),
        &chat_body(),
    )
    .await;
    assert_eq!((compatible.status, compatible.code()), (429, Some(1002)));
    assert_eq!(compatible.json()["error"]["type"], "rate_limit_error");
    assert!(compatible.outcome.is_retryable());
    // Another key has its own budget.
    assert_eq!(chat_code(&server, OTHER_KEY).await, Some(0));
}

#[tokio::test]
async fn tpm_on_t2a_is_a_retryable_1039() {
    let mut config = config();
    config.keys[0].tpm = Some(12);
    let server = start(config, Scenario::default()).await;
    assert_eq!(
        post(
            &server,
            Endpoint::T2a,
            Some(DEMO_KEY),
            &t2a_body("female-shaonv")
        )
        .await
        .code(),
        Some(0)
    );
    assert_eq!(
        post(
            &server,
            Endpoint::T2a,
            Some(DEMO_KEY),
            &t2a_body("female-shaonv")
        )
        .await
        .code(),
        Some(0)
    );
    let third = post(
        &server,
        Endpoint::T2a,
        Some(DEMO_KEY),
        &t2a_body("female-shaonv"),
    )
    .await;
    assert_eq!(third.code(), Some(1039));
    let Outcome::ApiError(e) = &third.outcome else {
        panic!()
    };
    assert_eq!(e.info().category, Category::Throttling);
}

#[tokio::test]
async fn growth_quota_balance() {
    let mut config = config();
    config.keys[0].growth_factor = Some(1.5);
    config.keys[0].growth_floor = 2;
    config.keys[0].growth_window_secs = 1;
    config.keys[1].quota = Some(2);
    config.keys[1].balance = Some(10);
    let server = start(config, Scenario::default()).await;
    for _ in 0..2 {
        assert_eq!(chat_code(&server, DEMO_KEY).await, Some(0));
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let codes: Vec<_> = futures_util::future::join_all((0..4).map(|_| {
        post_raw(
            &server,
            Endpoint::Chat,
            Some(DEMO_KEY),
            chat_body().to_string().into_bytes(),
        )
    }))
    .await
    .iter()
    .map(Answer::code)
    .collect();
    // The previous window held 2, so this one may hold 3 (2 × 1.5); were the machine so slow
    // that a whole window passed in between, the floor (2) applies instead.
    let refused = codes.iter().filter(|c| **c == Some(2045)).count();
    assert!((1..=2).contains(&refused), "{codes:?}");
    assert_eq!(
        codes.iter().filter(|c| **c == Some(0)).count(),
        4 - refused,
        "{codes:?}"
    );

    assert_eq!(chat_code(&server, OTHER_KEY).await, Some(0));
    assert_eq!(chat_code(&server, OTHER_KEY).await, Some(0));
    let over = post(
        &server,
        Endpoint::ChatCompatible,
        Some(OTHER_KEY),
        &chat_body(),
    )
    .await;
    assert_eq!((over.status, over.code()), (429, Some(2056)));
    assert!(
        !over.outcome.is_retryable(),
        "a quota window is not worth a quick retry"
    );

    let mut broke = MockConfig::default();
    broke.keys[0].balance = Some(1);
    let server = start(broke, Scenario::default()).await;
    assert_eq!(chat_code(&server, DEMO_KEY).await, Some(0));
    let none_left = post(
        &server,
        Endpoint::ChatCompatible,
        Some(DEMO_KEY),
        &chat_body(),
    )
    .await;
    assert_eq!((none_left.status, none_left.code()), (402, Some(1008)));
}

#[tokio::test]
async fn concurrent_connections() {
    let mut config = config();
    config.keys[0].max_concurrent = Some(2);
    let scenario =
        Scenario::new(1).with(EndpointFaults::on(Some(Endpoint::Chat)).latency(300, 300));
    let server = start(config, scenario).await;
    let answers = futures_util::future::join_all((0..3).map(|_| {
        post_raw(
            &server,
            Endpoint::Chat,
            Some(DEMO_KEY),
            chat_body().to_string().into_bytes(),
        )
    }))
    .await;
    let mut codes: Vec<_> = answers.iter().map(Answer::code).collect();
    codes.sort();
    assert_eq!(codes, vec![Some(0), Some(0), Some(1041)]);
}

#[tokio::test]
async fn a_plan_key_runs_out_of_its_window_and_says_when_it_resets() {
    let mut with_plan = config();
    with_plan.keys.push(KeyConfig {
        key: "sk-cp-plan".to_string(),
        name: "plan".to_string(),
        quota: Some(3),
        quota_window_secs: 30,
        weekly_quota: Some(100),
        plan: "Token Plan Plus".to_string(),
        ..KeyConfig::unlimited()
    });
    let server = start(with_plan, Scenario::default()).await;
    for _ in 0..3 {
        assert_eq!(chat_code(&server, "sk-cp-plan").await, Some(0));
    }
    let native = post(&server, Endpoint::Chat, Some("sk-cp-plan"), &chat_body()).await;
    assert_eq!(native.code(), Some(2056));
    let message = native.json()["base_resp"]["status_msg"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.starts_with("usage limit exceeded, 5-hour usage limit reached for Token Plan Plus (3/3 used), resets at "),
        "{message}"
    );
    let exhausted = minimax_errors::quota::Exhausted::read(&message).unwrap();
    let left = exhausted.resets_at.unwrap() - minimax_errors::quota::unix_now();
    assert!((28..=31).contains(&left), "resets in {left} s");
    // The compatible endpoints: HTTP 429, rate_limit_error, the same words and the code.
    for endpoint in [Endpoint::ChatCompatible, Endpoint::Anthropic] {
        let body = if endpoint == Endpoint::Anthropic {
            json!({"model": "MiniMax-M2", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]})
        } else {
            chat_body()
        };
        let a = post(&server, endpoint, Some("sk-cp-plan"), &body).await;
        assert_eq!((a.status, a.code()), (429, Some(2056)), "{endpoint:?}");
        let text = a.json()["error"]["message"].as_str().unwrap().to_string();
        assert!(
            text.contains("resets at ") && text.ends_with("(2056)"),
            "{text}"
        );
        assert_eq!(a.json()["error"]["type"], "rate_limit_error");
    }

    let remains = |key: &str, path: &str| {
        let url = format!("{}{path}", server.url());
        let key = key.to_string();
        async move {
            let response = reqwest::Client::new()
                .get(url)
                .bearer_auth(key)
                .send()
                .await
                .unwrap();
            response.json::<Value>().await.unwrap()
        }
    };
    let plan = remains("sk-cp-plan", "/v1/api/openplatform/coding_plan/remains").await;
    assert_eq!(plan["base_resp"]["status_code"], 0);
    let general = &plan["model_remains"][0];
    assert_eq!(general["model_name"], "general");
    assert_eq!(general["current_interval_remaining_percent"], 0);
    assert_eq!(general["current_weekly_remaining_percent"], 97);
    let end = general["end_time"].as_i64().unwrap();
    assert_eq!(end / 1000, exhausted.resets_at.unwrap());
    assert!(general["weekly_end_time"].as_i64().unwrap() > end);
    let token_plan = remains("sk-cp-plan", "/v1/token_plan/remains").await;
    assert_eq!(token_plan["model_remains"][0]["model_name"], "general");
    let none = remains(DEMO_KEY, "/v1/api/openplatform/coding_plan/remains").await;
    assert_eq!(none["base_resp"]["status_code"], 1004);

    let mut wrapped = MockConfig {
        remains_in_data: true,
        ..config()
    };
    wrapped.keys[0].quota = Some(10);
    let server = start(wrapped, Scenario::default()).await;
    let url = format!("{}/v1/api/openplatform/coding_plan/remains", server.url());
    let body: Value = reqwest::Client::new()
        .get(url)
        .bearer_auth(DEMO_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["data"]["model_remains"][0]["current_interval_remaining_percent"],
        100
    );
}

#[tokio::test]
async fn a_refusal_comes_at_once_however_long_answers_take() {
    let config = MockConfig {
        keys: vec![KeyConfig {
            rpm: Some(1),
            burst: Some(1),
            ..KeyConfig::default()
        }],
        ..config()
    };
    let scenario =
        Scenario::new(5).with(EndpointFaults::on(Some(Endpoint::Chat)).latency(2_000, 2_000));
    let server = start(config, scenario).await;
    let started = std::time::Instant::now();
    assert_eq!(chat_code(&server, DEMO_KEY).await, Some(0));
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "an answer takes its latency"
    );
    let started = std::time::Instant::now();
    assert_eq!(chat_code(&server, DEMO_KEY).await, Some(1002));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "the refusal did not wait for the latency: {:?}",
        started.elapsed()
    );
}
