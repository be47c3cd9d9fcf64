//! The guard against the mock over real sockets: what is retried recovers, what is permanent is
//! sent once (the mock's counts prove it), budgets cap amplification, deadlines hold, server
//! hints are followed, stream errors surface, and the key never reaches a log line.

mod common;

use common::{chat, fast_retry};

use bytes::Bytes;
use futures_util::StreamExt;
use minimax_errors::validate::audio::AudioPurpose;
use minimax_errors::validate::{T2aRequest, VoiceCloneRequest};
use minimax_errors::{Dialect, Endpoint, ErrorCode, catalog};
use minimax_guard::{
    ApiKey, BudgetConfig, Cause, FilePurpose, GuardError, MiniMaxClient, MiniMaxRetryMiddleware,
    PacingConfig, RetryConfig, StopReason,
};
use minimax_mock::{Action, DEMO_KEY, EndpointFaults, MockConfig, MockServer, Scenario};
use std::time::{Duration, Instant};

async fn mock(scenario: Scenario) -> MockServer {
    mock_with(MockConfig::default(), scenario).await
}

async fn mock_with(config: MockConfig, scenario: Scenario) -> MockServer {
    MockServer::start("127.0.0.1:0".parse().unwrap(), config, scenario)
        .await
        .unwrap()
}

fn client(server: &MockServer, retry: RetryConfig) -> MiniMaxClient {
    MiniMaxClient::builder()
        .base_url(server.url())
        .api_key(ApiKey::new(DEMO_KEY))
        .retry(retry)
        .seed(11)
        .build()
        .unwrap()
}

fn speech(voice: &str) -> T2aRequest {
    T2aRequest::speak("speech-2.8-hd", "你好，世界", voice)
}

fn once(endpoint: Endpoint, actions: impl IntoIterator<Item = Action>) -> Scenario {
    Scenario::new(1).with(EndpointFaults::on(Some(endpoint)).sequence(actions))
}

fn failure(error: &GuardError) -> &minimax_guard::CallFailure {
    error
        .failure()
        .unwrap_or_else(|| panic!("expected a failed call, got {error}"))
}

mod retries {
    use super::*;

    #[tokio::test]
    async fn every_retryable_code_is_retried_and_recovers() {
        let retryable: Vec<ErrorCode> = catalog::entries()
            .filter(|i| i.is_retryable())
            .map(|i| i.code)
            .collect();
        assert!(retryable.len() >= 9);
        for code in retryable {
            let server = mock(once(Endpoint::Chat, [Action::Code(code), Action::Ok])).await;
            let reply = client(&server, fast_retry())
                .chat(&chat())
                .await
                .unwrap_or_else(|e| panic!("{code:?}: {e}"));
            assert_eq!(reply.attempts, 2, "{code:?}");
            assert_eq!(reply.value.text(), "You said: hello");
            let stats = server.stats();
            assert_eq!(
                (
                    stats.requests_on("chat"),
                    stats.count("chat", &code.as_i64().to_string())
                ),
                (2, 1),
                "{code:?}"
            );
        }
        // 1039 is a throttle on T2A: retried there.
        let server = mock(once(
            Endpoint::T2a,
            [Action::Code(ErrorCode::TOKEN_LIMIT), Action::Ok],
        ))
        .await;
        let reply = client(&server, fast_retry())
            .t2a(&speech("female-shaonv"))
            .await
            .unwrap();
        assert_eq!((reply.attempts, reply.value.audio.len()), (2, 5 * 64));
    }

    #[tokio::test]
    async fn permanent_codes_are_sent_once() {
        let mut permanent: Vec<ErrorCode> = catalog::entries()
            .filter(|i| !i.is_retryable())
            .map(|i| i.code)
            .collect();
        permanent.push(ErrorCode::new(4242)); // unknown codes are not retried either
        for code in permanent {
            let server = mock(once(Endpoint::Chat, [Action::Code(code)])).await;
            let error = client(&server, fast_retry())
                .chat(&chat())
                .await
                .unwrap_err();
            let f = failure(&error);
            assert_eq!(
                (f.code(), f.attempts, f.stopped),
                (Some(code), 1, StopReason::NotRetryable),
                "{code:?}"
            );
            assert_eq!(server.stats().requests_on("chat"), 1, "{code:?}");
            assert!(
                error
                    .to_string()
                    .contains(&format!("MiniMax {}", code.as_i64())),
                "{error}"
            );
        }
    }

