//! Uploads, voice clones and their rules.

use super::*;

#[tokio::test]
async fn ownership_and_duplicates() {
    let server = start(config(), Scenario::default()).await;
    let file_id = upload_id(&server, DEMO_KEY, "voice_clone", 30.0).await;
    let clone = json!({"file_id": file_id, "voice_id": "SharedName01"});
    assert_eq!(
        post(&server, Endpoint::VoiceClone, Some(DEMO_KEY), &clone)
            .await
            .code(),
        Some(0)
    );
    assert_eq!(
        post(&server, Endpoint::VoiceClone, Some(DEMO_KEY), &clone)
            .await
            .code(),
        Some(2039)
    );
    assert_eq!(
        post(
            &server,
            Endpoint::T2a,
            Some(OTHER_KEY),
            &t2a_body("SharedName01")
        )
        .await
        .code(),
        Some(2042)
    );
    assert_eq!(
        post(
            &server,
            Endpoint::T2a,
            Some(DEMO_KEY),
            &t2a_body("NoSuchVoice1")
        )
        .await
        .code(),
        Some(2054)
    );
    // A file of another key, or of the wrong purpose, is not a sample for this clone.
    let other = json!({"file_id": file_id, "voice_id": "OtherVoice01"});
    assert_eq!(
        post(&server, Endpoint::VoiceClone, Some(OTHER_KEY), &other)
            .await
            .code(),
        Some(20132)
    );
}

#[tokio::test]
async fn durations_from_the_uploaded_audio() {
    let server = start(config(), Scenario::default()).await;
    let short = upload_id(&server, DEMO_KEY, "voice_clone", 9.99).await;
    let clone = json!({"file_id": short, "voice_id": "ShortVoice01"});
    assert_eq!(
        post(&server, Endpoint::VoiceClone, Some(DEMO_KEY), &clone)
            .await
            .code(),
        Some(2037)
    );
    let good = upload_id(&server, DEMO_KEY, "voice_clone", 10.0).await;
    let prompt = upload_id(&server, DEMO_KEY, "prompt_audio", 8.0).await;
    let with_prompt = json!({"file_id": good, "voice_id": "PromptVoice1", "clone_prompt": {"prompt_audio": prompt, "prompt_text": "hi"}});
    assert_eq!(
        post(&server, Endpoint::VoiceClone, Some(DEMO_KEY), &with_prompt)
            .await
            .code(),
        Some(2048)
    );
    let not_audio = upload(&server, DEMO_KEY, "voice_clone", b"plain text".to_vec()).await;
    assert_eq!(not_audio.code(), Some(2013));
}

#[tokio::test]
async fn cloning_needs_a_verified_account() {
    let mut config = config();
    config.keys[1].voice_clone = false;
    let server = start(config, Scenario::default()).await;
    let file_id = upload_id(&server, OTHER_KEY, "voice_clone", 12.0).await;
    let clone = json!({"file_id": file_id, "voice_id": "Unverified01"});
    assert_eq!(
        post(&server, Endpoint::VoiceClone, Some(OTHER_KEY), &clone)
            .await
            .code(),
        Some(2038)
    );
}

#[tokio::test]
async fn unknown_voice_mid_stream() {
    let scenario = Scenario::new(3).with(EndpointFaults {
        voice_error_after_chunks: Some(2),
        ..EndpointFaults::on(Some(Endpoint::T2a))
    });
    let server = start(config(), scenario).await;
    let mut body = t2a_body("NoSuchVoice1");
    body["stream"] = json!(true);
    let a = post(&server, Endpoint::T2a, Some(DEMO_KEY), &body).await;
    assert_eq!(a.status, 200);
    let Outcome::ApiError(e) = &a.outcome else {
        panic!("{:?}", a.outcome)
    };
    assert_eq!(e.code, ErrorCode::VOICE_NOT_FOUND);
    assert_eq!(e.stream.map(|s| s.data_events), Some(2));
}
