//! Requests the mock refuses as MiniMax would.

use super::*;

#[tokio::test]
async fn validation_decides_the_code() {
    let server = start(config(), Scenario::default()).await;
    let mut speed = t2a_body("female-shaonv");
    speed["voice_setting"]["speed"] = json!(5);
    assert_eq!(
        post(&server, Endpoint::T2a, Some(DEMO_KEY), &speed)
            .await
            .code(),
        Some(2013)
    );
    let invisible = json!({"model": "speech-02-hd", "text": "a\u{200B}\u{200B}", "voice_setting": {"voice_id": "female-shaonv"}});
    assert_eq!(
        post(&server, Endpoint::T2a, Some(DEMO_KEY), &invisible)
            .await
            .code(),
        Some(1042)
    );
    let mut tokens = chat_body();
    tokens["max_tokens"] = json!(999_999);
    let a = post(&server, Endpoint::Chat, Some(DEMO_KEY), &tokens).await;
    assert_eq!(a.code(), Some(1039));
    assert!(!a.outcome.is_retryable(), "1039 on chat is a request error");
    let compatible = post(
        &server,
        Endpoint::ChatCompatible,
        Some(DEMO_KEY),
        &json!({"model": "MiniMax-M2", "messages": []}),
    )
    .await;
    assert_eq!((compatible.status, compatible.code()), (400, Some(2013)));
}

#[tokio::test]
async fn sensitive_words() {
    let server = start(config(), Scenario::default()).await;
    let input = json!({"model": "MiniMax-M2", "messages": [{"role": "user", "content": "say forbidden-word"}]});
    assert_eq!(
        post(&server, Endpoint::Chat, Some(DEMO_KEY), &input)
            .await
            .code(),
        Some(1026)
    );
    let compatible = post(&server, Endpoint::ChatCompatible, Some(DEMO_KEY), &input).await;
    assert_eq!((compatible.status, compatible.code()), (422, Some(1026)));
    let output = json!({"model": "MiniMax-M2", "messages": [{"role": "user", "content": "echo flagged-output"}]});
    assert_eq!(
        post(&server, Endpoint::Chat, Some(DEMO_KEY), &output)
            .await
            .code(),
        Some(1027)
    );
}

#[tokio::test]
async fn bad_bodies_get_2013_and_the_server_keeps_serving() {
    let mut config = config();
    config.max_body_bytes = 64 * 1024;
    let server = start(config, Scenario::default()).await;
    for body in [
        b"not json".to_vec(),
        b"".to_vec(),
        b"\xff\xfe\x00".to_vec(),
        br#"{"model": 5}"#.to_vec(),
        b"[1,2,3]".to_vec(),
        vec![b'{'; 100_000],
    ] {
        let native = post_raw(&server, Endpoint::Chat, Some(DEMO_KEY), body.clone()).await;
        assert_eq!((native.status, native.code()), (200, Some(2013)));
        let compatible = post_raw(&server, Endpoint::ChatCompatible, Some(DEMO_KEY), body).await;
        assert_eq!((compatible.status, compatible.code()), (400, Some(2013)));
    }
    assert_eq!(chat_code(&server, DEMO_KEY).await, Some(0));
}