    #[tokio::test]
    async fn errors_carry_meaning_solution_trace_attempts_and_wait() {
        let server = mock(once(
            Endpoint::Chat,
            [Action::Code(ErrorCode::RATE_LIMIT); 10],
        ))
        .await;
        // Unpaced, a throttle is retried as a plain retry layer would: within the attempts.
        let retry = RetryConfig {
            max_retries: 2,
            pacing: PacingConfig::off(),
            ..fast_retry()
        };
        let error = client(&server, retry).chat(&chat()).await.unwrap_err();
        let f = failure(&error);
        assert_eq!((f.attempts, f.stopped), (3, StopReason::AttemptsExhausted));
        assert!(f.trace_id.is_some());
        let text = error.to_string();
        assert!(
            text.starts_with("MiniMax 1002 (rate limit) on chat: rate limit. Retry later"),
            "{text}"
        );
        assert!(
            text.contains("after 3 attempts") && text.contains("(retries used up)"),
            "{text}"
        );
        let report = f.report(minimax_errors::Lang::Zh).unwrap();
        assert_eq!(report.message, "请求频率超限");
        assert_eq!(server.stats().requests_on("chat"), 3);
    }

    #[tokio::test]
    async fn paced_throttles_are_retried_past_the_attempt_limit_at_no_cost_to_the_budget() {
        let rate = Action::Code(ErrorCode::RATE_LIMIT);
        let server = mock(once(Endpoint::Chat, [rate, rate, rate, Action::Ok])).await;
        let retry = RetryConfig {
            max_retries: 1,
            ..fast_retry()
        };
        let client = client(&server, retry);
        let full = client.executor().budget().level();
        let reply = client.chat(&chat()).await.unwrap();
        assert_eq!(reply.attempts, 4);
        assert_eq!(reply.waited, Duration::ZERO, "no backoff of its own");
        assert!(
            reply.paced > Duration::ZERO,
            "the pacer held the account back"
        );
        assert_eq!(client.executor().budget().level(), full);
    }

    #[tokio::test]
    async fn unreadable_answers_and_gateway_pages_are_retried() {
        let server = mock(once(
            Endpoint::Chat,
            [Action::Html502, Action::Truncate, Action::Reset, Action::Ok],
        ))
        .await;
        let reply = client(&server, fast_retry()).chat(&chat()).await.unwrap();
        assert_eq!(reply.attempts, 4);
    }

    #[tokio::test]
    async fn compatible_dialect_too() {
        let server = mock(once(
            Endpoint::ChatCompatible,
            [
                Action::Overloaded,
                Action::Code(ErrorCode::RATE_LIMIT),
                Action::Ok,
            ],
        ))
        .await;
        let reply = client(&server, fast_retry())
            .chat_compatible(&chat())
            .await
            .unwrap();
        assert_eq!(reply.attempts, 3);
        assert_eq!(server.stats().count("chat-compatible", "2064"), 1);
    }
}

mod limits {
    use super::*;

    #[tokio::test]
    async fn budget_caps_amplification_under_a_total_outage() {
        let outage = Scenario::new(2).with(
            EndpointFaults::on(None).random(Action::Code(ErrorCode::INTERNAL_SERVICE_ERROR), 1.0),
        );
        let server = mock(outage).await;
        let budget = BudgetConfig::default();
        let client = client(
            &server,
            RetryConfig {
                budget,
                ..fast_retry()
            },
        );
        let calls = 100;
        for _ in 0..calls {
            assert!(client.chat(&chat()).await.is_err());
        }
        let sent = server.stats().requests_on("chat");
        let most_retries = u64::from(budget.capacity / budget.retry_cost);
        assert!(
            sent <= calls + most_retries,
            "{sent} requests for {calls} calls"
        );
        assert_eq!(
            client.executor().budget().level(),
            budget.capacity % budget.retry_cost
        );
        // Once drained, every call is a single request: amplification 1.0.
        server.reset();
        for _ in 0..calls {
            let error = client.chat(&chat()).await.unwrap_err();
            assert_eq!(failure(&error).stopped, StopReason::BudgetExhausted);
        }
        assert_eq!(server.stats().requests_on("chat"), calls);
    }

