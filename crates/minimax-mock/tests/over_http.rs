//! The mock over real sockets, driven by reqwest, every answer classified by minimax-errors.

use minimax_errors::classify::{MalformedKind, Outcome, classify};
use minimax_errors::{Category, Endpoint, ErrorCode, catalog};
use minimax_mock::{Action, DEMO_KEY, EndpointFaults, KeyConfig, MockConfig, MockServer, Scenario};
use serde_json::{Value, json};
use std::time::Duration;

const OTHER_KEY: &str = "second-account-key";

fn config() -> MockConfig {
    let mut config = MockConfig::default();
    config.keys.push(KeyConfig {
        key: OTHER_KEY.to_string(),
        name: "second".to_string(),
        ..KeyConfig::default()
    });
    config.sensitive.input = vec!["forbidden-word".to_string()];
    config.sensitive.output = vec!["flagged-output".to_string()];
    config
}

async fn start(config: MockConfig, scenario: Scenario) -> MockServer {
    MockServer::start("127.0.0.1:0".parse().unwrap(), config, scenario)
        .await
        .unwrap()
}

struct Answer {
    status: u16,
    trace_header: Option<String>,
    content_type: String,
    body: Vec<u8>,
    outcome: Outcome,
}

impl Answer {
    fn code(&self) -> Option<i64> {
        match &self.outcome {
            Outcome::ApiError(e) => Some(e.code.as_i64()),
            Outcome::Success(_) => Some(0),
            Outcome::Malformed(_) => None,
        }
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

async fn post(server: &MockServer, endpoint: Endpoint, key: Option<&str>, body: &Value) -> Answer {
    post_raw(server, endpoint, key, body.to_string().into_bytes()).await
}

async fn post_raw(
    server: &MockServer,
    endpoint: Endpoint,
    key: Option<&str>,
    body: Vec<u8>,
) -> Answer {
    let client = reqwest::Client::new();
    let mut request = client
        .post(format!("{}{}", server.url(), endpoint.path().unwrap()))
        .body(body);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    answer(response, endpoint).await
}

async fn answer(response: reqwest::Response, endpoint: Endpoint) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.unwrap().to_vec();
    let outcome = classify(&body, status, &headers, endpoint);
    Answer {
        status,
        trace_header: headers
            .get("trace-id")
            .map(|v| v.to_str().unwrap().to_string()),
        content_type: headers
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default(),
        body,
        outcome,
    }
}

/// The code of a plain native chat request made with `key`.
async fn chat_code(server: &MockServer, key: &str) -> Option<i64> {
    post(server, Endpoint::Chat, Some(key), &chat_body())
        .await
        .code()
}

fn chat_body() -> Value {
    json!({"model": "MiniMax-M2", "messages": [{"role": "user", "content": "hello"}]})
}

fn t2a_body(voice: &str) -> Value {
    json!({"model": "speech-2.8-hd", "text": "你好，世界", "voice_setting": {"voice_id": voice}})
}

async fn upload(server: &MockServer, key: &str, purpose: &str, bytes: Vec<u8>) -> Answer {
    let form = reqwest::multipart::Form::new()
        .text("purpose", purpose.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name("voice.wav"),
        );
    let response = reqwest::Client::new()
        .post(format!("{}/v1/files/upload", server.url()))
        .bearer_auth(key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    answer(response, Endpoint::FileUpload).await
}

async fn upload_id(server: &MockServer, key: &str, purpose: &str, secs: f64) -> u64 {
    let a = upload(server, key, purpose, minimax_mock::silent_wav(secs)).await;
    assert_eq!(a.code(), Some(0), "{}", String::from_utf8_lossy(&a.body));
    a.json()["file"]["file_id"].as_u64().unwrap()
}

mod happy_paths {
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
}

mod accounts {
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
}

mod voices {
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
}

mod requests {
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
            let compatible =
                post_raw(&server, Endpoint::ChatCompatible, Some(DEMO_KEY), body).await;
            assert_eq!((compatible.status, compatible.code()), (400, Some(2013)));
        }
        assert_eq!(chat_code(&server, DEMO_KEY).await, Some(0));
    }
}

mod faults {
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
}

mod example_files {
    use super::*;

    fn example(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples")
            .join(name)
    }

