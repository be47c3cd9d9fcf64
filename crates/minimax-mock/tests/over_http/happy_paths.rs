//! Every endpoint answering as MiniMax does, in both dialects and streaming.

use super::*;

#[tokio::test]
async fn every_endpoint_answers_like_minimax() {
    let server = start(config(), Scenario::default()).await;
    let native = post(&server, Endpoint::Chat, Some(DEMO_KEY), &chat_body()).await;
    assert_eq!((native.status, native.code()), (200, Some(0)));
    assert!(native.trace_header.is_some());
    assert_eq!(
        native.json()["choices"][0]["message"]["content"],
        "You said: hello"
    );
    assert_eq!(native.json()["base_resp"]["status_code"], 0);

    let compatible = post(
        &server,
        Endpoint::ChatCompatible,
        Some(DEMO_KEY),
        &chat_body(),
    )
    .await;
    assert_eq!((compatible.status, compatible.code()), (200, Some(0)));
    assert!(compatible.json().get("base_resp").is_none(), "OpenAI shape");

    let speech = post(
        &server,
        Endpoint::T2a,
        Some(DEMO_KEY),
        &t2a_body("male-qn-qingse"),
    )
    .await;
    assert_eq!(speech.code(), Some(0));
    let body = speech.json();
    assert_eq!(body["trace_id"].as_str(), speech.trace_header.as_deref());
    assert_eq!(body["data"]["status"], 2);
    assert_eq!(
        hex::decode(body["data"]["audio"].as_str().unwrap())
            .unwrap()
            .len(),
        5 * 64
    );

    let file_id = upload_id(&server, DEMO_KEY, "voice_clone", 12.0).await;
    let clone = post(
        &server,
        Endpoint::VoiceClone,
        Some(DEMO_KEY),
        &json!({"file_id": file_id, "voice_id": "MyVoice001"}),
    )
    .await;
    assert_eq!(clone.code(), Some(0));
    let cloned = post(
        &server,
        Endpoint::T2a,
        Some(DEMO_KEY),
        &t2a_body("MyVoice001"),
    )
    .await;
    assert_eq!(cloned.code(), Some(0));

    let retrieved = post(
        &server,
        Endpoint::FileRetrieve,
        Some(DEMO_KEY),
        &json!({"file_id": file_id}),
    )
    .await;
    assert_eq!(retrieved.code(), Some(0));
    assert_eq!(retrieved.json()["file"]["purpose"], "voice_clone");
    let by_query = reqwest::Client::new()
        .get(format!(
            "{}/v1/files/retrieve?file_id={file_id}",
            server.url()
        ))
        .bearer_auth(DEMO_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer(by_query, Endpoint::FileRetrieve).await.code(),
        Some(0)
    );
}

#[tokio::test]
async fn streams() {
    let server = start(config(), Scenario::default()).await;
    let mut body = chat_body();
    body["stream"] = json!(true);
    let native = post(&server, Endpoint::Chat, Some(DEMO_KEY), &body).await;
    assert_eq!(native.content_type, "text/event-stream");
    let Outcome::Success(s) = &native.outcome else {
        panic!("{:?}", native.outcome)
    };
    assert!(
        s.stream
            .is_some_and(|s| s.data_events >= 2 && !s.done_marker)
    );
    let compatible = post(&server, Endpoint::ChatCompatible, Some(DEMO_KEY), &body).await;
    let Outcome::Success(s) = &compatible.outcome else {
        panic!()
    };
    assert!(s.stream.is_some_and(|s| s.done_marker));

    let mut speech = t2a_body("female-shaonv");
    speech["stream"] = json!(true);
    let a = post(&server, Endpoint::T2a, Some(DEMO_KEY), &speech).await;
    let Outcome::Success(s) = &a.outcome else {
        panic!()
    };
    assert_eq!(
        s.stream.map(|s| s.data_events),
        Some(5),
        "4 audio chunks and the final status 2"
    );
}

#[tokio::test]
async fn the_anthropic_endpoint_answers_as_anthropic_does() {
    let mut config = config();
    config.keys[1].balance = Some(0);
    let server = start(config, Scenario::default()).await;
    let body = json!({"model": "MiniMax-M2", "max_tokens": 64,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi there"}]}]});
    // Anthropic's SDKs send the key as x-api-key.
    let url = format!("{}/anthropic/v1/messages", server.url());
    let send = |key: &'static str, body: Value| {
        reqwest::Client::new()
            .post(&url)
            .header("x-api-key", key)
            .json(&body)
            .send()
    };
    let plain = answer(
        send(DEMO_KEY, body.clone()).await.unwrap(),
        Endpoint::Anthropic,
    )
    .await;
    assert_eq!((plain.status, plain.code()), (200, Some(0)));
    assert_eq!(plain.json()["type"], "message");
    assert_eq!(plain.json()["content"][0]["text"], "You said: hi there");

    let mut streamed = body.clone();
    streamed["stream"] = json!(true);
    let stream = answer(send(DEMO_KEY, streamed).await.unwrap(), Endpoint::Anthropic).await;
    assert_eq!(
        stream.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&stream.body)
    );
    let text = String::from_utf8_lossy(&stream.body);
    assert!(text.starts_with("event: message_start\n"), "{text}");
    assert!(text.ends_with("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"));

    // Errors in Anthropic's envelope; an empty balance is HTTP 500 here, as real accounts see.
    let broke = answer(
        send(OTHER_KEY, body.clone()).await.unwrap(),
        Endpoint::Anthropic,
    )
    .await;
    assert_eq!((broke.status, broke.code()), (500, Some(1008)));
    assert_eq!(broke.json()["type"], "error");
    assert_eq!(broke.json()["error"]["type"], "api_error");
    let bad_key = answer(send("sk-nobody", body).await.unwrap(), Endpoint::Anthropic).await;
    assert_eq!((bad_key.status, bad_key.code()), (401, Some(2049)));
    let invalid = answer(
        send(DEMO_KEY, json!({"model": "MiniMax-M2", "messages": []}))
            .await
            .unwrap(),
        Endpoint::Anthropic,
    )
    .await;
    assert_eq!((invalid.status, invalid.code()), (400, Some(2013)));
}