    #[tokio::test]
    async fn the_deadline_holds() {
        let scenario = Scenario::new(3).with(
            EndpointFaults::on(Some(Endpoint::Chat))
                // Gateway pages come after the latency (refusals would come at once).
                .sequence([Action::Html502; 20])
                .latency(300, 300),
        );
        let server = mock(scenario).await;
        let retry = RetryConfig {
            deadline: Some(Duration::from_millis(500)),
            ..fast_retry()
        };
        let started = Instant::now();
        let error = client(&server, retry).chat(&chat()).await.unwrap_err();
        let elapsed = started.elapsed();
        // Without the deadline: 6 attempts of 300 ms and the waits, about two seconds.
        assert!(elapsed < Duration::from_millis(1200), "{elapsed:?}");
        assert_eq!(failure(&error).stopped, StopReason::DeadlineReached);
        // A stall is cut at the deadline too.
        let stall = once(Endpoint::Chat, [Action::Stall]);
        let server = mock(stall).await;
        let retry = RetryConfig {
            deadline: Some(Duration::from_millis(300)),
            ..fast_retry()
        };
        let started = Instant::now();
        let error = client(&server, retry).chat(&chat()).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(
            matches!(&failure(&error).cause, Cause::Transport(t) if t.kind == minimax_guard::transport::TransportKind::Timeout)
        );
    }

    #[tokio::test]
    async fn retry_after_is_honoured() {
        let scenario = Scenario::new(4).with(EndpointFaults {
            retry_after_ms: Some(300),
            ..EndpointFaults::on(Some(Endpoint::Chat))
                .sequence([Action::Code(ErrorCode::RATE_LIMIT), Action::Ok])
        });
        let server = mock(scenario).await;
        let started = Instant::now();
        let reply = client(&server, fast_retry()).chat(&chat()).await.unwrap();
        // The pacer holds the account for the server's wait.
        assert!(
            reply.paced >= Duration::from_millis(300),
            "{:?}",
            reply.paced
        );
        assert!(started.elapsed() >= Duration::from_millis(300));
        // Capped by the configuration.
        server.reset();
        let capped = RetryConfig {
            retry_after_cap: Duration::from_millis(50),
            ..fast_retry()
        };
        let reply = client(&server, capped).chat(&chat()).await.unwrap();
        assert!(
            reply.paced >= Duration::from_millis(50) && reply.paced < Duration::from_millis(250),
            "{:?}",
            reply.paced
        );
    }

    #[tokio::test]
    async fn account_failures_make_later_calls_fail_fast() {
        let server = mock(once(
            Endpoint::Chat,
            [Action::Code(ErrorCode::INSUFFICIENT_BALANCE)],
        ))
        .await;
        let client = client(&server, fast_retry());
        assert_eq!(
            client.chat(&chat()).await.unwrap_err().code(),
            Some(ErrorCode::INSUFFICIENT_BALANCE)
        );
        let error = client.t2a(&speech("female-shaonv")).await.unwrap_err();
        assert!(
            matches!(
                error,
                GuardError::FailingFast {
                    code: ErrorCode::INSUFFICIENT_BALANCE,
                    ..
                }
            ),
            "{error}"
        );
        assert!(error.to_string().contains("calls fail fast"), "{error}");
        assert_eq!(server.stats().requests, 1, "the second call never left");
        client.executor().breaker().clear();
        assert!(client.t2a(&speech("female-shaonv")).await.is_ok());
    }