    #[test]
    fn shipped_examples_load() {
        let config = MockConfig::load(&example("mock-config.toml")).unwrap();
        assert_eq!(config.keys.len(), 2);
        assert_eq!(config.key("small-plan-key").and_then(|k| k.quota), Some(50));
        let scenario = Scenario::load(&example("scenario.toml")).unwrap();
        assert_eq!(scenario.seed, 42);
        assert_eq!(
            scenario.endpoints[0].sequence,
            vec![
                Action::Code(ErrorCode::RATE_LIMIT),
                Action::Code(ErrorCode::RATE_LIMIT),
                Action::Ok
            ]
        );
        let load = MockConfig::load(&example("load-config.toml")).unwrap();
        assert_eq!(load.keys[0].rpm, None);
    }

    #[test]
    fn bad_files_are_explained() {
        let err = Scenario::from_toml("[[endpoint]]\nendpoint = \"nowhere\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown endpoint"), "{err}");
        let err = Scenario::from_toml("[[endpoint]]\nrandom = [{ action = 1002, probability = 0.8 }, { action = 1001, probability = 0.5 }]").unwrap_err().to_string();
        assert!(err.contains("add up to at most 1"), "{err}");
        let err = Scenario::from_toml("[[endpoint]]\nsequence = [\"explode\"]")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown action"), "{err}");
        assert!(MockConfig::from_toml("keys = 5").is_err());
        assert!(
            MockConfig::from_toml("[[keys]]\nname = \"nameless\"").is_err(),
            "a key needs its key"
        );
        assert!(MockConfig::from_toml("[[keys]]\nkey = \"a\"\n[[keys]]\nkey = \"a\"").is_err());
        assert!(
            MockConfig::from_toml("[[keys]]\nkey = \"k\"\nrmp = 5").is_err(),
            "misspelt fields are rejected"
        );
    }
}

mod slow_clients {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn quick_timeouts() -> MockConfig {
        MockConfig {
            keys: vec![KeyConfig {
                max_concurrent: Some(1),
                ..KeyConfig::default()
            }],
            header_timeout_ms: 300,
            body_timeout_ms: 300,
            ..config()
        }
    }

    #[tokio::test]
    async fn half_sent_headers_are_dropped_and_the_server_keeps_serving() {
        let server = start(quick_timeouts(), Scenario::default()).await;
        let mut sockets = Vec::new();
        for _ in 0..50 {
            let mut socket = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
            socket
                .write_all(b"POST /v1/text/chatcompletion_v2 HTTP/1.1\r\nHost: x\r\n")
                .await
                .unwrap();
            sockets.push(socket);
        }
        tokio::time::sleep(Duration::from_millis(800)).await;
        for socket in &mut sockets {
            let mut buf = [0u8; 256];
            let read = tokio::time::timeout(Duration::from_secs(2), socket.read(&mut buf)).await;
            // Closed (possibly after a 408): never left hanging.
            assert!(
                matches!(read, Ok(Ok(_)) | Ok(Err(_))),
                "a half-sent request still holds its socket"
            );
        }
        assert_eq!(chat_code(&server, DEMO_KEY).await, Some(0));
    }

    #[tokio::test]
    async fn a_body_sent_too_slowly_gets_2013_and_frees_the_keys_slot() {
        let server = start(quick_timeouts(), Scenario::default()).await;
        let mut socket = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
        socket
            .write_all(format!("POST /v1/text/chatcompletion_v2 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {DEMO_KEY}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"model\":").as_bytes())
            .await
            .unwrap();
        let mut answer = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(3), socket.read(&mut answer))
            .await
            .expect("an answer in time")
            .unwrap();
        let text = String::from_utf8_lossy(&answer[..n]);
        assert!(
            text.contains("2013") && text.contains("not received in time"),
            "{text}"
        );
        // The key allows one request at a time: its slot is free again.
        assert_eq!(chat_code(&server, DEMO_KEY).await, Some(0));
    }
}

#[tokio::test]
async fn stopping_does_not_wait_for_an_injected_stall() {
    let scenario = Scenario::new(8).with(
        EndpointFaults::on(Some(Endpoint::Chat))
            .sequence([Action::Stall])
            .stall_ms(60_000),
    );
    let server = start(config(), scenario).await;
    let url = format!("{}/v1/text/chatcompletion_v2", server.url());
    let stalled = tokio::spawn(async move {
        reqwest::Client::new()
            .post(url)
            .bearer_auth(DEMO_KEY)
            .body("{}")
            .send()
            .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    server.stop().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopped in {:?}",
        started.elapsed()
    );
    assert!(
        stalled.await.unwrap().is_err(),
        "the stalled request is dropped"
    );
}