    #[tokio::test]
    async fn a_spent_plan_window_holds_calls_until_it_resets_and_keys_explain_themselves() {
        let mut config = MockConfig::default();
        for (key, balance, quota) in [
            ("sk-api-empty", Some(0), None),
            ("sk-cp-plan", None, Some(1)),
        ] {
            config.keys.push(minimax_mock::KeyConfig {
                key: key.to_string(),
                name: key.to_string(),
                balance,
                quota,
                ..minimax_mock::KeyConfig::unlimited()
            });
        }
        let server = MockServer::start("127.0.0.1:0".parse().unwrap(), config, Scenario::default())
            .await
            .unwrap();
        let with_key = |key: &str| {
            MiniMaxClient::builder()
                .base_url(server.url())
                .api_key(ApiKey::new(key))
                .retry(fast_retry())
                .build()
                .unwrap()
        };
        // 1008 on a pay-as-you-go key: most often the wrong key, and the error says so.
        let error = with_key("sk-api-empty").chat(&chat()).await.unwrap_err();
        assert!(
            error.to_string().contains("pay-as-you-go key (sk-api-)"),
            "{error}"
        );
        assert!(
            !error.to_string().contains("sk-api-empty"),
            "the key itself is never shown"
        );
        // The plan's window: one call, then 2056 naming the reset; later calls of that key
        // are held until then, unsent, and say when.
        let plan = with_key("sk-cp-plan");
        assert!(plan.chat(&chat()).await.is_ok());
        let spent = plan.chat(&chat()).await.unwrap_err();
        assert_eq!(spent.code(), Some(ErrorCode::USAGE_LIMIT_EXCEEDED));
        let sent = server.stats().requests;
        for _ in 0..5 {
            let held = plan.chat(&chat()).await.unwrap_err();
            let GuardError::FailingFast {
                resets_at,
                remaining,
                ..
            } = &held
            else {
                panic!("{held}");
            };
            assert!(resets_at.is_some(), "{held}");
            assert!(
                remaining.as_secs() > 5 * 3600 - 60,
                "held until the reset: {remaining:?}"
            );
            assert!(held.to_string().contains("until it resets at "), "{held}");
        }
        assert_eq!(
            server.stats().requests,
            sent,
            "nothing sent to a spent window"
        );
        // Other keys of the same client are not held.
        assert!(with_key(DEMO_KEY).chat(&chat()).await.is_ok());
    }

    #[tokio::test]
    async fn invalid_requests_fail_locally() {
        let server = mock(Scenario::default()).await;
        let client = client(&server, fast_retry());
        let mut bad = speech("female-shaonv");
        bad.voice_setting.as_mut().unwrap().speed = Some(9.0);
        let error = client.t2a(&bad).await.unwrap_err();
        assert!(matches!(error, GuardError::Invalid(_)));
        assert_eq!(error.code(), Some(ErrorCode::INVALID_PARAMS));
        assert_eq!(server.stats().requests, 0);
        let short = client
            .upload_file(
                AudioPurpose::VoiceClone,
                "short.wav",
                Bytes::from(minimax_mock::silent_wav(5.0)),
            )
            .await
            .unwrap_err();
        assert_eq!(short.code(), Some(ErrorCode::VOICE_DURATION));
        assert_eq!(server.stats().requests, 0);
        // Only audio purposes are checked as audio.
        let document = client
            .upload_file(
                FilePurpose::Retrieval,
                "notes.txt",
                Bytes::from("some notes"),
            )
            .await
            .unwrap();
        assert_eq!(document.value.purpose, "retrieval");
        assert_eq!(server.stats().requests, 1);
        // With validation off the mock rejects it with the same code.
        let unchecked = MiniMaxClient::builder()
            .base_url(server.url())
            .api_key(ApiKey::new(DEMO_KEY))
            .validate(false)
            .build()
            .unwrap();
        assert_eq!(
            unchecked.t2a(&bad).await.unwrap_err().code(),
            Some(ErrorCode::INVALID_PARAMS)
        );
        assert_eq!(server.stats().requests, 2);
    }

    #[tokio::test]
    async fn transport_failures() {
        // A port nobody listens on: connect errors are retried, then reported.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let client = MiniMaxClient::builder()
            .base_url(format!("http://127.0.0.1:{port}"))
            .api_key(ApiKey::new(DEMO_KEY))
            .retry(fast_retry())
            .build()
            .unwrap();
        let error = client.chat(&chat()).await.unwrap_err();
        let f = failure(&error);
        assert!(
            matches!(&f.cause, Cause::Transport(t) if t.kind == minimax_guard::transport::TransportKind::Connect),
            "{error}"
        );
        assert_eq!(f.attempts, 4);
        // The chain leads to the transport failure.
        let source = std::error::Error::source(&error).expect("a source");
        let transport = source
            .downcast_ref::<minimax_guard::transport::TransportFailure>()
            .expect("the transport failure");
        assert_eq!(
            transport.kind,
            minimax_guard::transport::TransportKind::Connect
        );
        // An invalid URL is not.
        let client = MiniMaxClient::builder()
            .base_url("not a url")
            .api_key(ApiKey::new(DEMO_KEY))
            .retry(fast_retry())
            .build()
            .unwrap();
        let f = client.chat(&chat()).await.unwrap_err();
        assert_eq!(failure(&f).attempts, 1);
        assert_eq!(failure(&f).stopped, StopReason::NotRetryable);
    }
}

mod endpoints {
    use super::*;

    #[tokio::test]
    async fn uploads_are_rebuilt_for_a_retry_and_clones_are_idempotent() {
        let scenario = Scenario::new(5)
            .with(
                EndpointFaults::on(Some(Endpoint::FileUpload))
                    .sequence([Action::Code(ErrorCode::RATE_LIMIT), Action::Ok]),
            )
            .with(EndpointFaults::on(Some(Endpoint::VoiceClone)).sequence([Action::Truncate]));
        let server = mock(scenario).await;
        let client = client(&server, fast_retry());
        let file = client
            .upload_file(
                AudioPurpose::VoiceClone,
                "voice.wav",
                Bytes::from(minimax_mock::silent_wav(12.0)),
            )
            .await
            .unwrap();
        assert_eq!(file.attempts, 2);
        assert_eq!(
            file.value.bytes,
            44 + 12 * 16000,
            "the retried body arrived whole"
        );
        let clone = VoiceCloneRequest {
            file_id: Some(file.value.file_id.into()),
            voice_id: "GuardVoice01".into(),
            ..Default::default()
        };
        // The first answer is cut off after the clone happened; the retry meets 2039.
        let error = client.voice_clone(&clone).await.unwrap_err();
        assert!(matches!(error, GuardError::MaybeCreated(_)), "{error}");
        assert_eq!(error.code(), Some(ErrorCode::DUPLICATE_VOICE_ID));
        // And the voice does exist.
        assert!(client.t2a(&speech("GuardVoice01")).await.is_ok());
        // A plain duplicate (no lost answer before) is an ordinary failure.
        let again = client.voice_clone(&clone).await.unwrap_err();
        assert!(matches!(again, GuardError::Failed(_)));
    }

    #[tokio::test]
    async fn streams_deliver_and_errors_surface_mid_stream() {
        let scenario = Scenario::new(6).with(EndpointFaults {
            voice_error_after_chunks: Some(2),
            ..EndpointFaults::on(Some(Endpoint::T2a))
        });
        let server = mock(scenario).await;
        let client = client(&server, fast_retry());
        let chunks: Vec<_> = client
            .chat_stream(&chat(), Dialect::Native)
            .await
            .unwrap()
            .collect()
            .await;
        let text: String = chunks
            .iter()
            .map(|c| c.as_ref().unwrap().text().to_string())
            .collect();
        assert_eq!(text, "You said: hello");
        let compatible: Vec<_> = client
            .chat_stream(&chat(), Dialect::Compatible)
            .await
            .unwrap()
            .collect()
            .await;
        assert!(compatible.iter().all(Result::is_ok));

        let good: Vec<_> = client
            .t2a_stream(&speech("female-shaonv"))
            .await
            .unwrap()
            .collect()
            .await;
        assert_eq!(good.len(), 5);
        assert_eq!(good.last().unwrap().as_ref().unwrap().status, 2);

        let events: Vec<_> = client
            .t2a_stream(&speech("NoSuchVoice1"))
            .await
            .unwrap()
            .collect()
            .await;
        assert_eq!(
            events.len(),
            3,
            "two audio chunks, then the error, then nothing"
        );
        assert!(events[..2].iter().all(Result::is_ok));
        let error = events[2].as_ref().unwrap_err();
        assert_eq!(error.code(), Some(ErrorCode::VOICE_NOT_FOUND));
        assert!(error.failure().unwrap().trace_id.is_some());
    }

    /// Every text and audio chunk of a stream, or the error it ended with.
    async fn drain<T>(stream: minimax_guard::EventStream<T>) -> (Vec<T>, Option<GuardError>) {
        let mut items = Vec::new();
        let mut stream = stream;
        while let Some(item) = stream.next().await {
            match item {
                Ok(item) => items.push(item),
                Err(error) => {
                    assert!(stream.next().await.is_none(), "nothing after an error");
                    return (items, Some(error));
                }
            }
        }
        (items, None)
    }

    #[tokio::test]
    async fn a_stream_cut_off_between_events_ends_with_a_typed_error() {
        let long = minimax_errors::validate::ChatRequest::user(
            "MiniMax-M2",
            "one two three four five six seven eight",
        );
        for (endpoint, dialect) in [
            (Endpoint::Chat, Dialect::Native),
            (Endpoint::ChatCompatible, Dialect::Compatible),
        ] {
            let server = mock(once(endpoint, [Action::Truncate])).await;
            let stream = client(&server, fast_retry())
                .chat_stream(&long, dialect)
                .await
                .unwrap();
            let (chunks, error) = drain(stream).await;
            let text: String = chunks.iter().map(|c| c.text()).collect();
            assert!(
                !chunks.is_empty()
                    && text.len() < "You said: one two three four five six seven eight".len(),
                "{text}"
            );
            let error = error.unwrap_or_else(|| panic!("{endpoint}: {text:?} passed as complete"));
            let failure = failure(&error);
            assert!(
                matches!(
                    failure.cause,
                    Cause::Malformed {
                        malformed: minimax_errors::classify::MalformedKind::Truncated,
                        ..
                    }
                ),
                "{error}"
            );
            assert_eq!(failure.stopped, StopReason::StreamStarted);
            assert!(failure.trace_id.is_some());
            assert_eq!(
                server.stats().requests,
                1,
                "what reached the caller is not sent again"
            );
        }
        let server = mock(once(Endpoint::T2a, [Action::Truncate])).await;
        let stream = client(&server, fast_retry())
            .t2a_stream(&speech("female-shaonv"))
            .await
            .unwrap();
        let (chunks, error) = drain(stream).await;
        assert!(
            chunks.iter().all(|c| c.status == 1),
            "no final chunk arrived"
        );
        assert_eq!(
            error.map(|e| e.failure().map(|f| f.stopped)),
            Some(Some(StopReason::StreamStarted))
        );
    }

    #[tokio::test]
    async fn a_stream_lost_before_its_first_event_is_retried() {
        let server = mock(once(Endpoint::Chat, [Action::Reset, Action::Ok])).await;
        let stream = client(&server, fast_retry())
            .chat_stream(&chat(), Dialect::Native)
            .await
            .unwrap();
        let (chunks, error) = drain(stream).await;
        assert!(error.is_none(), "{error:?}");
        assert_eq!(
            chunks.iter().map(|c| c.text()).collect::<String>(),
            "You said: hello"
        );
        assert_eq!(server.stats().requests_on("chat"), 2);
    }

    #[tokio::test]
    async fn stream_requests_are_retried_until_the_stream_starts() {
        let server = mock(once(
            Endpoint::Chat,
            [Action::Code(ErrorCode::RATE_LIMIT), Action::Ok],
        ))
        .await;
        let chunks: Vec<_> = client(&server, fast_retry())
            .chat_stream(&chat(), Dialect::Native)
            .await
            .unwrap()
            .collect()
            .await;
        assert!(chunks.iter().all(Result::is_ok) && !chunks.is_empty());
        assert_eq!(server.stats().requests_on("chat"), 2);
    }
}

mod middleware {
    use super::*;

    fn client_with_middleware() -> reqwest_middleware::ClientWithMiddleware {
        reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
            .with(MiniMaxRetryMiddleware::new(fast_retry()))
            .build()
    }

    #[tokio::test]
    async fn retries_body_errors_any_reqwest_user_makes() {
        let rate = Action::Code(ErrorCode::RATE_LIMIT);
        let server = mock(once(Endpoint::Chat, [rate, rate, Action::Ok])).await;
        let response = client_with_middleware()
            .post(format!("{}/v1/text/chatcompletion_v2", server.url()))
            .bearer_auth(DEMO_KEY)
            .json(&serde_json::to_value(chat()).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["base_resp"]["status_code"], 0);
        assert_eq!(server.stats().requests_on("chat"), 3);
    }

    #[tokio::test]
    async fn passes_the_final_answer_through() {
        let server = mock(once(
            Endpoint::ChatCompatible,
            [Action::Code(ErrorCode::INVALID_PARAMS)],
        ))
        .await;
        let response = client_with_middleware()
            .post(format!("{}/v1/chat/completions", server.url()))
            .bearer_auth(DEMO_KEY)
            .json(&serde_json::to_value(chat()).unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .ends_with("(2013)")
        );
        assert_eq!(server.stats().requests_on("chat-compatible"), 1);
    }
}
